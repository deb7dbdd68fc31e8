"""Spreadsheet import/export: round trips, row/column error reporting, CLI import."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from quiz_engine.banks.cli import add_bank_commands
from quiz_engine.banks.loader import load_bank
from quiz_engine.banks.sheets import SheetProblem, export_sheet, import_sheet, write_template
from quiz_engine.errors import BankError, BankProblem

BANKS = Path(__file__).resolve().parent.parent / "question_banks"
TEMPLATE_XLSX = BANKS / "template.xlsx"
TEMPLATE_CSV = BANKS / "template.csv"

Rows = list[list[object]]


def _xlsx(path: Path, rows: Rows) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _csv(path: Path, rows: Rows) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _where(problem: BankProblem) -> str:
    """``row 3, column F`` from a sheet problem's parts (its location also names sheet and header)."""
    assert isinstance(problem, SheetProblem)
    return f"row {problem.row}" + (f", column {problem.column}" if problem.column else "")


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="quiz-engine")
    add_bank_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


# ------------------------------------------------------------------ templates and round trips


def test_template_xlsx_imports() -> None:
    bank = import_sheet(TEMPLATE_XLSX, bank_id="mau", title="Mẫu")
    assert (bank.id, bank.title, bank.language) == ("mau", "Mẫu", "vi")
    assert [q.id for q in bank.questions] == ["q1", "q2", "q3"]
    assert [q.answer_letter for q in bank.questions] == ["C", "A", "B"]
    assert [q.time_limit for q in bank.questions] == [20.0, 15.0, 10.0]
    assert bank.questions[2].options == ("Sai", "Đúng")
    assert all(q.source for q in bank.questions)
    assert [(e.id, e.title) for e in bank.episodes] == [("tap-1", "Tập 1")]
    # The CSV template holds the same rows.
    assert import_sheet(TEMPLATE_CSV, bank_id="mau", title="Mẫu") == bank


def test_committed_templates_match_the_generator(tmp_path: Path) -> None:
    for name in ("template.xlsx", "template.csv"):
        fresh = tmp_path / name
        write_template(fresh)
        assert import_sheet(fresh, "x", "x") == import_sheet(BANKS / name, "x", "x")
    header = next(csv.reader(TEMPLATE_CSV.read_text(encoding="utf-8-sig").splitlines()))
    assert "Câu hỏi / Question" in header and "Đáp án đúng / Correct" in header


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_template_round_trip(tmp_path: Path, suffix: str) -> None:
    template = TEMPLATE_XLSX if suffix == ".xlsx" else TEMPLATE_CSV
    bank = import_sheet(template, bank_id="mau", title="Mẫu")
    out = tmp_path / f"out{suffix}"
    export_sheet(bank, out)
    assert import_sheet(out, bank_id="mau", title="Mẫu") == bank


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_season_bank_round_trip(tmp_path: Path, suffix: str) -> None:
    bank = load_bank(BANKS / "cchc-2026.toml")
    out = tmp_path / f"season{suffix}"
    export_sheet(bank, out)
    assert import_sheet(out, bank_id=bank.id, title=bank.title) == bank


def test_xlsx_export_keeps_bank_id_and_title(tmp_path: Path) -> None:
    bank = load_bank(BANKS / "demo-en.toml")
    out = tmp_path / "demo.xlsx"
    export_sheet(bank, out)
    assert import_sheet(out, language="en") == bank


def test_export_rejects_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(BankError):
        export_sheet(load_bank(BANKS / "demo-en.toml"), tmp_path / "x.ods")


# ------------------------------------------------------------------ errors by row and column

