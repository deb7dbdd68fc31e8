"""The online contest's input files (issue 14): the contest file and the unit roster.

Both are written by an organiser's secretariat, so every problem is reported at once, with the
file, the place (table, round, pool; sheet, row, column) and what is wrong, in the contest's
language — and nothing half-valid is ever returned.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from quiz_engine.banks.sheets import SheetError
from quiz_engine.contest.loader import load_contest, parse_contest
from quiz_engine.contest.model import ZONE, Counts, Reveal
from quiz_engine.contest.roster import fold, read_roster
from quiz_engine.errors import BankError
from quiz_engine.library import BankLibrary
from tests.conftest import ROOT

SAMPLE = ROOT / "question_banks" / "cchc-online-2026.contest.toml"
LIB = BankLibrary([ROOT / "question_banks"])

BASE = """
[contest]
id = "c1"
title = "Thử"
bank = "cchc-2026"
language = "{lang}"
opens = 2026-11-16T07:30:00
closes = 2026-12-11T16:30:00
time_per_question = 30
{extra}

[[pools]]
id = "p1"
episodes = ["tap-1"]
draw = 5
"""


def _contest(extra: str = "", lang: str = "en", tail: str = "") -> str:
    return BASE.format(extra=extra, lang=lang) + tail


def _problems(text: str) -> list[str]:
    with pytest.raises(BankError) as caught:
        parse_contest(text, "c.toml", LIB.bank)
    return [str(p) for p in caught.value.problems]


def test_the_sample_contest_draws_20_questions_in_calendar_weeks() -> None:
    contest = load_contest(SAMPLE, LIB.bank)
    assert contest.bank == "cchc-2026" and contest.questions_per_attempt == 20
    assert [p.draw for p in contest.pools] == [5, 5, 5, 5] and all(len(p.question_ids) == 10 for p in contest.pools)
    assert contest.opens == dt.datetime(2026, 11, 16, 7, 30, tzinfo=ZONE)
    # weeks run Monday 00:00 to Monday 00:00, the first from the opening, the last cut at the closing
    assert [(r.id, r.opens.isoformat(), r.closes.isoformat()) for r in contest.rounds] == [
        ("w1", "2026-11-16T07:30:00+07:00", "2026-11-23T00:00:00+07:00"),
        ("w2", "2026-11-23T00:00:00+07:00", "2026-11-30T00:00:00+07:00"),
        ("w3", "2026-11-30T00:00:00+07:00", "2026-12-07T00:00:00+07:00"),
        ("w4", "2026-12-07T00:00:00+07:00", "2026-12-11T16:30:00+07:00"),
    ]
    assert [r.title for r in contest.rounds] == ["Tuần 1", "Tuần 2", "Tuần 3", "Tuần 4"]
    assert contest.attempts_per_round == 2 and contest.counts is Counts.BEST and contest.reveal is Reveal.AFTER_ROUND
    assert contest.required == ("full_name", "unit", "phone", "position") and contest.identity == ("phone",)
    assert contest.prediction is not None and "bao nhiêu" in contest.prediction.text
    assert contest.round_at(dt.datetime(2026, 11, 22, 23, 59, tzinfo=ZONE)).id == "w1"  # type: ignore[union-attr]
    assert contest.round_at(dt.datetime(2026, 11, 16, 0, 30, tzinfo=dt.UTC)).id == "w1"  # type: ignore[union-attr]
    assert contest.round_at(dt.datetime(2026, 11, 16, 7, 29, tzinfo=ZONE)) is None  # before the opening
    assert contest.round_at(dt.datetime(2026, 12, 11, 16, 30, tzinfo=ZONE)) is None  # closed
    public = contest.to_dict()
    assert public["questions"] == 20 and "pools" not in public  # nothing of the questions


def test_every_problem_of_a_contest_file_at_once() -> None:
    text = _contest(
        extra="""attempts = 0
counts = "average"
required = ["full_name", "shoe_size"]
identity = ["staff_id", "name"]
participation_threshold = 80
colour = "red"
""",
        tail="""
[[pools]]
id = "p1"
questions = ["q01", "q99"]
draw = 3

