"""Import and export question banks as spreadsheets (.xlsx or .csv).

The secretariat writes questions in spreadsheets, so the importer reads a sheet **as the
sheet shows it** and every problem points at what they see: file, sheet, row number (header =
row 1 of its sheet), column letter and header, e.g. ``sheet "Tập 1", row 7, column F "Đáp án
đúng"``. What a spreadsheet can hold beyond plain text is either read as displayed or refused
by name, never skipped silently:

- merged cells fill every cell they cover (a "Tập 1" merged over three rows is the episode of
  the three); a merge across two columns is refused;
- every sheet is imported (each one an episode named after it, when the workbook has several
  question sheets and no episode column), or named in an error: a hidden sheet, a sheet with
  content but no question header; ``--sheet`` chooses sheets explicitly;
- dates, numbers and percentages are rendered with the cell's number format
  (:mod:`quiz_engine.banks.cells`): ``15/07/2021`` stays ``15/07/2021``;
- a formula gives its saved value (what Excel last showed), and one with no saved value, or
  showing an error such as ``#N/A``, is refused as a formula;
- direction controls, control characters and Cyrillic/Greek look-alikes mixed into a Latin
  word are refused; zero-width characters are dropped.

Headers are matched case- and diacritics-insensitively, in English or Vietnamese, and a
bilingual header such as "Câu hỏi / Question" works too. Messages are Vietnamese when the
headers are (or with ``lang="vi"``), English otherwise (:mod:`quiz_engine.banks.messages`).
Sizes are bounded (file, unpacked sheet data, rows, columns, merged areas), because openpyxl
would spend minutes on a merge over a million cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from quiz_engine.banks.cells import (
    answer_letter,
    cell_text,
    letter_problem,
    text_problem,
    visible,
)
from quiz_engine.banks.loader import dump_bank, parse_bank
from quiz_engine.banks.messages import Messages, messages
from quiz_engine.banks.model import (
    LANGUAGES,
    LETTERS,
    MAX_TIME_LIMIT,
    MIN_OPTIONS,
    MIN_TIME_LIMIT,
    Bank,
    EpisodeDef,
    Question,
    default_episodes,
    index_for,
    is_valid_id,
    match_key,
    nfc,
    slugify,
)
from quiz_engine.errors import BankError, BankProblem

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)

OPTION_FIELDS = tuple(f"option {letter}" for letter in LETTERS)
IGNORED = "(ignored)"
REQUIRED = ("question", "option A", "option B", "correct")

# Bounds a real question sheet never reaches (a season is ~40 questions; 5 000 rows is a lot).
MAX_FILE_MB = 20
MAX_SHEET_DATA_MB = 50  # unpacked sheet XML and shared strings: what openpyxl has to parse
MAX_ROWS = 5_000  # filled rows per sheet
MAX_COLUMNS = 64
MAX_MERGED_CELLS = 20_000  # cells one merged range may cover
MAX_MERGED_TOTAL = 200_000  # cells all merged ranges of one sheet may cover
FORMULA_SHOWN = 60  # characters of a refused formula quoted in its message

# Field -> header written by export and the template (Vietnamese / English).
HEADERS: dict[str, str] = {
    "id": "Mã câu / ID",
    "episode": "Tập / Episode",
    "episode title": "Tên tập / Episode title",
    "episode date": "Ngày phát sóng / Episode date",
    "question": "Câu hỏi / Question",
    **{f"option {x}": f"Đáp án {x} / Option {x}" for x in LETTERS},
    "correct": "Đáp án đúng / Correct",
    "time limit": "Thời gian (giây) / Time limit",
    "source": "Nguồn / Source",
}

# Accepted header spellings per language, compared after slugify() (case and diacritics do not
# matter). The language of the matches decides the language of the messages.
_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "question": ("question", "question text", "text"),
        "correct": ("correct", "correct answer", "correct option", "answer", "answer key", "key"),
        "time limit": ("time limit", "time", "seconds"),
        "source": ("source", "reference"),
        "id": ("id", "question id"),
        "episode": ("episode", "round"),
        "episode title": ("episode title",),
        "episode date": ("episode date", "date"),
        IGNORED: ("no", "note", "notes"),
    },
    "vi": {
        "question": ("câu hỏi", "nội dung", "nội dung câu hỏi"),
        "correct": ("đáp án đúng", "đáp án", "phương án đúng"),
        "time limit": ("thời gian", "thời gian trả lời", "thời gian giây"),
        "source": ("nguồn", "căn cứ", "căn cứ pháp lý", "nguồn tham khảo"),
        "id": ("mã", "mã câu", "mã câu hỏi"),
        "episode": ("tập", "số tập", "vòng", "vòng thi"),
        "episode title": ("tên tập", "tên vòng"),
        "episode date": ("ngày", "ngày phát sóng", "ngày thi"),
        IGNORED: ("stt", "số thứ tự", "ghi chú"),
    },
}
_OPTION_PREFIXES = {"en": ("option", "choice", "answer"), "vi": ("đáp án", "phương án", "lựa chọn")}
for _lang, _prefixes in _OPTION_PREFIXES.items():
    for _letter in LETTERS:
        _ALIASES[_lang][f"option {_letter}"] = tuple(f"{prefix} {_letter}" for prefix in _prefixes)

# slug -> (field, language of the spelling; "" for a bare letter such as "A")
_HEADER_LOOKUP: dict[str, tuple[str, str]] = {
    slugify(alias): (name, lang) for lang, table in _ALIASES.items() for name, aliases in table.items()
    for alias in aliases
}
for _letter in LETTERS:
    _HEADER_LOOKUP[slugify(_letter)] = (f"option {_letter}", "")

_MERGE_RE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?"')
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _column_letter(index: int) -> str:
    """Spreadsheet column letter for a 0-based column index (0 -> "A", 26 -> "AA")."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _column_index(letters: bytes | str) -> int:
    """0-based column index of a column letter ("A" -> 0)."""
    text = letters.decode() if isinstance(letters, bytes) else letters
    n = 0
    for ch in text:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def _header_match(header: str) -> tuple[str, str] | None:
    """(field, language) a header names, or None; drops "(…)" notes, tries each "/" part."""
    without_notes = re.sub(r"\([^)]*\)", " ", nfc(header))
    for part in re.split(r"[/|\n]", without_notes):
        cleaned = part.strip().strip(":*").strip()
        if cleaned == "#":
            return IGNORED, ""
        key = slugify(cleaned)
        if key in _HEADER_LOOKUP:
            return _HEADER_LOOKUP[key]
    return None


