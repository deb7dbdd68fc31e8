"""Sheets as secretariats really make them (issue 13, items 12 and 13).

Every workbook here is built with openpyxl in the test: merged episode cells, a second (or
hidden) sheet, date-typed options, formulas with and without a saved value, look-alike
letters, formula-like text, oversized sheets. openpyxl never computes a formula, so a saved
value (what Excel writes when it saves) is put into the sheet XML of the saved file, exactly
where Excel keeps it: ``<c t="str"><f>…</f><v>value</v></c>``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from quiz_engine.banks.cells import format_datetime, format_number
from quiz_engine.banks.loader import load_bank, parse_bank
from quiz_engine.banks.messages import CATALOGUE, messages
from quiz_engine.banks.sheets import (
    MAX_ROWS,
    SheetError,
    SheetProblem,
    export_sheet,
    import_sheet,
    read_sheet_bank,
)
from quiz_engine.errors import BankError
from tests.test_bank_import import _run

VI = ["Tập", "Câu hỏi", "Đáp án A", "Đáp án B", "Đáp án C", "Đáp án đúng"]
EN = ["Episode", "Question", "Option A", "Option B", "Option C", "Correct"]
Rows = list[list[Any]]


def _book(path: Path, sheets: dict[str, Rows], hook: Callable[[Worksheet], None] | None = None) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        ws = workbook.create_sheet(name)
        for row in rows:
            ws.append(row)
        if hook is not None:
            hook(ws)
    workbook.save(path)
    return path


def _save_values(path: Path, values: dict[str, str]) -> None:
    """Give formula cells the value Excel saves with them (openpyxl writes an empty ``<v/>``)."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name, data in parts.items():
        if name.startswith("xl/worksheets/"):
            xml = data.decode()
            for ref, value in values.items():
                xml, n = re.subn(rf'<c r="{ref}"([^>]*)><f>(.*?)</f><v\s*/>',
                                 rf'<c r="{ref}"\1 t="str"><f>\2</f><v>{value}</v>', xml)
                assert n == 1, ref
            parts[name] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def _problems(path: Path, **kwargs: Any) -> list[SheetProblem]:
    with pytest.raises(BankError) as info:
        import_sheet(path, **kwargs)
    problems = info.value.problems
    assert all(isinstance(p, SheetProblem) for p in problems)
    return [p for p in problems if isinstance(p, SheetProblem)]


def _rows(n: int, episode: str | None = "Tập 1") -> Rows:
    return [[episode if i == 0 else None, f"Câu hỏi số {i + 1}?", "a", "b", "c", "ABC"[i % 3]] for i in range(n)]


# --- merged cells ---------------------------------------------------------------------------------


