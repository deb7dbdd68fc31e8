"""Exports the secretariat prints, signs and opens in Excel (issue 13, item 14).

The pure parts are tested on plain dicts: the drop-off rule, phones Excel keeps as text, the
CSV columns in both languages, the wide participation CSV, the printable XLSX (title block,
signature block). One real episode on a real server and Redis checks them end to end: a
viewer who leaves, one who skips the last question but stays, the review column filled in
the episode and the season lists, the HTML heading without a doubled "Tập:".
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from quiz_engine.reports import render
from quiz_engine.reports.data import drop_offs, drop_point
from quiz_engine.reports.labels import flag_text, labels
from quiz_engine.reports.safe import csv_phone
from quiz_engine.reports.tables import (
    Table,
    episode_label,
    participation_wide_csv,
    report_heading,
    results_csv,
)
from quiz_engine.reports.xlsx import workbook_bytes
from tests.client import Client
from tests.conftest import ServerProc

NOW = dt.datetime(2026, 12, 5, 21, 30)

# --- drop-off ---------------------------------------------------------------------------------------

OPENED = [0, 1, 2, 3]  # question 4 (index 3) is the last one opened


@pytest.mark.parametrize(("answered", "seen", "stopped"), [
    ({0, 1, 2, 3}, set(), None),  # answered everything
    ({0, 1, 2}, {3}, None),  # skipped only the last question, still there: not a drop-off (the reported case)
    ({0, 2, 3}, {1}, None),  # skipped one in the middle
    ({0, 1}, {2}, None),  # stopped answering after question 2 but question 3 still reached the phone
    ({0, 1}, set(), 1),  # answered 1-2, then nothing reached them and they sent nothing: left after question 2
    ({0, 1, 2}, set(), 2),  # left after question 3 (the last question never reached them)
    ({0}, {0}, 0),  # left after question 1
    ({1}, {3}, None),  # a rejected attempt (late) at question 4: still there
    (set(), {0, 1}, None),  # never answered: not a drop-off, they never started
    ({3}, set(), None),  # answered only the last question
])
def test_drop_point(answered: set[int], seen: set[int], stopped: int | None) -> None:
    assert drop_point(OPENED, answered, seen) == stopped


def test_drop_offs_count_each_player_once_after_their_last_answer() -> None:
    answered = {"a": {0, 1, 2, 3}, "b": {0, 1, 2}, "c": {0, 1}, "d": {0}, "e": {0}}
    seen = {"b": {3}, "c": {1}, "e": {2}}
    assert drop_offs(OPENED, answered, seen) == {1: 1, 0: 1}
    # a question the host skipped is not "opened": nobody can drop off after it
    assert drop_offs([0, 2], {"x": {0}}, {}) == {0: 1}


# --- phones Excel keeps as text ---------------------------------------------------------------------


def _excel_number(text: str) -> bool:
    """Would Excel (English or Vietnamese regional settings) read this CSV field as a number or a formula?"""
    if text[:1] in "=+-@":
        return True
    for decimal, group in ((".", ","), (",", ".")):
        candidate = text.replace(group, "").replace(decimal, ".")
        if re.fullmatch(r"\(?\d+(\.\d+)?\)?%?", candidate):
            return True
    return False


@pytest.mark.parametrize(("typed", "written"), [
    ("0912345678", "0912 345 678"), ("+84912345678", "0912 345 678"), ("+84 912 345 678", "0912 345 678"),
    ("0912-345-678", "0912 345 678"), ("0912.345.678", "0912 345 678"), ("02838221234", "0283 822 1234"),
    ("+12025550100", "0012 025 550 100"), ("0912 345 678", "0912 345 678"), ("(028) 3822-1234", "(028) 3822-1234"),
    ("", ""), ("Lan", "Lan"),
])
def test_phones_are_written_as_text_excel_keeps(typed: str, written: str) -> None:
    assert csv_phone(typed) == written
    assert written == "" or not _excel_number(written)
    if re.fullmatch(r"\+?\d+", typed):
        assert _excel_number(typed)  # what went wrong before: bare digits become a number (or a formula)


# --- the results CSV --------------------------------------------------------------------------------


def _person(name: str, phone: str, time_ms: float, flags: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"player": f"p-{name}", "tag": "K7QM", "name": name, "full_name": f"Nguyễn {name}", "unit": "Sở Nội vụ",
            "phone": phone, "time_ms": time_ms, "flags": flags or [], **extra}


RESULTS: dict[str, Any] = {
    "episode": "cchc-2026.tap-1", "title": "Tập 1: Thể chế", "bank": "cchc-2026", "language": "vi",
    "bank_title": "Cuộc thi tìm hiểu cải cách hành chính 2026", "date": "2026-12-05", "phase": "finished",
    "one_prize_per_person": True, "disqualified": [],
    "questions": [
        {"index": 0, "text": "Câu một?", "voided": False, "correct": 1, "answers": 3, "correct_answers": 2,
         "winner": _person("Lan", "0912345678", 4310.0, ["shared_ip: 5 players joined from 10.0.0.1"]),
         "reserves": [_person("=HYPERLINK(\"http://x\")", "+84 912 000 111", 5001.2)]},
        {"index": 1, "text": "Câu hai?", "voided": True, "correct": 0, "answers": 0, "correct_answers": 0,
         "winner": None, "reserves": []},
    ],
    "standings": [{**_person("Lan", "0912345678", 4310.0), "rank": 1, "correct": 1}],
}


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_results_csv_in_english_seconds_and_phones() -> None:
    rows = _csv(results_csv(RESULTS))
    assert list(rows[0]) == ["section", "question", "place", "player", "name", "full_name", "unit", "phone",
                             "time_s", "correct_answers", "note"]
    winner, reserve, voided, standing = rows
    assert (winner["time_s"], winner["phone"], winner["note"]) == (
        "4.310", "0912 345 678", "winner; review shared_ip: 5 players joined from 10.0.0.1")
    assert reserve["name"] == "'=HYPERLINK(\"http://x\")"  # still inert
    assert (reserve["time_s"], reserve["phone"]) == ("5.001", "0912 000 111")
    assert voided["note"] == "voided" and standing["section"] == "standings"


def test_results_csv_in_vietnamese() -> None:
    rows = list(csv.reader(io.StringIO(results_csv(RESULTS, "vi"))))
    assert rows[0] == ["Phần", "Câu", "Vị trí", "Mã người chơi", "Tên hiển thị", "Họ và tên", "Đơn vị công tác",
                       "Điện thoại", "Thời gian (giây)", "Số câu đúng", "Ghi chú"]
    assert rows[1][0] == "Giải từng câu" and rows[1][-1] == (
        "Đoạt giải; cần xem xét — chung địa chỉ mạng: 5 người chơi cùng tham gia từ địa chỉ 10.0.0.1")
    assert rows[2][-1] == "Dự bị 1" and rows[3][-1] == "Câu bị hủy" and rows[4][0] == "Bảng xếp hạng"


def test_render_writes_a_bom_and_follows_the_bank_language() -> None:
    payload = render(RESULTS, "csv")
    assert payload.startswith(b"\xef\xbb\xbf" + "Phần,".encode())  # UTF-8 BOM: Excel reads Vietnamese right
    assert render({**RESULTS, "language": "en"}, "csv").startswith(b"\xef\xbb\xbfsection,")
    assert render(RESULTS, "csv", lang="en").startswith(b"\xef\xbb\xbfsection,")


def test_flags_in_vietnamese() -> None:
    assert flag_text("too_fast: 2 correct answer(s) under 300 ms (Q1 53 ms, Q3 61 ms)", "vi") == (
        "trả lời quá nhanh: 2 câu trả lời đúng dưới 300 ms (câu 1: 53 ms, câu 3: 61 ms)")
    assert flag_text("Tập 2: same_timing: response times within 30 ms of p1 on 3+ questions", "vi") == (
        "Tập 2: thời gian trả lời trùng khớp: thời gian trả lời chênh không quá 30 ms so với p1 ở từ 3 câu trở lên")
    assert flag_text("shared_ip: 5 players joined from 10.0.0.1", "en") == "shared_ip: 5 players joined from 10.0.0.1"
    assert flag_text("something new", "vi") == "something new"  # never lost


def test_episode_label_is_not_doubled() -> None:
    L = labels("vi")
    assert episode_label("Tập 1: Thể chế", "cchc-2026.tap-1", L) == "Tập 1: Thể chế (cchc-2026.tap-1)"
    assert episode_label("Thể chế", "cchc-2026.tap-1", L) == "Tập: Thể chế (cchc-2026.tap-1)"
    assert episode_label("Episode 2", "", labels("en")) == "Episode 2"


# --- the wide participation CSV ---------------------------------------------------------------------


def test_participation_wide_csv() -> None:
    report = {
        "kind": "participation", "episode": "x.e1", "questions": [
            {"index": 0, "status": "played", "correct_option": "B", "answers": 2},
            {"index": 1, "status": "voided", "correct_option": "A", "answers": 1},
            {"index": 2, "status": "unplayed", "correct_option": ""},
        ],
        "_per_player": [
            {"player": "p1", "tag": "K7QM", "name": "@Lan", "unit": "Sở Nội vụ", "answers": {0: "B", 1: "C"},
             "correct": 1, "dropped_after": None},
            {"player": "p2", "tag": "ABCD", "name": "Minh", "unit": "", "answers": {0: "A"}, "correct": 0,
             "dropped_after": 0},
        ],
    }
    rows = list(csv.reader(io.StringIO(participation_wide_csv(report, "en"))))
    assert rows[0] == ["player", "name", "unit", "Q1 (B)", "Q2 (A, Voided)", "answered", "correct",
                       "first_answered", "last_answered", "dropped_after"]
    assert rows[1] == ["p1", "'@Lan #K7QM", "Sở Nội vụ", "B", "C", "2", "1", "1", "2", ""]
    assert rows[2] == ["p2", "Minh #ABCD", "(no unit given)", "A", "", "1", "0", "1", "1", "1"]
    vi = list(csv.reader(io.StringIO(participation_wide_csv(report, "vi"))))
    assert vi[0][3:5] == ["Câu 1 (đáp án B)", "Câu 2 (đáp án A, Câu bị hủy)"] and vi[0][-1] == "Dừng sau câu"


# --- the printable XLSX -----------------------------------------------------------------------------


def test_results_xlsx_is_a_printable_list_with_title_and_signature_blocks() -> None:
    payload = render(RESULTS, "xlsx", now=NOW)
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        assert all(b"<f>" not in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    ws = load_workbook(io.BytesIO(payload))["Giải từng câu"]
    column_a = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    assert column_a[:6] == [
        "CUỘC THI TÌM HIỂU CẢI CÁCH HÀNH CHÍNH 2026",
        "DANH SÁCH NGƯỜI ĐOẠT GIẢI NHANH NHẤT TỪNG CÂU HỎI",
        "Tập 1: Thể chế (cchc-2026.tap-1)",  # the title already says "Tập 1": no "Tập: Tập 1"
        "Ngày phát sóng: 05/12/2026",
        "Quy định áp dụng: Mỗi người chỉ nhận một giải câu hỏi trong một tập: có",
        "Lập lúc: 05/12/2026 21:30",
    ]
    header = 8
    assert column_a[header - 1] == "Câu" and ws.print_title_rows == f"${header}:${header}"
    assert ws.freeze_panes == f"A{header + 1}" and ws.auto_filter.ref == f"A{header}:J{header + 3}"
    flags = [c.value for c in ws[header] if c.value == "Cần xem xét"]
    assert flags and ws.cell(row=header + 1, column=9).value == (
        "chung địa chỉ mạng: 5 người chơi cùng tham gia từ địa chỉ 10.0.0.1")
    signature = header + 3 + 2  # the last data row, a blank row, then the place and date
    texts = {ws.cell(row=r, column=c).value for r in range(signature, signature + 3) for c in (1, 6)}
    assert {"……………, ngày 05 tháng 12 năm 2026", "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG ĐƠN VỊ", "(Ký, ghi rõ họ tên)",
            "(Ký tên, đóng dấu)"} <= texts
    assert ws.print_area == f"'Giải từng câu'!$A$1:$J${signature + 2 + 4}"  # with room to sign
    english = load_workbook(io.BytesIO(render(RESULTS, "xlsx", lang="en", now=NOW)))["Question prizes"]
    assert [english.cell(row=r, column=1).value for r in (2, 3)] == [
        "FASTEST CORRECT RESPONDER OF EACH QUESTION", "Episode: Tập 1: Thể chế (cchc-2026.tap-1)"]


def test_workbook_without_a_heading_keeps_the_plain_layout() -> None:
    table = Table("Sheet", [("name", "text"), ("n", "int")], [["Lan", 1]])
    ws = load_workbook(io.BytesIO(workbook_bytes([table]))).active
    assert ws is not None and ws["A1"].value == "name" and ws["A2"].value == "Lan" and ws.freeze_panes == "A2"
    heading = report_heading({"kind": "season_results", "season": "cchc-2026", "episodes": [{}, {}],
                              "bank_title": "Cuộc thi"}, "vi", NOW)
    assert heading.lines == ["Mùa thi: cchc-2026 (2 tập)", "Lập lúc: 05/12/2026 21:30"]


# --- a real episode ---------------------------------------------------------------------------------


def _get(server: ServerProc, path: str, **params: str) -> httpx.Response:
    with server.host() as host:
        r = host.get(path, params=params)
    assert r.status_code == 200, (path, r.text)
    return r


async def test_a_played_episode_end_to_end(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    """Six viewers on one address (five answering ones give the review column a shared_ip flag):
    stay and also answer everything; skipper answers Q1-Q2 and is still there for Q3; leaver answers
    Q1 and closes the app; middle skips Q2 only; late answers Q1 after it closed, then leaves."""
    server = make_server("--load", "test/ep1")
    names = ["stay", "also", "skipper", "leaver", "middle", "late"]
    clients = {n: await Client.connect(f"{server.ws}/ws/viewer") for n in names}
    for n, c in clients.items():
        await c.join(n, full_name=f"Người {n}", unit="Sở Nội vụ", phone="0912345678")
    plan = {0: {"stay": 1, "also": 1, "skipper": 1, "leaver": 1, "middle": 0}, 1: {"stay": 0, "also": 0,
                                                                                     "skipper": 0},
            2: {"stay": 2, "also": 2, "middle": 2}}
    try:
        for q, answers in plan.items():
            assert server.cmd("open", expect=q).status_code == 200
            for n in list(clients):
                await clients[n].expect("question", index=q)
            for n, option in answers.items():
                assert (await clients[n].answer(q, option))["ok"]
            assert server.cmd("close").status_code == 200
            if q == 0:
                assert (await clients["late"].answer(0, 1))["reason"] == "late"
                for n in ("leaver", "late"):
                    await clients.pop(n).close()
                await asyncio.sleep(0.3)
            assert server.cmd("reveal").status_code == 200
    finally:
        for c in clients.values():
            await c.close()

    report = _get(server, "/api/host/reports/participation.json", episode="test.ep1").json()
    # leaver after Q1; not skipper (still there for Q3), nor late (no accepted answer: never started)
    assert [q["dropped_after"] for q in report["questions"]] == [1, 0, 0]
    wide = _csv(_get(server, "/api/host/reports/participation.csv", episode="test.ep1", layout="wide").content
                .decode("utf-8-sig"))
    by_name = {re.sub(r" #\w{4}$", "", r["name"]): r for r in wide}
    assert (by_name["leaver"]["dropped_after"], by_name["skipper"]["dropped_after"]) == ("1", "")
    assert by_name["middle"]["Q2 (A)"] == "" and by_name["middle"]["Q3 (C)"] == "C"
    assert by_name["late"]["answered"] == "0"  # a rejected attempt is not an answer

    results = _csv(_get(server, "/api/host/reports/results.csv", episode="test.ep1").content.decode("utf-8-sig"))
    winner = next(r for r in results if r["section"] == "question" and r["place"] == "1")
    assert winner["phone"] == "0912 345 678" and re.fullmatch(r"\d+\.\d{3}", winner["time_s"])
    assert "review shared_ip" in winner["note"]

    # the review column of the season lists was empty: their rows never carried the flags
    season = load_workbook(io.BytesIO(_get(server, "/api/host/reports/results.xlsx", season="test",
                                           lang="vi").content))
    for sheet in ("Bảng xếp hạng cả mùa", "Giải từng tập"):
        ws = season[sheet]
        header = int(str(ws.print_title_rows).split(":")[0].lstrip("$"))
        column = [c.value for c in ws[header]].index("Cần xem xét") + 1
        review = ws.cell(row=header + 1, column=column).value
        assert "chung địa chỉ mạng: 5 người chơi" in review, sheet
        # a season standings row names the episode each flag comes from
        assert review.startswith("Test episode: ") == (sheet == "Bảng xếp hạng cả mùa")

    html = _get(server, "/api/host/reports/results.html", episode="test.ep1", lang="vi").text
    assert "Tập: Test episode" in html  # the title has no "Tập" of its own: the label stays
    cli = subprocess.run([sys.executable, "-m", "quiz_engine", "participation", "test.ep1", "--layout", "wide",
                          "--redis-url", server.redis_url], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.splitlines()[0].startswith("player,name,unit,Q1 (B),Q2 (A),Q3 (C)")  # an English bank
