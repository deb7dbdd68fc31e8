"""Import and export question banks as spreadsheets (.xlsx or .csv).

The secretariat writes questions in spreadsheets, so errors must point at what they see:
the sheet row number (header = row 1) and the column letter, e.g. "row 7, column F".
Headers are matched case- and diacritics-insensitively, in English or Vietnamese, and a
bilingual header such as "Câu hỏi / Question" works too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from quiz_engine.banks.loader import dump_bank, parse_bank
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
    letter_for,
    match_key,
    nfc,
    slugify,
)
from quiz_engine.errors import BankError, BankProblem

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv",)

OPTION_FIELDS = tuple(f"option {letter}" for letter in LETTERS)
IGNORED = "(ignored)"

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

# Accepted header spellings, compared after slugify() (so case and diacritics do not matter).
_ALIASES: dict[str, tuple[str, ...]] = {
    "question": (
        "question",
        "question text",
        "text",
        "câu hỏi",
        "nội dung",
        "nội dung câu hỏi",
    ),
    "correct": (
        "correct",
        "correct answer",
        "correct option",
        "answer",
        "answer key",
        "key",
        "đáp án đúng",
        "đáp án",
        "phương án đúng",
    ),
    "time limit": (
        "time limit",
        "time",
        "seconds",
        "thời gian",
        "thời gian trả lời",
        "thời gian giây",
    ),
    "source": (
        "source",
        "reference",
        "nguồn",
        "căn cứ",
        "căn cứ pháp lý",
        "nguồn tham khảo",
    ),
    "id": ("id", "question id", "mã", "mã câu", "mã câu hỏi"),
    "episode": ("episode", "round", "tập", "số tập", "vòng", "vòng thi"),
    "episode title": ("episode title", "tên tập", "tên vòng"),
    "episode date": ("episode date", "date", "ngày", "ngày phát sóng", "ngày thi"),
    IGNORED: ("stt", "no", "số thứ tự", "ghi chú", "note", "notes"),
}
_OPTION_PREFIXES = ("option", "choice", "answer", "đáp án", "phương án", "lựa chọn")
for _letter in LETTERS:
    _ALIASES[f"option {_letter}"] = (*(f"{prefix} {_letter}" for prefix in _OPTION_PREFIXES), _letter)

_HEADER_LOOKUP: dict[str, str] = {slugify(alias): name for name, aliases in _ALIASES.items() for alias in aliases}
_HEADER_LOOKUP["#"] = IGNORED


def _column_letter(index: int) -> str:
    """Spreadsheet column letter for a 0-based column index (0 -> "A", 26 -> "AA")."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _header_field(header: str) -> str | None:
    """Field a header names, or None; drops "(…)" notes and tries each "/"-separated part."""
    without_notes = re.sub(r"\([^)]*\)", " ", nfc(header))
    for part in re.split(r"[/|\n]", without_notes):
        cleaned = part.strip().strip(":*").strip()
        if cleaned == "#":
            return IGNORED
        key = slugify(cleaned)
        if key in _HEADER_LOOKUP:
            return _HEADER_LOOKUP[key]
    return None


@dataclass
class _Sheet:
    """Cells as text with their real sheet row numbers; the header is ``rows[0]``."""

    file: str
    rows: list[tuple[int, list[str]]]
    bank_id: str | None = None
    title: str | None = None


@dataclass
class _Problems:
    file: str
    items: list[BankProblem] = field(default_factory=list)

    def add(self, row: int, column: int | None, name: str, message: str) -> None:
        where = f"row {row}" if column is None else f"row {row}, column {_column_letter(column)}"
        self.items.append(BankProblem(self.file, where, name, message))