def _header_field(header: str) -> str | None:
    """Field a header names, or None."""
    match = _header_match(header)
    return match[0] if match else None


@dataclass(frozen=True)
class SheetProblem(BankProblem):
    """A problem in a sheet, with the parts of its place for programs (and tests).

    ``location`` already names the column by its header, so the text form leaves out ``field``.
    """

    sheet: str | None = None  # None for a CSV file
    row: int = 0
    column: str = ""  # letter, "" when the problem is about a whole row or sheet
    key: str = ""  # the message key (quiz_engine.banks.messages)

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}" if self.location else f"{self.file}: {self.message}"


class SheetError(BankError):
    """A sheet that cannot be imported; ``lang`` is the language its problems are worded in."""

    def __init__(self, problems: list[BankProblem], lang: str) -> None:
        super().__init__(problems)
        self.lang = lang


CellIssue = tuple[str, dict[str, Any]]  # (message key, params)


@dataclass
class _Sheet:
    """One sheet's cells as text, with real row numbers (the header is ``rows[0]``)."""

    name: str | None  # None for CSV
    rows: list[tuple[int, list[str]]]
    dates: dict[tuple[int, int], dt.date] = field(default_factory=dict)  # date-typed cells (row, col)
    issues: dict[tuple[int, int], CellIssue] = field(default_factory=dict)  # unreadable cells (row, col)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # row1, col1, row2, col2 (0-based cols)
    problems: list[tuple[int, int | None, str, dict[str, Any]]] = field(default_factory=list)  # row, col, key
    hidden: bool = False


@dataclass
class _Book:
    file: str
    sheets: list[_Sheet]
    bank_id: str | None = None
    title: str | None = None


class _Problems:
    """Every problem of one import, located and worded in the import's language."""

    def __init__(self, file: str, T: Messages) -> None:
        self.file = file
        self.T = T
        self.items: list[BankProblem] = []
        self.muted: set[tuple[str | None, int, int]] = set()  # cells already reported as unreadable

    def where(self, sheet: str | None, row: int | None = None, column: int | None = None, header: str = "") -> str:
        parts = [] if sheet is None else [self.T("loc_sheet", sheet=sheet)]
        if row is not None:
            parts.append(self.T("loc_row", row=row))
        if column is not None:
            letter = _column_letter(column)
            parts.append(self.T("loc_column", letter=letter, header=header) if header else
                         self.T("loc_column_bare", letter=letter))
        return ", ".join(parts)

    def ref(self, here: str | None, sheet: str | None, row: int) -> str:
        """Another row, named as briefly as it can be from a problem on sheet ``here``."""
        return self.where(sheet if sheet != here else None, row)

    def add(self, sheet: str | None, row: int | None, column: int | None, header: str, name: str, msg: str,
            /, **params: Any) -> None:
        if column is not None and row is not None and (sheet, row, column) in self.muted:
            return
        if "script" in params:
            params = {**params, "script": self.T(f"script_{params['script']}")}
        self.items.append(SheetProblem(self.file, self.where(sheet, row, column, header), name, self.T(msg, **params),
                                       sheet, row or 0, "" if column is None else _column_letter(column), msg))

    def fail(self, msg: str, /, **params: Any) -> SheetError:
        """The error for a problem with the whole file (nothing else can be checked)."""
        return SheetError([SheetProblem(self.file, "", "", self.T(msg, **params), key=msg)], self.T.lang)

    def error(self) -> SheetError:
        return SheetError(self.items, self.T.lang)


# --- reading ---------------------------------------------------------------------------------------


