"""The unit roster: every unit that takes part, its parent (district, commune) and headcount.

Imported from the organiser's spreadsheet (.xlsx or .csv, read as the sheet shows it by
:func:`quiz_engine.banks.sheets.read_book`). Participants pick their unit from this list, never
type it, so the per-unit participation (participants ÷ headcount) is right. So the import
refuses, naming the row and column, what would make the list wrong: a missing name or
headcount, a headcount that is not a whole number, the same unit twice under one parent (also
when the two differ only in accents, case or spacing: "Phường 1" and "Phuong 1"), a code used
twice, look-alike letters or invisible characters in a name, a name that a spreadsheet would
run as a formula.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quiz_engine.banks.cells import text_problem
from quiz_engine.banks.messages import messages as bank_messages
from quiz_engine.banks.model import is_valid_id, nfc, slugify
from quiz_engine.banks.sheets import Book, Sheet, SheetError, SheetProblem, column_letter, read_book
from quiz_engine.contest.messages import messages

MAX_HEADCOUNT = 1_000_000
MAX_NAME = 200

#: roster columns: field -> header spellings (compared without accents, case or punctuation)
HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("đơn vị", "tên đơn vị", "cơ quan", "tên cơ quan", "cơ quan đơn vị", "unit", "unit name", "name"),
    "parent": ("trực thuộc", "đơn vị cấp trên", "cấp trên", "huyện", "địa phương", "parent", "parent unit",
               "district"),
    "headcount": ("số cbccvc", "số lượng", "tổng số", "số người", "biên chế", "headcount", "staff"),
    "code": ("mã", "mã đơn vị", "code", "unit code", "id"),
    "ignored": ("stt", "số thứ tự", "ghi chú", "no", "note", "notes"),
}
REQUIRED = ("name", "headcount")
_LOOKUP = {slugify(alias): name for name, aliases in HEADERS.items() for alias in aliases}
_FORMULA_START = "=+@"


def fold(text: str) -> str:
    """Accents, case and spacing removed: how a search and the duplicate check compare names."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())


@dataclass(frozen=True)
class Unit:
    code: str  # stable id: the sheet's code column, else made from parent and name
    name: str
    parent: str
    headcount: int
    row: int = 0  # where it came from (the sheet's row number), for messages

    @property
    def label(self) -> str:
        """How a participant sees it in the picker (the parent tells same-named units apart)."""
        return f"{self.name} — {self.parent}" if self.parent else self.name

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "parent": self.parent, "headcount": self.headcount}


@dataclass(frozen=True)
class Roster:
    units: tuple[Unit, ...]
    _by_code: dict[str, Unit] = field(init=False, repr=False, compare=False, hash=False)
    _folded: tuple[tuple[str, Unit], ...] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {u.code: u for u in self.units})
        object.__setattr__(self, "_folded", tuple((fold(f"{u.name} {u.parent}"), u) for u in self.units))

    def unit(self, code: str) -> Unit | None:
        return self._by_code.get(code)

    @property
    def headcount(self) -> int:
        return sum(u.headcount for u in self.units)

    def search(self, query: str, limit: int = 20) -> list[Unit]:
        """Units whose name and parent hold every word of ``query``, accents and case ignored
        ("phuong 1 hai" finds "Phường 1 — TP Hải Dương"); names starting with the query first."""
        words = fold(query).split()
        if not words:
            return list(self.units[:limit])
        hits = [(key, u) for key, u in self._folded if all(w in key for w in words)]
        first = fold(query)
        hits.sort(key=lambda h: (not h[0].startswith(first), h[1].name, h[1].parent))
        return [u for _, u in hits[:limit]]


def _header(cells: list[str]) -> dict[str, int] | None:
    found: dict[str, int] = {}
    for col, text in enumerate(cells):
        name = _LOOKUP.get(slugify(text.split("/")[0])) or _LOOKUP.get(slugify(text))
        if name and name != "ignored" and name not in found:
            found[name] = col
    return found if all(r in found for r in REQUIRED) else None


def read_roster(path: str | Path, language: str = "vi") -> Roster:
    """The roster in the spreadsheet at ``path``; every problem at once as :class:`SheetError`."""
    book = read_book(path, language)
    return parse_roster(book, language)