def _cell_text(value: object, number_format: str = "General") -> str:
    """Render a cell the way the sheet shows it (numbers without ".0", percentages as "90%")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        if "%" in number_format:
            percent = value * 100
            return f"{round(percent, 6):g}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return nfc(str(value))


def _read_excel(path: Path) -> _Sheet:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
    ) as error:
        raise BankError([BankProblem(str(path), "", "", f"cannot read spreadsheet: {error}")]) from None
    sheet = workbook.worksheets[0]
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        texts = [_cell_text(c.value, c.number_format or "General") for c in cells]
        if any(texts):
            rows.append((number, texts))
    props = workbook.properties
    return _Sheet(str(path), rows, props.identifier or None, props.title or None)


def _read_csv(path: Path) -> _Sheet:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BankError([BankProblem(str(path), "", "", 'not UTF-8: save the sheet as "CSV UTF-8"')]) from None
    # Excel saves ";"-separated CSV in locales with a decimal comma: take the header's
    # most frequent separator, but keep Excel's quoting rules (doubled quotes).
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    rows: list[tuple[int, list[str]]] = []
    # Number records, not lines: a quoted cell with a newline is still one spreadsheet row.
    for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), csv.excel, delimiter=delimiter), start=1):
        texts = [nfc(c) for c in cells]
        if any(texts):
            rows.append((number, texts))
    return _Sheet(str(path), rows)


def _read_sheet(path: Path) -> _Sheet:
    if not path.is_file():
        raise BankError([BankProblem(str(path), "", "", "file not found")])
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path)
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    hint = " (save .xls as .xlsx)" if suffix == ".xls" else ""
    raise BankError(
        [
            BankProblem(
                str(path),
                "",
                "",
                f"unsupported file type {suffix!r}: use .xlsx or .csv{hint}",
            )
        ]
    )


def _map_header(sheet: _Sheet, out: _Problems) -> tuple[int, dict[str, int]]:
    """Header row number and field -> column index; reports unknown, duplicate, missing."""
    if not sheet.rows:
        out.add(1, None, "", "the sheet is empty")
        return 1, {}
    header_row, headers = sheet.rows[0]
    columns: dict[str, int] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        name = _header_field(header)
        if name is None:
            out.add(
                header_row,
                index,
                "header",
                f"unknown column {header!r}; see question_banks/README.md",
            )
        elif name == IGNORED:
            continue
        elif name in columns:
            out.add(
                header_row,
                index,
                "header",
                f"column {header!r} repeats column {_column_letter(columns[name])} ({name})",
            )
        else:
            columns[name] = index
    for required in ("question", "option A", "option B", "correct"):
        if required not in columns:
            out.add(header_row, None, required, f"missing column {HEADERS[required]!r}")
    return header_row, columns


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
    number: int
    question: Question
    episode: str


def _parse_row(number: int, cells: list[str], columns: dict[str, int], ordinal: int, out: _Problems) -> _Row | None:
    def cell(name: str) -> str:
        return _cell(cells, columns, name)

    before = len(out.items)
    text = cell("question")
    if not text:
        out.add(number, columns["question"], "question", "missing question text")

    present = [name for name in OPTION_FIELDS if name in columns]
    values = [cell(name) for name in present]
    filled = [i for i, v in enumerate(values) if v]
    last = filled[-1] if filled else -1
    options: list[str] = []
    seen: dict[str, str] = {}
    for name, value in zip(present[: last + 1], values[: last + 1], strict=True):
        if not value:
            out.add(
                number,
                columns[name],
                name,
                f"{name} is empty but a later option is filled",
            )
            continue
        key = match_key(value)
        if key in seen:
            out.add(number, columns[name], name, f"{name} {value!r} duplicates {seen[key]}")
        else:
            seen[key] = name
        options.append(value)
    if len(options) < MIN_OPTIONS and last + 1 < MIN_OPTIONS:
        missing = present[min(last + 1, len(present) - 1)]
        out.add(number, columns[missing], missing, f"needs at least {MIN_OPTIONS} options")

    correct = cell("correct")
    answer: int | None = None
    if not correct:
        out.add(
            number,
            columns["correct"],
            "correct",
            "missing correct answer (a letter A..F)",
        )
    else:
        answer = index_for(correct)
        if answer is None:
            out.add(
                number,
                columns["correct"],
                "correct",
                f"{correct!r} is not a letter A..F",
            )
        elif answer > last:
            out.add(
                number,
                columns["correct"],
                "correct",
                f"unknown letter {correct.strip().upper()!r}: option {letter_for(answer)} is empty",
            )

    time_limit = 15.0
    raw_time = cell("time limit")
    if raw_time:
        seconds = _parse_seconds(raw_time)
        if seconds is None:
            out.add(
                number,
                columns["time limit"],
                "time limit",
                f"{raw_time!r} is not a number of seconds",
            )
        elif not MIN_TIME_LIMIT <= seconds <= MAX_TIME_LIMIT:
            out.add(
                number,
                columns["time limit"],
                "time limit",
                f"{raw_time} s is outside {MIN_TIME_LIMIT:g}..{MAX_TIME_LIMIT:g} s",
            )
        else:
            time_limit = seconds

    qid = cell("id") or f"q{ordinal}"
    if not is_valid_id(qid):
        out.add(
            number,
            columns["id"],
            "id",
            f"id {qid!r} may only contain letters, digits, '_', '-', '.'",
        )

    if len(out.items) > before or answer is None:
        return None
    question = Question(qid, text, tuple(options), answer, time_limit, cell("source"))
    return _Row(number, question, cell("episode"))


@dataclass
class _EpisodeDraft:
    id: str
    title: str
    date: str | None
    first_row: int
    question_ids: list[str] = field(default_factory=list)


def _episode_id(value: str, ordinal: int) -> str:
    if is_valid_id(value):
        return value
    return slugify(value) or f"ep{ordinal}"


def _collect_episodes(
    rows: list[tuple[int, list[str]]],
    parsed: dict[int, _Row],
    columns: dict[str, int],
    out: _Problems,
) -> list[EpisodeDef]:
    """Group rows by their episode cell, in order of first appearance."""
    drafts: dict[str, _EpisodeDraft] = {}
    ids: dict[str, str] = {}
    for number, cells in rows:
        value = _cell(cells, columns, "episode")
        if not value:
            continue
        title = _cell(cells, columns, "episode title")
        raw_date = _cell(cells, columns, "episode date")
        date: str | None = None
        if raw_date:
            try:
                date = dt.date.fromisoformat(raw_date).isoformat()
            except ValueError:
                out.add(
                    number,
                    columns["episode date"],
                    "episode date",
                    f"{raw_date!r} is not a date like 2026-12-05",
                )
        draft = drafts.get(value)
        if draft is None:
            eid = _episode_id(value, len(drafts) + 1)
            if eid in ids:
                out.add(
                    number,
                    columns["episode"],
                    "episode",
                    f"episode {value!r} has the same id {eid!r} as {ids[eid]!r}",
                )
            ids[eid] = value
            draft = _EpisodeDraft(eid, title or value, date, number)
            drafts[value] = draft
        else:
            if title and title != draft.title:
                out.add(
                    number,
                    columns["episode title"],
                    "episode title",
                    f"episode {value!r} already has title {draft.title!r} (row {draft.first_row})",
                )
            if date and draft.date and date != draft.date:
                out.add(
                    number,
                    columns["episode date"],
                    "episode date",
                    f"episode {value!r} already has date {draft.date} (row {draft.first_row})",
                )
            elif date:
                draft.date = date
        if number in parsed:
            draft.question_ids.append(parsed[number].question.id)
    return [EpisodeDef(d.id, d.title, tuple(d.question_ids), d.date) for d in drafts.values()]


def import_sheet(
    path: str | Path,
    bank_id: str | None = None,
    title: str | None = None,
    language: str = "vi",
) -> Bank:
    """Build a bank from a sheet; raises :class:`BankError` naming rows and columns."""
    path = Path(path)
    sheet = _read_sheet(path)
    out = _Problems(str(path))
    if language not in LANGUAGES:
        out.add(1, None, "language", f"language must be one of {', '.join(LANGUAGES)}")
    header_row, columns = _map_header(sheet, out)
    if out.items:
        raise BankError(out.items)

    data = sheet.rows[1:]
    parsed: dict[int, _Row] = {}
    id_rows: dict[str, int] = {}
    text_rows: dict[str, int] = {}
    for ordinal, (number, cells) in enumerate(data, start=1):
        row = _parse_row(number, cells, columns, ordinal, out)
        if row is None:
            continue
        q = row.question
        if q.id in id_rows:
            out.add(
                number,
                columns.get("id"),
                "id",
                f"duplicate id {q.id!r} (also row {id_rows[q.id]})",
            )
        else:
            id_rows[q.id] = number
        key = match_key(q.text)
        if key in text_rows:
            out.add(
                number,
                columns["question"],
                "question",
                f"same question as row {text_rows[key]}",
            )
        else:
            text_rows[key] = number
        parsed[number] = row
    if not data:
        out.add(header_row, None, "", "no question rows below the header")
    episodes = _collect_episodes(data, parsed, columns, out)
    if out.items:
        raise BankError(out.items)

    final_id = bank_id or (sheet.bank_id if sheet.bank_id and is_valid_id(sheet.bank_id) else None)
    final_id = final_id or slugify(path.stem) or "bank"
    final_title = nfc(title or sheet.title or path.stem)
    questions = tuple(r.question for r in parsed.values())
    bank = Bank(
        final_id,
        final_title,
        language,
        questions,
        tuple(episodes) if episodes else default_episodes(final_title, questions),
    )
    # The TOML rules are the single definition of a valid bank: check the result against them.
    return parse_bank(dump_bank(bank), str(path))


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
    header = [HEADERS[name] for name in layout]
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        # BOM so that Excel opens Vietnamese text as UTF-8.
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
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
    sheet.append(header)
    for row in rows:
        sheet.append(row)
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