HEADER: list[object] = ["Question", "Option A", "Option B", "Option C", "Option D", "Correct", "Time limit"]
THREE_ERRORS: Rows = [
    HEADER,
    ["Fine question?", "a", "b", "c", "d", "A", 15],  # row 2
    ["No answer given?", "a", "b", "c", "d", "", 15],  # row 3: missing correct (F)
    ["Duplicate option?", "yes", "no", "maybe", " YES ", "B", 15],  # row 4: D repeats A (E)
    ["Unknown letter?", "a", "b", "c", "d", "E", 15],  # row 5: no option E (F)
]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_three_error_sheet(tmp_path: Path, suffix: str) -> None:
    writer = _xlsx if suffix == ".xlsx" else _csv
    path = writer(tmp_path / f"s{suffix}", THREE_ERRORS)
    with pytest.raises(BankError) as info:
        import_sheet(path)
    problems = info.value.problems
    assert [(_where(p), p.field) for p in problems] == [
        ("row 3, column F", "correct"),
        ("row 4, column E", "option D"),
        ("row 5, column F", "correct"),
    ]
    assert "missing correct answer" in problems[0].message
    assert "duplicates option A" in problems[1].message
    assert "unknown letter 'E'" in problems[2].message
    assert all(p.file == str(path) for p in problems)
    sheet = 'sheet "Sheet", ' if suffix == ".xlsx" else ""
    assert problems[0].location == f'{sheet}row 3, column F "Correct"'  # sheet, row, column and its header


ROW_CASES: list[tuple[str, list[object], str, str, str]] = [
    ("missing question", ["", "a", "b", "", "", "A", ""], "row 2, column A", "question", "missing"),
    ("one option", ["Q?", "a", "", "", "", "A", ""], "row 2, column C", "option B", "at least 2"),
    ("gap in options", ["Q?", "a", "", "c", "", "A", ""], "row 2, column C", "option B", "later option"),
    ("not a letter", ["Q?", "a", "b", "", "", "1", ""], "row 2, column F", "correct", "not a letter"),
    ("time not a number", ["Q?", "a", "b", "", "", "A", "abc"], "row 2, column G", "time limit", "not a number"),
    ("time out of range", ["Q?", "a", "b", "", "", "A", 200], "row 2, column G", "time limit", "outside"),
]


@pytest.mark.parametrize(
    ("row", "location", "field", "needle"),
    [case[1:] for case in ROW_CASES],
    ids=[case[0] for case in ROW_CASES],
)
def test_row_rules(tmp_path: Path, row: list[object], location: str, field: str, needle: str) -> None:
    path = _xlsx(tmp_path / "s.xlsx", [HEADER, row])
    with pytest.raises(BankError) as info:
        import_sheet(path)
    (problem,) = info.value.problems
    assert (_where(problem), problem.field) == (location, field)
    assert needle in problem.message


def test_duplicate_ids_and_texts_name_the_later_row(tmp_path: Path) -> None:
    rows: Rows = [
        ["ID", "Question", "A", "B", "Correct"],
        ["x1", "Same?", "a", "b", "A"],
        ["", "Other?", "a", "b", "A"],
        ["x1", "Third?", "a", "b", "A"],
        ["", " same? ", "a", "b", "B"],
    ]
    with pytest.raises(BankError) as info:
        import_sheet(_xlsx(tmp_path / "s.xlsx", rows))
    assert [(_where(p), p.field) for p in info.value.problems] == [
        ("row 4, column A", "id"),
        ("row 5, column B", "question"),
    ]


def test_header_problems(tmp_path: Path) -> None:
    rows: Rows = [["Question", "Option A", "Optoin B", "Option A"], ["Q?", "a", "b", "c"]]
    with pytest.raises(BankError) as info:
        import_sheet(_xlsx(tmp_path / "s.xlsx", rows))
    got = [(_where(p), p.field) for p in info.value.problems]
    assert got == [
        ("row 1, column C", "header"),
        ("row 1, column D", "header"),
        ("row 1", "option B"),
        ("row 1", "correct"),
    ]


def test_empty_sheet_and_unsupported_files(tmp_path: Path) -> None:
    with pytest.raises(BankError):
        import_sheet(_csv(tmp_path / "empty.csv", []))
    with pytest.raises(BankError):
        import_sheet(_csv(tmp_path / "header.csv", [HEADER]))
    (tmp_path / "old.xls").write_bytes(b"x")
    with pytest.raises(BankError) as info:
        import_sheet(tmp_path / "old.xls")
    assert ".xlsx" in info.value.problems[0].message
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    with pytest.raises(BankError):
        import_sheet(tmp_path / "broken.xlsx")
    with pytest.raises(BankError):
        import_sheet(tmp_path / "missing.csv")
    (tmp_path / "ansi.csv").write_bytes("Câu hỏi".encode("utf-16"))
    with pytest.raises(BankError) as info:
        import_sheet(tmp_path / "ansi.csv")
    assert "UTF-8" in info.value.problems[0].message


# ------------------------------------------------------------------ header spellings and cells