[[pools]]
id = "p3"
episodes = ["tap-9"]
draw = 2

[[pools]]
id = "p4"
episodes = ["tap-2"]
draw = 11
""")
    found = _problems(text)
    expected = [
        "c.toml: [contest] [attempts]: 'attempts' is 0; it must be from 1 to 100",
        "c.toml: [contest] [counts]: 'counts' is 'average'; choose one of: best, first",
        "c.toml: [contest] [required]: 'shoe_size' is not an entry field",
        "c.toml: [contest] [identity]: 'name' cannot say who a person is",
        "c.toml: [contest] [identity]: identity field 'staff_id' must also be in 'required'",
        "c.toml: [contest] [participation_threshold]: 'participation_threshold' is a share from 0 to 1",
        "c.toml: [contest] [colour]: unknown key 'colour'",
        "c.toml: pool 2 (p1) [id]: pool id 'p1' is used twice (also pool 1)",
        "c.toml: pool 2 (p1) [questions]: no question 'q99' in bank 'cchc-2026'",
        "c.toml: pool 2 (p1) [questions]: question 'q01' is also in pool 1: an attempt could draw it twice",
        "c.toml: pool 3 (p3) [episodes]: no episode 'tap-9' in bank 'cchc-2026'; its episodes are: tap-1, tap-2, "
        "tap-3, tap-4",
        "c.toml: pool 4 (p4) [draw]: 'draw' is 11, but the pool holds 10",
    ]
    for want in expected:
        assert any(p.startswith(want) for p in found), (want, found)
    assert len(found) == len(expected), found


def test_times_rounds_and_the_bank_are_checked() -> None:
    found = _problems(_contest(extra='rounds = "daily"').replace("closes = 2026-12-11T16:30:00",
                                                                  "closes = 2026-11-01T16:30:00")
                      .replace('bank = "cchc-2026"', 'bank = "nope"').replace("time_per_question = 30", ""))
    assert any("[closes]: 'closes' (01/11/2026 16:30) must be after 'opens' (16/11/2026 07:30)" in p for p in found)
    assert any("[bank]: no bank 'nope' in the bank folder; the banks there are:" in p and "cchc-2026" in p
               for p in found), found
    assert any("[time_per_question]: set 'time_per_question' or 'time_per_attempt'" in p for p in found)
    dated = _problems(_contest().replace("opens = 2026-11-16T07:30:00", "opens = 2026-11-16"))
    assert dated == ["c.toml: [contest] [opens]: 'opens' is a date without a time of day; "
                     "write e.g. 2026-11-16T07:30:00"]
    rounds = _problems(_contest(tail="""
[[rounds]]
id = "r1"
title = "Đợt 1"
opens = 2026-11-10T00:00:00
closes = 2026-11-20T00:00:00

[[rounds]]
id = "r1"
title = "Đợt 2"
opens = 2026-11-19T00:00:00
closes = 2026-11-18T00:00:00