class _Import:
    """One roster import: its problems, located like a question sheet's, and what it has seen."""

    def __init__(self, book: Book, language: str) -> None:
        self.book, self.language = book, language
        self.T, self.BT = messages(language), bank_messages(language)
        self.problems: list[SheetProblem] = []
        self.units: list[Unit] = []
        self.seen_name: dict[tuple[str, str], tuple[str | None, int]] = {}
        self.seen_code: dict[str, tuple[str | None, int]] = {}

    def add(self, sheet: str | None, row: int, col: int | None, header: str, key: str, text: str) -> None:
        parts = [self.BT("loc_sheet", sheet=sheet)] if sheet is not None else []
        parts.append(self.T("loc_row", row=row))
        if col is not None:
            parts.append(self.T("loc_column", letter=column_letter(col), header=header))
        self.problems.append(SheetProblem(self.book.file, ", ".join(parts), key, text, sheet=sheet, row=row,
                                          column=column_letter(col) if col is not None else ""))

    def sheet(self, sheet: Sheet, index: int, cols: dict[str, int]) -> None:
        headers = sheet.rows[index][1]
        for row, cells in sheet.rows[index + 1:]:
            self.row(sheet, row, cells, cols, headers)

    def row(self, sheet: Sheet, row: int, cells: list[str], cols: dict[str, int], headers: list[str]) -> None:
        T, BT = self.T, self.BT

        def cell(name: str) -> str:
            col = cols.get(name)
            return nfc(cells[col]) if col is not None and col < len(cells) else ""

        def at(name: str) -> tuple[int | None, str]:
            col = cols.get(name)
            return col, headers[col] if col is not None and col < len(headers) else ""

        bad = False
        for name in ("name", "parent", "headcount", "code"):
            col = cols.get(name)
            if col is not None and (issue := sheet.issues.get((row, col))):
                self.add(sheet.name, row, col, at(name)[1], name, BT(issue[0], **issue[1]))
                bad = True
        if bad:
            return
        name, parent, count_text, code = cell("name"), cell("parent"), cell("headcount"), cell("code")
        if not any((name, parent, count_text, code)):
            return
        for key, value in (("name", name), ("parent", parent)):
            problem = text_problem(value) if value else None
            if problem is not None:
                self.add(sheet.name, row, *at(key), key, BT(problem[0], **problem[1]))
            elif value and value[0] in _FORMULA_START:
                self.add(sheet.name, row, *at(key), key, T("roster_formula", value=value[:40]))
            elif len(value) > MAX_NAME:
                self.add(sheet.name, row, *at(key), key, T("roster_too_long", n=len(value), limit=MAX_NAME))
            else:
                continue
            bad = True
        if not name:
            self.add(sheet.name, row, *at("name"), "name", T("roster_no_name"))
            bad = True
        headcount = _count(count_text)
        if headcount is None:
            self.add(sheet.name, row, *at("headcount"), "headcount",
                     T("roster_bad_headcount", value=count_text, max=MAX_HEADCOUNT))
            bad = True
        if code and not is_valid_id(code):
            self.add(sheet.name, row, *at("code"), "code", T("bad_id", value=code))
            bad = True
        if bad or headcount is None:
            return
        code = code or _code(name, parent)
        same = (fold(parent), fold(name))
        if same in self.seen_name:
            other = self._where(sheet.name, *self.seen_name[same])
            self.add(sheet.name, row, *at("name"), "name",
                     T("roster_duplicate", name=name, parent=parent or "—", where=other))
            return
        if code in self.seen_code:
            other = self._where(sheet.name, *self.seen_code[code])
            self.add(sheet.name, row, *(at("code") if "code" in cols else at("name")), "code",
                     T("roster_duplicate_code", code=code, where=other))
            return
        self.seen_name[same] = self.seen_code[code] = (sheet.name, row)
        self.units.append(Unit(code, name, parent, headcount, row))

    def _where(self, here: str | None, sheet: str | None, row: int) -> str:
        parts = [self.BT("loc_sheet", sheet=sheet)] if sheet is not None and sheet != here else []
        parts.append(self.BT("loc_row", row=row))
        return ", ".join(parts)


def parse_roster(book: Book, language: str = "vi") -> Roster:
    """The roster in ``book``: every visible sheet with the roster's header row is read."""
    job = _Import(book, language)
    read_any = False
    for sheet in book.sheets:
        header_at = next(((i, cols) for i, (_, cells) in enumerate(sheet.rows[:10]) if (cols := _header(cells))),
                         None)
        if header_at is None:
            continue
        if sheet.hidden:
            job.add(sheet.name, sheet.rows[header_at[0]][0], None, "", "sheet", job.BT("hidden_sheet"))
            continue
        read_any = True
        job.sheet(sheet, *header_at)
    if not read_any:
        job.problems.append(SheetProblem(book.file, "", "", job.T("roster_no_header",
                                                                  required=_required_text(language))))
    elif not job.units and not job.problems:
        job.problems.append(SheetProblem(book.file, "", "", job.T("roster_empty")))
    if job.problems:
        raise SheetError(list(job.problems), language)
    return Roster(tuple(job.units))


def _required_text(language: str) -> str:
    return "“Đơn vị”, “Số CBCCVC”" if language == "vi" else '"Unit", "Headcount"'


def _count(text: str) -> int | None:
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", cleaned):  # 1.250 or 1,250: thousands separators
        cleaned = re.sub(r"[.,]", "", cleaned)
    if not cleaned.isdigit():
        return None
    value = int(cleaned)
    return value if 1 <= value <= MAX_HEADCOUNT else None


def _code(name: str, parent: str) -> str:
    base = slugify(f"{parent} {name}" if parent else name) or "unit"
    return base[:64].rstrip("-")