def test_a_merged_episode_cell_fills_down(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reported case: "Tập 1" merged over three rows (A2:A4), then "Tập 2"."""
    rows = [VI, *_rows(3), ["Tập 2", "Câu hỏi số 4?", "a", "b", "c", "A"]]
    path = _book(tmp_path / "gop.xlsx", {"Câu hỏi": rows}, lambda ws: ws.merge_cells("A2:A4"))
    bank = import_sheet(path)
    assert [(e.title, e.question_ids) for e in bank.episodes] == [("Tập 1", ("q1", "q2", "q3")), ("Tập 2", ("q4",))]
    out = tmp_path / "gop.toml"
    assert _run(["bank", "import", str(path), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "4 câu hỏi, 2 tập: Tập 1 (3), Tập 2 (1)" in said  # what each episode got, at a glance
    assert load_bank(out) == bank


def test_blank_episode_cells_are_an_error_not_questions_in_no_episode(tmp_path: Path) -> None:
    """The same sheet without the merge: the two blank cells would leave two questions unplayed."""
    path = _book(tmp_path / "trong.xlsx", {"Câu hỏi": [VI, *_rows(3)]})
    problems = _problems(path)
    assert [(p.sheet, p.row, p.column, p.key) for p in problems] == [
        ("Câu hỏi", 3, "A", "no_episode"), ("Câu hỏi", 4, "A", "no_episode")]
    assert problems[0].location == "trang tính “Câu hỏi”, dòng 3, cột A “Tập”"
    assert "dòng 2: “Tập 1”" in problems[0].message and "không bao giờ được đưa ra thi" in problems[0].message


def test_merges_that_cannot_be_read_as_shown(tmp_path: Path) -> None:
    def merge(ws: Worksheet) -> None:
        ws.merge_cells("B2:C2")  # the question over option A: which column is it?
        ws.merge_cells("C1:D1")  # a header over two columns

    path = _book(tmp_path / "ngang.xlsx", {"S": [VI, ["Tập 1", "Hỏi?", "a", "b", "c", "A"]]}, merge)
    problems = _problems(path)
    keys = {(p.row, p.key) for p in problems}
    assert (1, "merge_header_columns") in keys and (2, "merge_across_columns") in keys
    across = next(p for p in problems if p.key == "merge_across_columns")
    assert "B2:C2" in across.message and "“Câu hỏi”, “Đáp án A”" in across.message


def test_a_huge_merge_is_refused_before_openpyxl_spends_minutes_on_it(tmp_path: Path) -> None:
    path = _book(tmp_path / "lon.xlsx", {"S": [VI, ["Tập 1", "Hỏi?", "a", "b", "c", "A"]]},
                 lambda ws: ws.merge_cells("G2:H3"))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b'ref="G2:H3"', b'ref="G2:XFD1048576"')
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    started = time.monotonic()
    (problem,) = _problems(path)
    assert time.monotonic() - started < 5
    assert problem.key == "merge_too_big" and problem.sheet == "S" and "G2:XFD1048576" in problem.message


# --- every sheet ----------------------------------------------------------------------------------


def test_every_sheet_is_imported_each_an_episode_named_after_it(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    sheets = {"Tập 1": [VI[1:], ["Câu một?", "a", "b", "c", "A"], ["Câu hai?", "a", "b", "c", "B"]],
              "Tập 2": [VI[1:], ["Câu ba?", "a", "b", "c", "C"]]}
    path = _book(tmp_path / "hai.xlsx", sheets)
    result = read_sheet_bank(path)
    assert result.sheets == ("Tập 1", "Tập 2")
    assert [(e.id, e.title, e.question_ids) for e in result.bank.episodes] == [
        ("tap-1", "Tập 1", ("q1", "q2")), ("tap-2", "Tập 2", ("q3",))]
    assert _run(["bank", "import", str(path), "-o", str(tmp_path / "hai.toml")]) == 0
    assert "từ trang tính “Tập 1”, “Tập 2”" in capsys.readouterr().out


def test_a_duplicate_across_sheets_names_the_other_sheet(tmp_path: Path) -> None:
    sheets = {"Tập 1": [VI[1:], ["Câu một?", "a", "b", "c", "A"]], "Tập 2": [VI[1:], ["câu  MỘT?", "a", "b", "c", "B"]]}
    (problem,) = _problems(_book(tmp_path / "trung.xlsx", sheets))
    assert (problem.sheet, problem.row, problem.key) == ("Tập 2", 2, "duplicate_text")
    assert "trang tính “Tập 1”, dòng 2" in problem.message


def test_a_sheet_that_is_not_questions_is_named_and_can_be_left_out(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    sheets = {"Câu hỏi": [VI[1:], ["Câu một?", "a", "b", "c", "A"]], "Hướng dẫn": [["Điền câu hỏi ở trang đầu."]]}
    path = _book(tmp_path / "huongdan.xlsx", sheets)
    (problem,) = _problems(path)
    assert (problem.sheet, problem.key) == ("Hướng dẫn", "not_question_sheet")
    assert "--sheet" in problem.message
    result = read_sheet_bank(path, sheets=["câu hỏi"])  # names match ignoring case
    assert result.sheets == ("Câu hỏi",) and result.skipped == ("Hướng dẫn",)
    assert _run(["bank", "import", str(path), "-o", str(tmp_path / "x.toml"), "--sheet", "Câu hỏi"]) == 0
    assert "không nhập (không được chọn bằng --sheet): “Hướng dẫn”" in capsys.readouterr().out
    (unknown,) = _problems(path, sheets=["Tap 3"])
    assert unknown.key == "unknown_sheet" and "“Câu hỏi”, “Hướng dẫn”" in unknown.message


def test_a_hidden_sheet_is_never_imported_unseen(tmp_path: Path) -> None:
    def hide(ws: Worksheet) -> None:
        if ws.title == "Cũ":
            ws.sheet_state = "hidden"

    sheets = {"Câu hỏi": [VI[1:], ["Câu một?", "a", "b", "c", "A"]], "Cũ": [VI[1:], ["Câu cũ?", "a", "b", "c", "A"]]}
    path = _book(tmp_path / "an.xlsx", sheets, hide)
    (problem,) = _problems(path)
    assert (problem.sheet, problem.key) == ("Cũ", "hidden_sheet") and "Bỏ ẩn" in problem.message
    assert [q.text for q in import_sheet(path, sheets=["Câu hỏi"]).questions] == ["Câu một?"]


# --- values as the sheet shows them ---------------------------------------------------------------


def test_dates_numbers_and_percentages_read_as_displayed(tmp_path: Path) -> None:
    def formats(ws: Worksheet) -> None:
        ws["B2"] = dt.datetime(2021, 7, 15)
        ws["B2"].number_format = "mm-dd-yy"  # built-in 14: the regional short date
        ws["C2"] = dt.datetime(2021, 7, 16)
        ws["C2"].number_format = "dd/mm/yyyy"
        ws["D2"] = dt.datetime(2021, 7, 17, 14, 30)
        ws["D2"].number_format = "d/m/yyyy h:mm"
        ws["B3"], ws["C3"], ws["D3"] = 1500000, 0.805, 7.5
        ws["B3"].number_format = '#,##0 "đồng"'
        ws["C3"].number_format = "0.0%"

    rows = [VI[1:], ["Ngày nào?", None, None, None, "A"], ["Số nào?", None, None, None, "B"]]
    path = _book(tmp_path / "ngay.xlsx", {"S": rows}, formats)
    bank = import_sheet(path)
    assert bank.questions[0].options == ("15/07/2021", "16/07/2021", "17/7/2021 14:30")
    assert bank.questions[1].options == ("1.500.000 đồng", "80,5%", "7,5")
    english = import_sheet(path, language="en")  # the bank's region: en-US dates and separators
    assert english.questions[0].options == ("7/15/2021", "16/07/2021", "17/7/2021 14:30")
    assert english.questions[1].options == ("1,500,000 đồng", "80.5%", "7.5")


def test_an_episode_date_cell_is_read_as_a_date(tmp_path: Path) -> None:
    def date(ws: Worksheet) -> None:
        ws["C2"] = dt.datetime(2026, 12, 5)
        ws["C2"].number_format = "dd/mm/yyyy"
        ws["C3"] = "12/12/2026"  # typed as text, day first

    rows = [["Tập", "Câu hỏi", "Ngày phát sóng", "A", "B", "Đáp án đúng"], ["Tập 1", "Một?", None, "a", "b", "A"],
            ["Tập 2", "Hai?", None, "a", "b", "B"]]
    bank = import_sheet(_book(tmp_path / "phatsong.xlsx", {"S": rows}, date))
    assert [e.date for e in bank.episodes] == ["2026-12-05", "2026-12-12"]


@pytest.mark.parametrize(("value", "fmt", "lang", "shown"), [
    (912345678, "0000 000 000", "en", "0912 345 678"), (-3.5, "0.00;(0.00)", "en", "(3.50)"),
    (0, '0;-0;"không"', "vi", "không"), (0.5, "#.00", "en", ".50"), (2.25, "0.0#", "vi", "2,25"),
    (5, "000", "en", "005"),
    (1234567.891, "#,##0.00", "vi", "1.234.567,89"), (1e20, "0.00E+00", "en", "1E+20"),
])
def test_number_formats(value: float, fmt: str, lang: str, shown: str) -> None:
    assert format_number(value, fmt, lang) == shown


@pytest.mark.parametrize(("fmt", "vi", "en"), [
    ("dddd, dd mmmm yyyy", "Thứ Năm, 15 Tháng Bảy 2021", "Thursday, 15 July 2021"),
    ("h:mm AM/PM", "1:05 CH", "1:05 PM"), ("yy-mm-dd hh:mm:ss", "21-07-15 13:05:09", "21-07-15 13:05:09"),
    ('[$-42A]d "tháng" m', "15 tháng 7", "15 tháng 7"), ("mm:ss", "05:09", "05:09"),
])
def test_date_formats(fmt: str, vi: str, en: str) -> None:
    moment = dt.datetime(2021, 7, 15, 13, 5, 9)
    assert (format_datetime(moment, fmt, "vi"), format_datetime(moment, fmt, "en")) == (vi, en)


# --- formulas -------------------------------------------------------------------------------------


def _formula_book(path: Path) -> Path:
    def formulas(ws: Worksheet) -> None:
        ws["B2"] = '=D2&" tỉnh"'
        ws["C2"] = "=UPPER(D2)"

    return _book(path, {"S": [VI[1:], ["Có bao nhiêu?", None, None, "63", "C"]]}, formulas)


def test_a_formula_without_a_saved_value_is_refused_as_a_formula(tmp_path: Path) -> None:
    problems = _problems(_formula_book(tmp_path / "f.xlsx"))
    assert [(p.row, p.column, p.key) for p in problems] == [(2, "B", "formula_no_value"), (2, "C", "formula_no_value")]
    assert str(problems[0]).endswith(
        'trang tính “S”, dòng 2, cột B “Đáp án A”: là công thức =D2&" tỉnh" chưa có giá trị được lưu; hãy dán '
        "giá trị thay cho công thức (Sao chép, rồi Dán đặc biệt → Giá trị)")
    assert not any("trống" in p.message for p in problems)  # not "option A is empty"


def test_a_formula_with_a_saved_value_gives_that_value(tmp_path: Path) -> None:
    path = _formula_book(tmp_path / "f.xlsx")
    _save_values(path, {"B2": "63 tỉnh", "C2": "sáu mươi ba"})
    assert load_workbook(path)["S"]["B2"].value == '=D2&" tỉnh"'  # still a formula in the file
    assert import_sheet(path).questions[0].options == ("63 tỉnh", "sáu mươi ba", "63")
    same = _formula_book(tmp_path / "same.xlsx")
    _save_values(same, {"B2": "63 tỉnh", "C2": "63"})  # option B shows "63", as option C does
    assert [(p.column, p.key) for p in _problems(same)] == [("D", "option_duplicate")]


def test_a_formula_showing_an_error_is_refused(tmp_path: Path) -> None:
    path = _formula_book(tmp_path / "f.xlsx")
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    xml = parts[sheet].decode()
    xml = re.sub(r'<c r="B2"([^>]*)><f>(.*?)</f><v\s*/>', r'<c r="B2"\1 t="e"><f>\2</f><v>#N/A</v>', xml)
    xml = re.sub(r'<c r="C2"([^>]*)><f>(.*?)</f><v\s*/>', r'<c r="C2"\1 t="str"><f>\2</f><v>63 tỉnh thành</v>', xml)
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    (problem,) = _problems(path)
    assert (problem.column, problem.key) == ("B", "formula_error")
    assert "#N/A" in problem.message and '=D2&" tỉnh"' in problem.message


# --- language of the messages ---------------------------------------------------------------------


def test_messages_follow_the_headers_or_lang(tmp_path: Path) -> None:
    english = _book(tmp_path / "en.xlsx", {"Sheet1": [EN, ["Ep 1", "Q?", "a", "b", "c", ""]]})
    (problem,) = _problems(english)
    assert str(problem) == (f'{english}: sheet "Sheet1", row 2, column F "Correct": '
                            "missing correct answer (a letter A..F)")
    (forced,) = _problems(english, lang="vi")
    assert forced.message == "thiếu đáp án đúng (một chữ cái từ A đến F)"
    vietnamese = _book(tmp_path / "vi.xlsx", {"Trang 1": [VI, ["Tập 1", "Hỏi?", "a", "b", "c", ""]]})
    (problem,) = _problems(vietnamese)
    assert str(problem).endswith("trang tính “Trang 1”, dòng 2, cột F “Đáp án đúng”: thiếu đáp án đúng "
                                 "(một chữ cái từ A đến F)")
    (forced,) = _problems(vietnamese, lang="en")
    assert forced.message.startswith("missing correct answer")


def test_cli_import_and_validate_speak_vietnamese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _book(tmp_path / "loi.xlsx", {"S": [VI, ["Tập 1", "Hỏi?", "a", "a", "", "D"]]})
    assert _run(["bank", "import", str(path), "-o", str(tmp_path / "loi.toml")]) == 1
    err = capsys.readouterr().err
    assert "đáp án B “a” trùng với đáp án A" in err
    assert "đáp án đúng “D” không dùng được: đáp án D để trống" in err
    assert f"{path}: 2 lỗi, chưa ghi tệp nào" in err
    bad = tmp_path / "bad.toml"
    bad.write_text('[bank]\nid = "x"\ntitle = "X"\nlanguage = "vi"\n\n[[questions]]\nid = "q1"\ntext = "Hỏi?"\n'
                   'options = ["a", "b"]\nanswer = "C"\n', encoding="utf-8")
    assert _run(["bank", "validate", str(bad), "--lang", "vi"]) == 1
    assert capsys.readouterr().out.strip() == (
        f"{bad}: câu 1 (q1) [answer]: đáp án đúng “C” không có trong các đáp án (chỉ có A đến B)")
    assert _run(["bank", "validate", str(bad)]) == 1  # English without --lang
    assert "answer 'C' is out of range: options are A..B" in capsys.readouterr().out


def test_validate_names_questions_in_no_episode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bank = tmp_path / "b.toml"
    bank.write_text('[bank]\nid = "x"\ntitle = "X"\nlanguage = "vi"\n\n[[episodes]]\nid = "e1"\nquestions = ["q1"]\n'
                    '\n[[questions]]\nid = "q1"\ntext = "Một?"\noptions = ["a", "b"]\nanswer = "A"\n'
                    '\n[[questions]]\nid = "q2"\ntext = "Hai?"\noptions = ["a", "b"]\nanswer = "A"\n', encoding="utf-8")
    assert _run(["bank", "validate", str(bank)]) == 0
    assert capsys.readouterr().out.strip() == f"{bank}: OK: 2 questions, 1 episode; 1 question in no episode, " \
                                              "never played: q2"
    assert _run(["bank", "validate", str(bank), "--lang", "vi"]) == 0
    assert "hợp lệ: 2 câu hỏi, 1 tập; 1 câu hỏi không thuộc tập nào nên sẽ không được thi: q2" in \
           capsys.readouterr().out


def test_every_message_has_both_languages_with_the_same_placeholders() -> None:
    for key, (en, vi) in CATALOGUE.items():
        assert en and vi, key
        names = {re.sub(r"!r$", "", m) for m in re.findall(r"{(\w+(?:!r)?)}", en)}
        assert names == {re.sub(r"!r$", "", m) for m in re.findall(r"{(\w+(?:!r)?)}", vi)}, key
        vi_text = vi.format(**dict.fromkeys(names, "x"))
        assert "'" not in vi_text.replace("'_'", "").replace("'-'", "").replace("'.'", ""), key  # “…” in Vietnamese
    assert messages("vi").count("question", 3) == "3 câu hỏi" and messages("en").count("question", 1) == "1 question"
    assert messages("fr").lang == "en"


# --- abuse ----------------------------------------------------------------------------------------


def test_look_alike_letters_and_invisible_characters(tmp_path: Path) -> None:
    rows = [VI[1:], ["Thủ đô?", "Hà Nội", "Hа Nội", "Huế", "A"],  # B: a Cyrillic "а" (U+0430)
            ["Đảo chiều?", "ab\u202edc", "x", "y", "B"],  # a right-to-left override
            ["Chữ cái?", "x", "y", "z", "А"],  # the answer is a Cyrillic "А"
            ["Full-width?", "x", "y", "z", "Ｃ"],  # an input method's full-width C: that is C
            ["Vô hình?", "Huế\u200b", "Huế", "Đà Nẵng", "C"]]  # a zero-width space: the same as "Huế"
    problems = _problems(_book(tmp_path / "giong.xlsx", {"S": rows}))
    assert [(p.row, p.column, p.key) for p in problems] == [
        (2, "C", "mixed_script"), (3, "B", "bidi_control"), (4, "E", "lookalike_letter"), (6, "C", "option_duplicate")]
    assert "“Hа”" in problems[0].message and "Kirin" in problems[0].message and "U+0430" in problems[0].message
    assert "U+202E" in problems[1].message
    assert "“А” trông giống A nhưng là chữ cái Kirin U+0410" in problems[2].message


def test_formula_like_text_stays_text_through_import_and_export(tmp_path: Path) -> None:
    link = '=HYPERLINK("http://evil.example","bấm vào đây")'
    rows = [VI[1:], [link, "+1", "-1", "@x", "A"]]
    path = _book(tmp_path / "tiem.xlsx", {"S": rows}, lambda ws: [setattr(ws[c], "data_type", "s")
                                                                  for c in ("A2", "B2", "C2", "D2")])
    bank = import_sheet(path)
    assert bank.questions[0].text == link and bank.questions[0].options == ("+1", "-1", "@x")
    for suffix in (".xlsx", ".csv"):
        out = tmp_path / f"export{suffix}"
        export_sheet(bank, out)
        if suffix == ".xlsx":
            with zipfile.ZipFile(out) as z:
                assert all(b"<f>" not in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
            assert load_workbook(out).active["B2"].data_type == "s"  # type: ignore[index]
        else:
            text = out.read_text(encoding="utf-8-sig")
            assert "'=HYPERLINK(" in text and "'@x" in text and ",+1," in text  # inert; "+1" is phone-like
        assert import_sheet(out, bank_id=bank.id, title=bank.title) == bank  # and read back exactly


def test_size_limits(tmp_path: Path) -> None:
    rows = [VI[1:]] + [[f"Câu {i}?", "a", "b", "c", "A"] for i in range(MAX_ROWS + 1)]
    csv_path = tmp_path / "nhieu.csv"
    csv_path.write_text("\n".join(",".join(map(str, r)) for r in rows), encoding="utf-8")
    problems = _problems(csv_path)
    assert [p.key for p in problems] == ["too_many_rows"]
    wide = _book(tmp_path / "rong.xlsx", {"S": [VI[1:], ["Hỏi?", "a", "b", "c", "A"]]},
                 lambda ws: setattr(ws["XFD2"], "value", "x"))
    (problem,) = _problems(wide)
    assert (problem.key, problem.row) == ("too_many_columns", 2) and "XFD2" in problem.message
    big = tmp_path / "bomb.xlsx"
    _book(big, {"S": [VI[1:], ["Hỏi?", "a", "b", "c", "A"]]})
    with zipfile.ZipFile(big) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = next(n for n in parts if n.startswith("xl/worksheets/"))
    parts[sheet] = parts[sheet].replace(b"</worksheet>", b"<!--" + b" " * (60 * 1024 * 1024) + b"--></worksheet>")
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    assert big.stat().st_size < 1024 * 1024  # small on disk, 60 MB unpacked
    (problem,) = _problems(big)
    assert problem.key == "unpacked_too_big"


def test_the_import_is_checked_by_the_toml_rules_in_the_same_language(tmp_path: Path) -> None:
    bank = import_sheet(_book(tmp_path / "ok.xlsx", {"S": [VI, ["Tập 1", "Hỏi?", "a", "b", "", "B"]]}))
    with pytest.raises(BankError) as info:
        parse_bank("[bank]\n", "x.toml", "vi")
    assert info.value.problems[0].message == "ngân hàng không có câu hỏi nào ([[questions]])"
    assert bank.questions[0].options == ("a", "b")
    with pytest.raises(SheetError) as sheet_info:
        import_sheet(tmp_path / "none.xlsx", lang="vi")
    assert sheet_info.value.lang == "vi" and sheet_info.value.problems[0].message == "không tìm thấy tệp"