def _scan_package(path: Path, T: Messages) -> bool:
    """Refuse workbooks openpyxl would choke on; True if any sheet holds a formula."""
    out = _Problems(str(path), T)
    try:
        with zipfile.ZipFile(path) as z:
            infos = {i.filename: i for i in z.infolist()}
            data_parts = [n for n in infos if n.startswith("xl/worksheets/") and n.endswith(".xml")]
            data_parts += [n for n in infos if n == "xl/sharedStrings.xml"]
            total = sum(infos[n].file_size for n in data_parts)
            if total > MAX_SHEET_DATA_MB * 1024 * 1024:
                raise out.fail("unpacked_too_big", size=total // (1024 * 1024), limit=MAX_SHEET_DATA_MB)
            names = _sheet_names(z, infos)
            formulas = False
            for part in data_parts:
                if not part.startswith("xl/worksheets/"):
                    continue
                xml = z.read(part)
                formulas = formulas or _FORMULA_RE.search(xml) is not None
                total = 0
                for m in _MERGE_RE.finditer(xml):
                    if m.group(3) is None:
                        continue
                    rows = abs(int(m.group(4)) - int(m.group(2))) + 1
                    cols = abs(_column_index(m.group(3)) - _column_index(m.group(1))) + 1
                    total += rows * cols
                    if rows * cols > MAX_MERGED_CELLS:
                        ref = f"{m.group(1).decode()}{m.group(2).decode()}:{m.group(3).decode()}{m.group(4).decode()}"
                        out.add(names.get(part), None, None, "", "", "merge_too_big", cells=ref, count=rows * cols,
                                limit=MAX_MERGED_CELLS)
                if total > MAX_MERGED_TOTAL and not out.items:
                    out.add(names.get(part), None, None, "", "", "merges_too_many", count=total,
                            limit=MAX_MERGED_TOTAL)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, RuntimeError, NotImplementedError) as error:
        raise out.fail("cannot_read", error=error) from None
    if out.items:
        raise out.error()
    return formulas


def _sheet_names(z: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    """Worksheet part name -> sheet title, from the workbook's relationships (best effort)."""
    try:
        if any(infos[n].file_size > 5 * 1024 * 1024 for n in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels")):
            return {}
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): str(r.get("Target", "")) for r in rels}
    out: dict[str, str] = {}
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet") and sheet.get(f"{_REL_NS}id") in targets:
            target = targets[sheet.get(f"{_REL_NS}id")].lstrip("/")
            out[target if target.startswith("xl/") else f"xl/{target}"] = str(sheet.get("name", ""))
    return out


def _formula_text(cell: Any) -> str | None:
    """The formula of a cell loaded with formulas, or None when it holds a plain value."""
    if cell is None:
        return None
    value = cell.value
    text = getattr(value, "text", None)  # ArrayFormula / DataTableFormula
    if isinstance(text, str):
        formula = text
    elif cell.data_type == "f" and isinstance(value, str):
        formula = value
    else:
        return None
    formula = formula if formula.startswith("=") else "=" + formula
    return formula if len(formula) <= FORMULA_SHOWN else formula[: FORMULA_SHOWN - 1] + "…"


def _read_worksheet(ws: Any, formulas_ws: Any, language: str) -> _Sheet:
    sheet = _Sheet(str(ws.title), [], hidden=ws.sheet_state != "visible")
    cells: dict[tuple[int, int], Any] = ws._cells  # openpyxl keeps only the cells the file has
    beyond = sorted((r, c) for (r, c), cell in cells.items() if c > MAX_COLUMNS and cell.value not in (None, ""))
    if beyond:
        r, c = beyond[0]
        sheet.problems.append((r, None, "too_many_columns", {"cell": f"{_column_letter(c - 1)}{r}",
                                                             "limit": MAX_COLUMNS}))
    grid: dict[int, dict[int, str]] = {}
    for (r, c), cell in cells.items():
        if c > MAX_COLUMNS:
            continue
        col = c - 1
        formula = _formula_text(formulas_ws._cells.get((r, c))) if formulas_ws is not None else None
        value = cell.value
        if cell.data_type == "e":
            sheet.issues[(r, col)] = (("formula_error", {"formula": formula, "error": value}) if formula else
                                      ("cell_error", {"error": value}))
            grid.setdefault(r, {})[col] = ""
            continue
        if value is None or value == "":
            if formula:
                sheet.issues[(r, col)] = ("formula_no_value", {"formula": formula})
                grid.setdefault(r, {})[col] = ""
            continue
        fmt_id = getattr(getattr(cell, "_style", None), "numFmtId", None)
        grid.setdefault(r, {})[col] = cell_text(value, cell.number_format or "General", fmt_id, language)
        if isinstance(value, dt.datetime):
            sheet.dates[(r, col)] = value.date()
        elif isinstance(value, dt.date):
            sheet.dates[(r, col)] = value
    for merged in ws.merged_cells.ranges:
        r1, c1, r2, c2 = merged.min_row, merged.min_col - 1, merged.max_row, min(merged.max_col, MAX_COLUMNS) - 1
        sheet.merges.append((r1, c1, r2, c2))
        top = grid.get(r1, {}).get(c1, "")
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) == (r1, c1):
                    continue
                if top:
                    grid.setdefault(r, {})[c] = top
                if (r1, c1) in sheet.dates:
                    sheet.dates[(r, c)] = sheet.dates[(r1, c1)]
                if (r1, c1) in sheet.issues:
                    sheet.issues[(r, c)] = sheet.issues[(r1, c1)]
    filled = sorted(r for r, row in grid.items() if any(row.values()) or any((r, c) in sheet.issues for c in row))
    if len(filled) > MAX_ROWS:
        sheet.problems.append((filled[MAX_ROWS], None, "too_many_rows", {"limit": MAX_ROWS}))
        filled = filled[: MAX_ROWS + 1]
    for r in filled:
        row = grid[r]
        width = max(row) + 1
        sheet.rows.append((r, [row.get(c, "") for c in range(width)]))
    return sheet


