"""XLSX output with openpyxl: one sheet per section, bold frozen headers, sized columns.

Times are stored as numbers (seconds, 3 decimals) and rates as fractions with a percent
format, so the secretariat can sort and sum them in Excel; text stays text (a phone number
keeps its leading zero), and every string is written as a string cell through
:func:`quiz_engine.reports.safe.text_cell`: a name such as ``=HYPERLINK(...)`` is never a formula.

With a :class:`~quiz_engine.reports.tables.Heading` each sheet is a printable list the way
Vietnamese administrative lists are laid out: the contest, the list's title in capitals, the
episode, its date and the rules above the table; below it the place and date and two
signature blocks ("Người lập biểu", "Thủ trưởng đơn vị") with room to sign. The header row
repeats on every printed page; the filter and the frozen panes start at the header row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from quiz_engine.reports.safe import text_cell, xml_text
from quiz_engine.reports.tables import Heading, Table

_FORMATS = {"int": "#,##0", "seconds": "0.000", "pct": "0.0%", "text": "@"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 60
SIGNING_ROWS = 4  # empty rows left under the signature blocks for the signatures


def _sheet_name(name: str, used: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("-", name).strip() or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.casefold() in used:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate.casefold())
    return candidate


def _line(ws: Worksheet, row: int, first: int, last: int, text: str, font: Font, align: str = "center") -> None:
    """One line of text merged over columns ``first``..``last`` (1-based)."""
    cell = ws.cell(row=row, column=first)
    text_cell(cell, text)
    cell.font = font
    cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    if last > first:
        ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def _title_rows(ws: Worksheet, table: Table, heading: Heading, width: int) -> int:
    """The title block; returns the row number of the table's header row."""
    _line(ws, 1, 1, width, heading.contest.upper(), Font(bold=True, size=12))
    _line(ws, 2, 1, width, (table.title or heading.report).upper(), Font(bold=True, size=14))
    ws.row_dimensions[2].height = 22
    for offset, text in enumerate(heading.lines):
        _line(ws, 3 + offset, 1, width, text, Font(italic=True))
    return 3 + len(heading.lines) + 1  # a blank row, then the header


def _signature_rows(ws: Worksheet, heading: Heading, first_row: int, width: int) -> None:
    """The place and date, then one block per signature, side by side, with room to sign."""
    blocks = len(heading.signatures) or 1
    span = max(1, width // blocks)
    starts = [1 + i * span for i in range(blocks)]
    ends = [*(s + span - 1 for s in starts[:-1]), max(width, starts[-1])]
    _line(ws, first_row, starts[-1], ends[-1], heading.place_date, Font(italic=True))
    for (role, hint), start, end in zip(heading.signatures, starts, ends, strict=True):
        _line(ws, first_row + 1, start, end, role.upper(), Font(bold=True))
        _line(ws, first_row + 2, start, end, hint, Font(italic=True))
    last = first_row + 2 + SIGNING_ROWS
    for row in range(first_row + 3, last + 1):
        ws.row_dimensions[row].height = 18
    ws.print_area = f"A1:{get_column_letter(width)}{last}"


def workbook_bytes(tables: Sequence[Table], title: str = "", heading: Heading | None = None) -> bytes:
    """The tables as an .xlsx file (bytes); with ``heading``, each sheet is a printable list."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    if title:
        wb.properties.title = xml_text(title)
    used: set[str] = set()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EDF2F7")
    for table in tables:
        ws = wb.create_sheet(_sheet_name(table.name, used))
        width = len(table.columns)
        top = _title_rows(ws, table, heading, width) if heading is not None else 1
        for c, (header, _) in enumerate(table.columns, start=1):
            cell = ws.cell(row=top, column=c)
            text_cell(cell, header)  # a column can be named after an episode id
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        widths = [len(h) for h, _ in table.columns]
        for r, row in enumerate(table.rows, start=top + 1):
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
                for (cell,) in ws.iter_rows(min_row=top + 1, max_row=top + len(table.rows), min_col=c, max_col=c):
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = f"A{top + 1}"
        if table.rows:
            ws.auto_filter.ref = f"A{top}:{get_column_letter(width)}{top + len(table.rows)}"
        if heading is not None:
            _signature_rows(ws, heading, top + len(table.rows) + 2, width)
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = f"{top}:{top}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
