"""XLSX output with openpyxl: one sheet per section, bold frozen headers, sized columns.

Times are stored as numbers (seconds, 3 decimals) and rates as fractions with a percent
format, so the secretariat can sort and sum them in Excel; text stays text (a phone number
keeps its leading zero), and every string is written as a string cell through
:func:`quiz_engine.reports.safe.text_cell`: a name such as ``=HYPERLINK(...)`` is never a formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from quiz_engine.reports.safe import text_cell, xml_text
from quiz_engine.reports.tables import Table

_FORMATS = {"int": "#,##0", "seconds": "0.000", "pct": "0.0%", "text": "@"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 60


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("-", name).strip() or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.casefold())
    return candidate


def workbook_bytes(tables: Sequence[Table], title: str = "") -> bytes:
    """The tables as an .xlsx file (bytes)."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    if title:
        wb.properties.title = xml_text(title)
    used: set[str] = set()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EDF2F7")
    for table in tables:
        ws = wb.create_sheet(_sheet_name(table.name, used))
        for c, (header, _) in enumerate(table.columns, start=1):
            cell = ws.cell(row=1, column=c)
            text_cell(cell, header)  # a column can be named after an episode id
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        widths = [len(h) for h, _ in table.columns]
        for r, row in enumerate(table.rows, start=2):
            for c, (value, (_, kind)) in enumerate(zip(row, table.columns, strict=True), start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, str):
                    text_cell(cell, value)  # never a formula, whoever typed it
                    cell.number_format = "@"
                else:
                    cell.value = value
                    if kind != "text":
                        cell.number_format = _FORMATS[kind]
                widths[c - 1] = max(widths[c - 1], len(str(value)) if value is not None else 0)
        for c, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, max(6, w + 2))
        for c, (_, kind) in enumerate(table.columns, start=1):
            if kind == "text" and widths[c - 1] > MAX_WIDTH:
                for (cell,) in ws.iter_rows(min_row=2, min_col=c, max_col=c):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
        if table.rows:
            ws.auto_filter.ref = ws.dimensions
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