[[rounds]]
id = "r3"
title = "Đợt 3"
opens = 2026-11-19T00:00:00
closes = 2026-11-25T00:00:00
"""))
    assert rounds == [
        "c.toml: round 1 (r1) [opens]: the round runs 10/11/2026 00:00 – 20/11/2026 00:00, outside the contest "
        "(16/11/2026 07:30 – 11/12/2026 16:30)",
        "c.toml: round 2 (r1) [id]: round id 'r1' is used twice (also round 1)",
        "c.toml: round 2 (r1) [closes]: the round closes (18/11/2026 00:00) before it opens (19/11/2026 00:00)",
        "c.toml: round 3 (r3) [opens]: the round opens (19/11/2026 00:00) before round 1 closes "
        "(20/11/2026 00:00): rounds must not overlap and go in order",
    ]


def test_explicit_rounds_text_times_and_offsets() -> None:
    contest = parse_contest(_contest(extra='opens_note = 1').replace('opens_note = 1', '').replace(
        "opens = 2026-11-16T07:30:00", 'opens = "2026-11-16 07:30"').replace(
        "closes = 2026-12-11T16:30:00", "closes = 2026-12-11T09:30:00Z"), "c.toml", LIB.bank)
    assert contest.opens == dt.datetime(2026, 11, 16, 7, 30, tzinfo=ZONE)
    assert contest.closes == dt.datetime(2026, 12, 11, 16, 30, tzinfo=ZONE)  # 09:30 UTC is 16:30 in Vietnam
    assert contest.rounds[0].title == "Week 1"  # an English contest names its weeks in English


def test_messages_follow_the_contest_language_and_syntax_errors_give_the_line(tmp_path: Path) -> None:
    vi = _problems(_contest(extra="attempts = 0", lang="vi"))
    assert vi == ["c.toml: [contest] [attempts]: “attempts” bằng 0; giá trị phải từ 1 đến 100"]
    broken = _problems(_contest(extra='title2 = "unterminated'))
    assert len(broken) == 1 and broken[0].startswith("c.toml: line 10: not valid TOML"), broken
    missing = tmp_path / "none.toml"
    with pytest.raises(BankError, match="file not found"):
        load_contest(missing, LIB.bank)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(_contest().replace("Thử", "Th\xe9").encode("latin-1"))
    with pytest.raises(BankError, match=r"not UTF-8 text \(byte \d+\)"):
        load_contest(latin1, LIB.bank)
    big = tmp_path / "big.toml"
    big.write_text(_contest() + "#" * (600 * 1024))
    with pytest.raises(BankError, match="a contest file is never more than 512 KB"):
        load_contest(big, LIB.bank)
    with pytest.raises(BankError, match=r"\[contest\] table"):
        parse_contest('title = "x"', "c.toml", LIB.bank)


# --- the unit roster -------------------------------------------------------------------------------------


def _sheet(path: Path, rows: list[list[object]], title: str = "Đơn vị", hidden: list[list[object]] | None = None,
           ) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = title
    for row in rows:
        ws.append(row)
    if hidden is not None:
        other = book.create_sheet("Ẩn")
        for row in hidden:
            other.append(row)
        other.sheet_state = "hidden"
    book.save(path)
    return path


HEAD = ["STT", "Đơn vị", "Trực thuộc", "Số CBCCVC"]


def test_a_roster_from_a_vietnamese_sheet(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "roster.xlsx", [
        ["DANH SÁCH ĐƠN VỊ THAM GIA"],  # a title above the header is fine
        HEAD,
        [1, "UBND phường Trần Phú", "TP Hải Dương", 42],
        [2, "UBND xã An Bình", "Huyện Nam Sách", "1.250"],  # thousands separator
        [3, "UBND xã An Bình", "Huyện Kim Thành", 30],  # the same name under another parent: another unit
        [4, "Sở Nội vụ", None, 85],
    ])
    roster = read_roster(path)
    assert [(u.name, u.parent, u.headcount) for u in roster.units] == [
        ("UBND phường Trần Phú", "TP Hải Dương", 42), ("UBND xã An Bình", "Huyện Nam Sách", 1250),
        ("UBND xã An Bình", "Huyện Kim Thành", 30), ("Sở Nội vụ", "", 85)]
    assert roster.headcount == 1407
    assert len({u.code for u in roster.units}) == 4 and roster.unit(roster.units[0].code) == roster.units[0]
    assert roster.units[1].label == "UBND xã An Bình — Huyện Nam Sách"
    # the picker: accents and case ignored, every word must match, the parent counts too
    assert [u.parent for u in roster.search("xa an binh")] == ["Huyện Kim Thành", "Huyện Nam Sách"]
    assert [u.name for u in roster.search("TRAN PHU hai duong")] == ["UBND phường Trần Phú"]
    assert [u.name for u in roster.search("so noi")] == ["Sở Nội vụ"]
    assert roster.search("nothing like it") == []
    assert fold("  Phường   1 ") == fold("phuong 1") == "phuong 1"


def test_every_roster_problem_at_once_with_row_and_column(tmp_path: Path) -> None:
    path = _sheet(tmp_path / "bad.xlsx", [
        HEAD,
        [1, "Phường 1", "TP Hải Dương", 40],
        [2, "Phuong  1", "tp hai duong", 12],  # the same unit typed without accents
        [3, "", "TP Hải Dương", 10],
        [4, "Phường 2", "TP Hải Dương", "abc"],
        [5, "Phường 3", "TP Hải Dương", 0],
        [6, "Phường 4", "TP Hải Dương", 12.5],
        [7, "Рhường 5", "TP Hải Dương", 10],  # a Cyrillic "Р" at the start
        [8, "Phường 7", "TP Hải Dương", "=1/0"],  # a formula with no saved value
        [9, "Phường 8", "TP Hải Dương", 25],
    ])
    with pytest.raises(SheetError) as caught:
        read_roster(path)
    found = [(p.location, p.field, p.message) for p in caught.value.problems]
    sheet = "trang tính “Đơn vị”"
    name, count = "cột B “Đơn vị”", "cột D “Số CBCCVC”"
    expected = [
        (f"{sheet}, dòng 3, {name}", "name", "“Phuong  1” thuộc “tp hai duong” đã có trong danh sách (dòng 2)"),
        (f"{sheet}, dòng 4, {name}", "name", "đơn vị chưa có tên"),
        (f"{sheet}, dòng 5, {count}", "headcount", "số CBCCVC “abc” không phải số nguyên từ 1 đến 1000000"),
        (f"{sheet}, dòng 6, {count}", "headcount", "số CBCCVC “0” không phải số nguyên"),
        (f"{sheet}, dòng 7, {count}", "headcount", "số CBCCVC “12,5” không phải số nguyên"),
        (f"{sheet}, dòng 8, {name}", "name", "từ “Рhường” lẫn chữ cái cyrillic “Р” (U+0420)"),
        (f"{sheet}, dòng 9, {count}", "headcount", "là công thức =1/0 chưa có giá trị được lưu"),
    ]
    assert len(found) == len(expected), found
    for (where, field, text), (got_where, got_field, got_text) in zip(expected, found, strict=True):
        assert (where, field) == (got_where, got_field) and got_text.startswith(text), (where, got_text)
    assert all(str(p).startswith(str(path)) for p in caught.value.problems)  # the file is named


def test_roster_files_that_cannot_be_a_roster(tmp_path: Path) -> None:
    with pytest.raises(SheetError, match="no sheet has a header row with the roster columns"):
        read_roster(_sheet(tmp_path / "q.xlsx", [["Câu hỏi", "A", "B"], ["x", "y", "z"]]), "en")
    with pytest.raises(SheetError, match="header but no units"):
        read_roster(_sheet(tmp_path / "empty.xlsx", [HEAD]), "en")
    with pytest.raises(SheetError, match="hidden"):
        read_roster(_sheet(tmp_path / "hid.xlsx", [HEAD, [1, "A", "", 3]], hidden=[HEAD, [1, "B", "", 4]]), "en")
    with pytest.raises(SheetError, match="file not found"):
        read_roster(tmp_path / "missing.xlsx", "en")
    csv = tmp_path / "roster.csv"  # Excel's ";" CSV, English headers, a code column
    csv.write_text("Code;Unit;Parent unit;Headcount\nhd-01;Phường 1;TP Hải Dương;40\nhd-01;Phường 2;;3\n"
                   'hd-03;"=HYPERLINK(""http://x"",""Phường 6"")";;5\n', encoding="utf-8")
    with pytest.raises(SheetError) as caught:
        read_roster(csv, "en")
    assert [(p.location, p.message) for p in caught.value.problems] == [
        ('row 3, column A "Code"', "the code 'hd-01' is already used (row 2)"),
        ('row 4, column B "Unit"', "'=HYPERLINK(\"http://x\",\"Phường 6\")' starts like a formula (=, + or @); a "
         "spreadsheet opening the reports would run it: retype the name")]
    csv.write_text("Code;Unit;Parent unit;Headcount\nhd-01;Phường 1;TP Hải Dương;40\nhd-02;Phường 2;;3\n",
                   encoding="utf-8")
    assert [u.code for u in read_roster(csv, "en").units] == ["hd-01", "hd-02"]
