"""Cells that are safe to open: no formula injection in CSV or XLSX, no XML-illegal text.

Player-supplied strings (names, units, phones, reasons) end up in spreadsheets the
secretariat opens in Excel or LibreOffice. A cell starting with ``=`` (or ``+ - @``, tab, CR
in a CSV) would run as a formula there (``=HYPERLINK(...)``, DDE ``=cmd|...``), and a
character XML 1.0 forbids makes an .xlsx unreadable. Every report writer goes through
:func:`csv_cell` / :func:`csv_writer` or :func:`text_cell`, so the rule lives in one place.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, Final

from quiz_engine.protocol.frames import XML_FORBIDDEN_RE

if TYPE_CHECKING:  # openpyxl is only imported for real by the xlsx writer, not for a CSV
    from openpyxl.cell.cell import Cell

# OWASP "CSV injection": cells starting with these are read as formulas by spreadsheets
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
# a phone number such as "+84 912 345 678" or "(028) 3822-1234": digits and separators only, so
# even read as a formula it is plain arithmetic (no function, no DDE); it is left readable
_PHONE_LIKE_RE: Final = re.compile(r"\+?[(0-9][0-9 ().\-]*")
XML_REPLACEMENT: Final = "\ufffd"


def _phone_like(value: str) -> bool:
    return _PHONE_LIKE_RE.fullmatch(value) is not None and any(ch.isdigit() for ch in value)


def csv_cell(value: Any) -> Any:
    """One CSV cell: a string a spreadsheet would run as a formula gets a leading ``'``.

    Numbers (and None) are returned unchanged, so a negative number stays a number; a
    phone-like string (``+84 912 345 678``) is left as is.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS) or _phone_like(value):
        return value
    return "'" + value


def csv_phone(value: str) -> str:
    """A phone number written so that Excel, opening the CSV, keeps it as the text it is.

    Excel reads a CSV field made of digits as a number: ``0912345678`` becomes 912345678 (the
    leading zero lost, 12+ digits in scientific notation), and ``+84…`` is read as a formula.
    A leading ``'`` would show in the cell (in a CSV it is data, not Excel's text marker), and
    ``="0912…"`` is a formula. What Excel never reads as a number is digits with a space between
    them (a space is not a digit separator in the English or Vietnamese regional settings), so:
    a phone that already has a space and does not start with ``+``/``-`` is kept as typed; any
    other is written grouped the way Vietnamese numbers are read aloud, ``0912 345 678`` (4-3-3),
    with ``+84`` written as the national ``0`` and another country code ``+CC`` as ``00CC``
    (the international prefix dialled from Vietnam). Anything that is not a phone is unchanged.
    """
    text = " ".join(value.split())
    if (" " in text and not text.startswith(("+", "-"))) or not _phone_like(text):
        return text
    digits = re.sub(r"\D", "", text)
    if len(digits) < 5:
        return text
    if text.startswith("+84"):
        digits = "0" + digits[2:]
    elif text.startswith("+"):
        digits = "00" + digits
    groups = [digits[:4]]
    rest = digits[4:]
    while rest:
        groups.append(rest[:3])
        rest = rest[3:]
    if len(groups) > 2 and len(groups[-1]) == 1:
        last = groups.pop()
        groups[-1] += last
    return " ".join(groups)


class SafeCsvWriter:
    """:func:`csv.writer` with every cell passed through :func:`csv_cell`."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_cell(v) for v in row])


def csv_writer(out: IO[str]) -> SafeCsvWriter:
    """The only CSV writer the reports use (see the module docstring for why)."""
    return SafeCsvWriter(out)


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 forbids replaced by U+FFFD (visibly, not silently)."""
    return XML_FORBIDDEN_RE.sub(XML_REPLACEMENT, value)


def text_cell(cell: Cell, value: str) -> None:
    """Write ``value`` as a string cell: XML-safe, and never a formula (openpyxl makes any
    str starting with ``=`` a formula on assignment; ``data_type = "s"`` undoes that)."""
    cell.value = xml_text(value)
    cell.data_type = "s"