def _read_excel(path: Path, language: str, T: Messages) -> _Book:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    has_formulas = _scan_package(path, T)
    try:
        values = load_workbook(path, data_only=True, keep_links=False)
        formulas = load_workbook(path, data_only=False, keep_links=False) if has_formulas else None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError, SyntaxError) as error:
        raise _Problems(str(path), T).fail("cannot_read", error=error) from None
    sheets = []
    for index, ws in enumerate(values.worksheets):
        fws = formulas.worksheets[index] if formulas is not None else None
        sheets.append(_read_worksheet(ws, fws, language))
    props = values.properties
    return _Book(str(path), sheets, props.identifier or None, props.title or None)


def _read_csv(path: Path, T: Messages) -> _Book:
    out = _Problems(str(path), T)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise out.fail("not_utf8_csv") from None
    # Excel saves ";"-separated CSV in locales with a decimal comma: take the header's
    # most frequent separator, but keep Excel's quoting rules (doubled quotes).
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    sheet = _Sheet(None, [])
    # Number records, not lines: a quoted cell with a newline is still one spreadsheet row.
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter),
                                       start=1):
            texts = [_csv_text(c) for c in cells[:MAX_COLUMNS]]
            if any(texts):
                if len(sheet.rows) >= MAX_ROWS:
                    sheet.problems.append((number, None, "too_many_rows", {"limit": MAX_ROWS}))
                    break
                sheet.rows.append((number, texts))
    except csv.Error as error:
        raise out.fail("csv_broken", error=error) from None
    return _Book(str(path), [sheet])