def test_vietnamese_headers_episodes_and_cell_types(tmp_path: Path) -> None:
    rows: Rows = [
        [
            "STT",
            "Tập",
            "Câu hỏi",
            "Đáp án A",
            "Đáp án B",
            "Đáp án C",
            "Đáp án đúng",
            "Thời gian (giây)",
            "Nguồn",
            "Mã câu hỏi",
        ],
        [1, "Tập 1", "Năm nào?", 2019, 2021, 2022, "a", 20, "NĐ 1", "c1"],
        [2, "Tập 2", "Tỷ lệ?", 0.8, 0.9, "", "B", "", "", ""],
        [3, "Tập 1", "Câu ba?", "x", "y", "", "B", "7,5", "", ""],
    ]
    path = _xlsx(tmp_path / "vi.xlsx", rows)
    workbook = load_workbook(path)
    sheet = workbook.active
    assert sheet is not None
    sheet["D3"].number_format = "0%"
    sheet["E3"].number_format = "0%"
    workbook.save(path)

    bank = import_sheet(path, bank_id="vi", title="VI")
    assert [q.id for q in bank.questions] == ["c1", "q2", "q3"]
    assert bank.question("c1").options == ("2019", "2021", "2022")
    assert bank.question("c1").answer == 0
    assert bank.question("q2").options == ("80%", "90%")
    assert bank.question("q2").time_limit == 15.0
    assert bank.question("q3").time_limit == 7.5
    assert [(e.id, e.title, e.question_ids) for e in bank.episodes] == [
        ("tap-1", "Tập 1", ("c1", "q3")),
        ("tap-2", "Tập 2", ("q2",)),
    ]


def test_bilingual_and_ascii_headers(tmp_path: Path) -> None:
    rows: Rows = [
        [
            "Cau hoi / Question",
            "dap an a",
            "PHƯƠNG ÁN B",
            "Answer",
            "Time",
            "Source",
            "Episode",
            "Episode title",
            "Episode date",
        ],
        ["Q1?", "a", "b", "A", 30, "s", "ep1", "First show", "2026-12-05"],
        ["Q2?", "a", "b", "B", 30, "s", "ep1", "", ""],
    ]
    bank = import_sheet(_csv(tmp_path / "b.csv", rows), language="en")
    assert bank.language == "en"
    assert bank.id == "b"
    (episode,) = bank.episodes
    assert (episode.id, episode.title, episode.date) == ("ep1", "First show", "2026-12-05")
    assert episode.question_ids == ("q1", "q2")


def test_semicolon_csv(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("Question;Option A;Option B;Correct\nQ?;a;b;B\n", encoding="utf-8")
    bank = import_sheet(path)
    assert bank.questions[0].options == ("a", "b")
    assert bank.questions[0].answer == 1


def test_bad_language(tmp_path: Path) -> None:
    with pytest.raises(BankError):
        import_sheet(TEMPLATE_CSV, language="fr")


# ------------------------------------------------------------------ CLI


def test_cli_import_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "banks" / "mau.toml"
    assert _run(["bank", "import", str(TEMPLATE_XLSX), "-o", str(out), "--id", "mau", "--title", "Mẫu"]) == 0
    assert str(out) in capsys.readouterr().out
    bank = load_bank(out)
    assert bank.id == "mau"
    assert _run(["bank", "import", str(TEMPLATE_XLSX), "-o", str(out)]) == 1  # exists
    assert "--force" in capsys.readouterr().err

    sheet = tmp_path / "mau.csv"
    assert _run(["bank", "export", str(out), str(sheet)]) == 0
    assert import_sheet(sheet, "mau", "Mẫu") == bank
    assert _run(["bank", "export", str(out), str(tmp_path / "x.txt")]) == 1
    assert _run(["bank", "template", str(tmp_path / "t.xlsx")]) == 0


def test_cli_import_errors_name_rows_and_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = _xlsx(tmp_path / "bad.xlsx", THREE_ERRORS)
    out = tmp_path / "bad.toml"
    assert _run(["bank", "import", str(sheet), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f'{sheet}: sheet "Sheet", row 3, column F "Correct": missing correct answer' in err
    assert 'row 4, column E "Option D"' in err
    assert 'row 5, column F "Correct"' in err
    assert "3 problems, nothing written" in err
    assert not out.exists()