def _csv_text(cell: str) -> str:
    """A CSV cell as text; ``'=…`` (how our exports keep a formula-like text inert) reads ``=…``."""
    text = visible(cell)
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def _read_book(path: Path, language: str, T: Messages) -> _Book:
    out = _Problems(str(path), T)
    if not path.is_file():
        raise out.fail("file_not_found")
    suffix = path.suffix.lower()
    if suffix not in (*EXCEL_SUFFIXES, *CSV_SUFFIXES):
        raise out.fail("unsupported_type", suffix=suffix, hint=T("xls_hint") if suffix == ".xls" else "")
    size = path.stat().st_size
    if size > MAX_FILE_MB * 1024 * 1024:
        raise out.fail("file_too_big", size=size // (1024 * 1024), limit=MAX_FILE_MB)
    return _read_excel(path, language, T) if suffix in EXCEL_SUFFIXES else _read_csv(path, T)


Book = _Book
Sheet = _Sheet


def read_book(path: str | Path, language: str = "vi") -> _Book:
    """A workbook's (or CSV's) sheets as the spreadsheet shows them, with the same bounds and
    refusals as a question sheet: for the other importers (the online contest's unit roster).
    Raises :class:`SheetError` for a file that cannot be read at all."""
    return _read_book(Path(path), language, messages(language))


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column (0 -> "A")."""
    return _column_letter(index)


# --- headers -------------------------------------------------------------------------------------


def _header_languages(sheet: _Sheet) -> tuple[int, int, int]:
    """(fields recognised, Vietnamese spellings, English spellings) in the sheet's header row."""
    if not sheet.rows:
        return 0, 0, 0
    matches = [m for m in (_header_match(h) for h in sheet.rows[0][1] if h) if m is not None and m[0] != IGNORED]
    return len(matches), sum(1 for _, lang in matches if lang == "vi"), sum(1 for _, lang in matches if lang == "en")


def _header_merges(sheet: _Sheet, out: _Problems) -> set[int]:
    """Report merges over the header row; the columns a merged header cell only covers."""
    header_row = sheet.rows[0][0]
    covered: set[int] = set()
    for r1, c1, r2, c2 in sheet.merges:
        if not r1 <= header_row <= r2:
            continue
        ref = f"{_column_letter(c1)}{r1}:{_column_letter(c2)}{r2}"
        if r2 > r1:
            out.add(sheet.name, r1, None, "", "", "merge_header", cells=ref)
        elif c2 > c1:
            out.add(sheet.name, r1, None, "", "", "merge_header_columns", cells=ref)
        covered.update(range(c1 + 1, c2 + 1))
    return covered


def _map_header(sheet: _Sheet, out: _Problems) -> tuple[int, dict[str, int], dict[int, str]]:
    """Header row number, field -> column index and column index -> header text."""
    header_row, headers = sheet.rows[0]
    covered = _header_merges(sheet, out)
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header or index in covered:
            continue
        name = _header_field(header)
        if name is None:
            out.add(sheet.name, header_row, index, header, "header", "unknown_column", header=header)
        elif name == IGNORED:
            continue
        elif name in columns:
            out.add(sheet.name, header_row, index, header, "header", "repeated_column", header=header,
                    other=_column_letter(columns[name]), name=name)
        else:
            columns[name] = index
    for required in REQUIRED:
        if required not in columns:
            out.add(sheet.name, header_row, None, "", required, "missing_column", header=HEADERS[required])
    return header_row, columns, {i: h for i, h in enumerate(headers) if h}


def _check_merges(sheet: _Sheet, header_row: int, columns: dict[str, int], out: _Problems) -> None:
    """Merges of question rows the fill-down cannot read as shown: one value over two fields."""
    names = {index: name for name, index in columns.items()}
    for r1, c1, r2, c2 in sheet.merges:
        ref = f"{_column_letter(c1)}{r1}:{_column_letter(c2)}{r2}"
        if r1 <= header_row:
            continue  # a title above the header, or the header (reported by _header_merges)
        covered = [names[c] for c in range(c1, c2 + 1) if c in names]
        if len(covered) > 1:
            headers = sheet.rows[0][1]
            shown = ", ".join(out.T.quote(headers[columns[n]]) for n in covered)
            out.add(sheet.name, r1, None, "", "", "merge_across_columns", cells=ref, columns=shown)


# --- rows ----------------------------------------------------------------------------------------


def _parse_seconds(text: str) -> float | None:
    try:
        return float(text.replace(",", ".").rstrip("sS").strip())
    except ValueError:
        return None


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    """Text of the named column in one row ("" when the column or cell is absent)."""
    index = columns.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


@dataclass
class _Row:
    sheet: str | None
    number: int
    question: Question


TEXT_FIELDS = ("question", *OPTION_FIELDS, "source", "episode", "episode title", "id")


@dataclass
class _SheetPlan:
    sheet: _Sheet
    header_row: int
    columns: dict[str, int]
    headers: dict[int, str]
    episode_from_name: bool = False  # the sheet is an episode named after it
    issues: dict[int, list[tuple[int, CellIssue]]] = field(default_factory=dict)  # row -> unreadable cells

    def __post_init__(self) -> None:
        for (r, c), issue in self.sheet.issues.items():
            self.issues.setdefault(r, []).append((c, issue))


def _dup_key(text: str) -> str:
    """Duplicate key for options: also equal when they differ only by width (``１`` and ``1``)."""
    return match_key(unicodedata.normalize("NFKC", text))


def _parse_row(plan: _SheetPlan, number: int, cells: list[str], ordinal: int, out: _Problems) -> _Row | None:
    sheet, columns = plan.sheet, plan.columns
    name = sheet.name

    def cell(field_name: str) -> str:
        return _cell(cells, columns, field_name)

    def add(field_name: str, msg: str, /, **params: Any) -> None:
        index = columns.get(field_name)
        out.add(name, number, index, plan.headers.get(index, "") if index is not None else "", field_name, msg,
                **params)

    before = len(out.items)
    fields = {i: f for f, i in columns.items()}
    for c, (msg, params) in plan.issues.get(number, []):
        if c in fields:  # a formula in an ignored column (notes) does not matter
            out.add(name, number, c, plan.headers.get(c, ""), fields[c], msg, **params)
            out.muted.add((name, number, c))
    for field_name in TEXT_FIELDS:
        value = cell(field_name)
        issue = text_problem(value) if value else None
        if issue is not None:
            add(field_name, issue[0], **issue[1])
            out.muted.add((name, number, columns[field_name]))

    text = cell("question")
    if not text:
        add("question", "missing_question")

    present = [f for f in OPTION_FIELDS if f in columns]
    values = [cell(f) for f in present]
    unreadable = {i for i, f in enumerate(present) if (name, number, columns[f]) in out.muted}
    filled = [i for i, v in enumerate(values) if v or i in unreadable]
    last = filled[-1] if filled else -1
    options: list[str] = []
    seen: dict[str, str] = {}
    for i, (field_name, value) in enumerate(zip(present[: last + 1], values[: last + 1], strict=True)):
        label = out.T("option_label", letter=field_name[-1])
        if not value:
            if i not in unreadable:
                add(field_name, "option_gap", label=label)
            continue
        key = _dup_key(value)
        if key in seen:
            add(field_name, "option_duplicate", label=label, value=value, other=seen[key])
        else:
            seen[key] = label
        options.append(value)
    if len(options) < MIN_OPTIONS and last + 1 < MIN_OPTIONS:
        missing = present[min(last + 1, len(present) - 1)]
        add(missing, "too_few_options", min=MIN_OPTIONS)

    correct = answer_letter(cell("correct"))
    answer: int | None = None
    if not correct:
        add("correct", "missing_correct")
    else:
        answer = index_for(correct)
        if answer is None:
            look = letter_problem(correct)
            if look is not None:
                add("correct", look[0], **look[1])
            else:
                add("correct", "correct_not_letter", value=correct)
        elif answer > last:
            add("correct", "correct_unknown_letter", letter=correct.strip().upper())

    time_limit = 15.0
    raw_time = cell("time limit")
    if raw_time:
        seconds = _parse_seconds(raw_time)
        if seconds is None:
            add("time limit", "time_not_number", value=raw_time)
        elif not MIN_TIME_LIMIT <= seconds <= MAX_TIME_LIMIT:
            add("time limit", "time_out_of_range", value=raw_time, min=f"{MIN_TIME_LIMIT:g}", max=f"{MAX_TIME_LIMIT:g}")
        else:
            time_limit = seconds

    qid = cell("id") or f"q{ordinal}"
    if not is_valid_id(qid):
        add("id", "bad_id", value=qid)

    if len(out.items) > before or answer is None:
        return None
    question = Question(qid, text, tuple(options), answer, time_limit, cell("source"))
    return _Row(name, number, question)


@dataclass
class _EpisodeDraft:
    id: str
    title: str
    date: str | None
    first: str  # where it was first named, for messages
    question_ids: list[str] = field(default_factory=list)


def _episode_id(value: str, ordinal: int) -> str:
    if is_valid_id(value):
        return value
    return slugify(value) or f"ep{ordinal}"


_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


def _episode_date(plan: _SheetPlan, number: int, cells: list[str], out: _Problems, language: str) -> str | None:
    """The row's episode date: a date cell as it is, a text date as ISO or (vi) day/month/year."""
    index = plan.columns.get("episode date")
    if index is None:
        return None
    if (number, index) in plan.sheet.dates:
        return plan.sheet.dates[(number, index)].isoformat()
    raw = _cell(cells, plan.columns, "episode date")
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    m = _DAY_FIRST.fullmatch(raw)
    if m and language == "vi":
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        except ValueError:
            pass
    example = "05/12/2026, 2026-12-05" if language == "vi" else "2026-12-05"
    out.add(plan.sheet.name, number, index, plan.headers.get(index, ""), "episode date", "bad_date", value=raw,
            example=example)
    return None


class _Episodes:
    """Episodes in order of first appearance, over every sheet."""

    def __init__(self, out: _Problems, language: str) -> None:
        self.out = out
        self.language = language
        self.drafts: dict[str, _EpisodeDraft] = {}
        self.ids: dict[str, str] = {}

    def add_sheet(self, plan: _SheetPlan, parsed: dict[int, _Row]) -> None:
        out, sheet, columns = self.out, plan.sheet, plan.columns
        rows = sheet.rows[1:]
        named = [(n, _cell(c, columns, "episode")) for n, c in rows]
        used = plan.episode_from_name or any(v for _, v in named)
        if not used:
            return
        first_named = next(((n, v) for n, v in named if v), None)
        for number, cells in rows:
            value = (sheet.name or "") if plan.episode_from_name else _cell(cells, columns, "episode")
            index = columns.get("episode")
            header = plan.headers.get(index, "") if index is not None else ""
            if not value:
                if first_named is not None and (sheet.name, number, index) not in out.muted:
                    out.add(sheet.name, number, index, header, "episode", "no_episode",
                            other=out.ref(sheet.name, sheet.name, first_named[0]), name=first_named[1])
                continue
            title = _cell(cells, columns, "episode title")
            date = _episode_date(plan, number, cells, out, self.language)
            draft = self.drafts.get(value)
            if draft is None:
                eid = _episode_id(value, len(self.drafts) + 1)
                if eid in self.ids:
                    out.add(sheet.name, number, index, header, "episode", "episode_same_id", value=value, id=eid,
                            other=self.ids[eid])
                self.ids[eid] = value
                draft = _EpisodeDraft(eid, title or value, date, out.where(sheet.name, number))
                self.drafts[value] = draft
            else:
                if title and title != draft.title:
                    t_index = columns["episode title"]
                    out.add(sheet.name, number, t_index, plan.headers.get(t_index, ""), "episode title",
                            "episode_title_conflict", value=value, title=draft.title, other=draft.first)
                if date and draft.date and date != draft.date:
                    d_index = columns["episode date"]
                    out.add(sheet.name, number, d_index, plan.headers.get(d_index, ""), "episode date",
                            "episode_date_conflict", value=value, date=draft.date, other=draft.first)
                elif date:
                    draft.date = date
            if number in parsed:
                draft.question_ids.append(parsed[number].question.id)

    def result(self) -> list[EpisodeDef]:
        return [EpisodeDef(d.id, d.title, tuple(d.question_ids), d.date) for d in self.drafts.values()]


# --- the import ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetImport:
    """What an import read: the bank, the language of its messages, the sheets it used."""

    bank: Bank
    lang: str
    sheets: tuple[str, ...]  # names of the sheets imported (empty for a CSV file)
    skipped: tuple[str, ...]  # sheets with content left out because --sheet did not name them


def _same_name(a: str, b: str) -> bool:
    return nfc(a).casefold() == nfc(b).casefold()


def _choose_sheets(book: _Book, wanted: Sequence[str] | None, out: _Problems) -> tuple[list[_Sheet], list[str]]:
    """The sheets to import and the skipped ones; names unknown, hidden or non-question sheets."""
    with_content = [s for s in book.sheets if s.rows or s.problems]
    if wanted and any(s.name is not None for s in book.sheets):  # a CSV file has one unnamed sheet
        chosen: list[_Sheet] = []
        for name in wanted:
            match = next((s for s in book.sheets if s.name == name), None) or next(
                (s for s in book.sheets if s.name is not None and _same_name(s.name, name)), None)
            if match is None:
                available = ", ".join(out.T.quote(s.name or "") for s in book.sheets)
                out.add(None, None, None, "", "", "unknown_sheet", name=name, available=available)
            elif match not in chosen:
                chosen.append(match)
        return chosen, [s.name or "" for s in with_content if s not in chosen]
    if not with_content:
        return [], []
    if len(with_content) == 1 and not with_content[0].hidden:
        return with_content, []
    chosen = []
    required = ", ".join(out.T.quote(HEADERS[r].split(" / ")[0 if out.T.lang == "vi" else 1]) for r in REQUIRED)
    for sheet in with_content:
        if sheet.hidden:
            out.add(sheet.name, None, None, "", "", "hidden_sheet")
        elif _header_languages(sheet)[0] == 0:
            out.add(sheet.name, None, None, "", "", "not_question_sheet", required=required)
        else:
            chosen.append(sheet)
    return chosen, []


def read_sheet_bank(
    path: str | Path,
    bank_id: str | None = None,
    title: str | None = None,
    language: str = "vi",
    lang: str | None = None,
    sheets: Sequence[str] | None = None,
) -> SheetImport:
    """Build a bank from a sheet file; raises :class:`BankError` naming sheet, row and column.

    ``language`` is the bank's (and the region its dates and numbers are read in); ``lang``
    the language of the messages (default: the headers' language); ``sheets`` limits the
    import to the named sheets of a workbook.
    """
    path = Path(path)
    explicit = lang if lang in ("vi", "en") else None
    book = _read_book(path, language, messages(explicit))
    found = [_header_languages(s) for s in book.sheets if s.rows]
    vi_votes, en_votes = sum(f[1] for f in found), sum(f[2] for f in found)
    final_lang = explicit or ("vi" if vi_votes > en_votes else "en")
    out = _Problems(str(path), messages(final_lang))
    if language not in LANGUAGES:
        out.add(None, None, None, "", "language", "bad_language", choices=", ".join(LANGUAGES))
    chosen, skipped = _choose_sheets(book, sheets, out)
    if not chosen and not out.items:
        if any(s.rows for s in book.sheets):
            out.add(None, None, None, "", "", "no_question_sheets")
        else:
            first = book.sheets[0].name if book.sheets else None
            out.add(first, 1, None, "", "", "sheet_empty")
    plans: list[_SheetPlan] = []
    for sheet in chosen:
        for at_row, at_col, msg, params in sheet.problems:
            out.add(sheet.name, at_row, at_col, "", "", msg, **params)
        if not sheet.rows:
            out.add(sheet.name, 1, None, "", "", "sheet_empty")
            continue
        header_row, columns, headers = _map_header(sheet, out)
        _check_merges(sheet, header_row, columns, out)
        plans.append(_SheetPlan(sheet, header_row, columns, headers, False))
    if out.items:
        raise out.error()
    several = len(plans) > 1
    for plan in plans:
        plan.episode_from_name = several and not any(_cell(c, plan.columns, "episode") for _, c in plan.sheet.rows[1:])

    parsed: dict[tuple[str | None, int], _Row] = {}
    id_rows: dict[str, tuple[str | None, int]] = {}
    text_rows: dict[str, tuple[str | None, int]] = {}
    episodes = _Episodes(out, language)
    ordinal = 0
    for plan in plans:
        sheet_rows: dict[int, _Row] = {}
        data = plan.sheet.rows[1:]
        if not data:
            out.add(plan.sheet.name, plan.header_row, None, "", "", "no_rows")
        for number, cells in data:
            ordinal += 1
            row = _parse_row(plan, number, cells, ordinal, out)
            if row is None:
                continue
            q = row.question
            if q.id in id_rows:
                index = plan.columns.get("id")
                other = out.ref(plan.sheet.name, *id_rows[q.id])
                out.add(plan.sheet.name, number, index, plan.headers.get(index, "") if index is not None else "",
                        "id", "duplicate_id", value=q.id, other=other)
            else:
                id_rows[q.id] = (plan.sheet.name, number)
            key = match_key(q.text)
            if key in text_rows:
                index = plan.columns["question"]
                out.add(plan.sheet.name, number, index, plan.headers.get(index, ""), "question", "duplicate_text",
                        other=out.ref(plan.sheet.name, *text_rows[key]))
            else:
                text_rows[key] = (plan.sheet.name, number)
            parsed[(plan.sheet.name, number)] = row
            sheet_rows[number] = row
        episodes.add_sheet(plan, sheet_rows)
    if out.items:
        raise out.error()

    final_id = bank_id or (book.bank_id if book.bank_id and is_valid_id(book.bank_id) else None)
    final_id = final_id or slugify(path.stem) or "bank"
    final_title = nfc(title or book.title or path.stem)
    questions = tuple(r.question for r in parsed.values())
    found_episodes = episodes.result()
    bank = Bank(
        final_id,
        final_title,
        language,
        questions,
        tuple(found_episodes) if found_episodes else default_episodes(final_title, questions),
    )
    # The TOML rules are the single definition of a valid bank: check the result against them.
    try:
        checked = parse_bank(dump_bank(bank), str(path), final_lang)
    except BankError as error:
        raise SheetError(error.problems, final_lang) from None
    names = tuple(p.sheet.name for p in plans if p.sheet.name is not None)
    return SheetImport(checked, final_lang, names, tuple(skipped))


def import_sheet(
    path: str | Path,
    bank_id: str | None = None,
    title: str | None = None,
    language: str = "vi",
    lang: str | None = None,
    sheets: Sequence[str] | None = None,
) -> Bank:
    """Build a bank from a sheet; raises :class:`BankError` naming sheet, row and column."""
    return read_sheet_bank(path, bank_id, title, language, lang, sheets).bank


def _layout(bank: Bank) -> list[str]:
    """Columns to write: the template layout, plus episode title/date when they carry data."""
    columns = ["episode"]
    explicit = not bank.has_default_episodes
    if explicit and any(e.title != e.id for e in bank.episodes):
        columns.append("episode title")
    if explicit and any(e.date for e in bank.episodes):
        columns.append("episode date")
    return [
        *columns,
        "question",
        *OPTION_FIELDS,
        "correct",
        "time limit",
        "source",
        "id",
    ]


def _rows(bank: Bank, layout: list[str]) -> list[list[str | float]]:
    episode_of: dict[str, EpisodeDef] = {}
    if not bank.has_default_episodes:
        for episode in bank.episodes:
            for qid in episode.question_ids:
                episode_of[qid] = episode
    # Questions in episode order first, so the sheet reads like the show; then the rest.
    if bank.has_default_episodes:
        ordered = list(bank.questions)
    else:
        ordered = [bank.question(qid) for e in bank.episodes for qid in e.question_ids]
        used = {q.id for q in ordered}
        ordered += [q for q in bank.questions if q.id not in used]
    rows: list[list[str | float]] = []
    for q in ordered:
        owner = episode_of.get(q.id)
        values: dict[str, str | float] = {
            "id": q.id,
            "episode": owner.id if owner else "",
            "episode title": owner.title if owner else "",
            "episode date": (owner.date or "") if owner else "",
            "question": q.text,
            "correct": q.answer_letter,
            "time limit": int(q.time_limit) if q.time_limit.is_integer() else q.time_limit,
            "source": q.source,
        }
        for i, option in enumerate(q.options):
            values[OPTION_FIELDS[i]] = option
        rows.append([values.get(name, "") for name in layout])
    return rows


def export_sheet(bank: Bank, path: str | Path) -> None:
    """Write ``bank`` as .xlsx or .csv in the layout :func:`import_sheet` reads back."""
    layout = _layout(bank)
    _write_table(Path(path), layout, _rows(bank, layout), bank)


# Example rows of the template the secretariat copies (facts checked like the season bank).
TEMPLATE_LAYOUT = [
    "episode",
    "question",
    *OPTION_FIELDS,
    "correct",
    "time limit",
    "source",
    "id",
]
TEMPLATE_ROWS: list[list[str | float]] = [
    [
        "Tập 1",
        (
            "Nghị quyết số 76/NQ-CP ngày 15/7/2021 ban hành Chương trình tổng thể cải cách "
            "hành chính nhà nước cho giai đoạn nào?"
        ),
        "2011–2020",
        "2016–2020",
        "2021–2030",
        "2021–2025",
        "",
        "",
        "C",
        20,
        "Nghị quyết số 76/NQ-CP ngày 15/7/2021 của Chính phủ",
        "",
    ],
    [
        "Tập 1",
        "Ngày nào hằng năm là Ngày Chuyển đổi số quốc gia?",
        "10/10",
        "09/12",
        "15/7",
        "01/7",
        "",
        "",
        "A",
        15,
        "Quyết định số 505/QĐ-TTg ngày 22/4/2022 của Thủ tướng Chính phủ",
        "",
    ],
    [
        "Tập 1",
        (
            "Theo Nghị định số 42/2022/NĐ-CP, dịch vụ công trực tuyến toàn trình cho phép "
            "thực hiện và giải quyết thủ tục hành chính trên môi trường mạng. Đúng hay sai?"
        ),
        "Sai",
        "Đúng",
        "",
        "",
        "",
        "",
        "B",
        10,
        "Nghị định số 42/2022/NĐ-CP của Chính phủ",
        "",
    ],
]


def write_template(path: str | Path) -> None:
    """Write the blank-able template sheet (.xlsx or .csv) with three example rows."""
    _write_table(Path(path), TEMPLATE_LAYOUT, TEMPLATE_ROWS, None)


def _write_table(path: Path, layout: list[str], rows: list[list[str | float]], bank: Bank | None) -> None:
    # imported lazily: the reports package pulls in the store, which reading a bank never needs
    from quiz_engine.reports.safe import csv_writer, text_cell

    header = [HEADERS[name] for name in layout]
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        # BOM so that Excel opens Vietnamese text as UTF-8; a text such as "=HYPERLINK(…)" gets the
        # leading "'" that keeps it inert (reports/safe.py), and the importer reads it back without.
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv_writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
        return
    if suffix not in EXCEL_SUFFIXES:
        raise BankError(
            [
                BankProblem(
                    str(path),
                    "",
                    "",
                    f"unsupported file type {suffix!r}: use .xlsx or .csv",
                )
            ]
        )
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Questions"
    table: list[list[str | float]] = [list(header), *rows]
    for r, values in enumerate(table, start=1):
        for c, value in enumerate(values, start=1):
            if isinstance(value, str):
                text_cell(sheet.cell(row=r, column=c), value)  # a question "=…" is text, never a formula
            else:
                sheet.cell(row=r, column=c, value=value)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = {"question": 60, "source": 40, "episode title": 24}
    wrap = Alignment(wrap_text=True, vertical="top")
    last_row = max(len(rows) + 1, 200)  # pre-format empty rows the secretariat will fill
    for index, name in enumerate(layout):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(name, 18 if name.startswith("option") else 14)
        for row_number in range(2, last_row + 1):
            cell = sheet[f"{letter}{row_number}"]
            if name in ("question", "source") or name.startswith("option"):
                cell.alignment = wrap
            if name != "time limit":
                cell.number_format = "@"  # text: keep "1995" or "90%" exactly as typed
    if bank is not None:
        workbook.properties.identifier = bank.id
        workbook.properties.title = bank.title
        workbook.properties.language = bank.language
    workbook.save(path)
