"""The online contest over a real server (issue 14): the participant API end to end on real
Redis and uvicorn, what it refuses and why, a node restarted in the middle of an attempt, and a
node started with a bad contest file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, ServerProc
from tests.contest_files import contest_args, write_contest

ENTRY = {"full_name": "Trần Thị Bình", "unit": "ns-anbinh", "phone": "0912 345 678"}


def _client(server: ServerProc, token: str | None = None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base, headers=headers, timeout=10)


def _enter(server: ServerProc, **fields: Any) -> str:
    with _client(server) as c:
        r = c.post("/api/contest/enter", json={**ENTRY, **fields})
        assert r.status_code == 200, r.text
        return str(r.json()["token"])


def _play(c: httpx.Client, aid: str, option: int = 0) -> dict[str, Any]:
    while True:
        step = c.post(f"/api/contest/attempts/{aid}/next").json()
        if "done" in step:
            return dict(step["done"])
        q = step["question"]
        r = c.post(f"/api/contest/attempts/{aid}/answer", json={"index": q["index"], "option": option})
        assert r.status_code == 200 and r.json()["ok"], r.text


def test_a_participant_from_entry_to_the_review(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path))
    with _client(server) as c:
        info = c.get("/api/contest").json()
        assert info["id"] == "test-online" and info["questions"] == 4 and info["round"] == "w1"
        assert info["prediction"] and info["required"] == ["full_name", "unit", "phone"] and info["units"] == 4
        assert "pools" not in info and "bank" not in info
        units = c.get("/api/contest/units", params={"q": "xa an binh"}).json()["units"]
        assert [u["label"] for u in units] == ["UBND xã An Bình — Huyện Kim Thành", "UBND xã An Bình — Huyện Nam Sách"]
        # a specific refusal per field, nothing stored
        bad = c.post("/api/contest/enter", json={**ENTRY, "phone": "12345"})
        assert bad.status_code == 400 and (bad.json()["field"], bad.json()["reason"]) == ("phone", "bad_phone")
        typed = c.post("/api/contest/enter", json={**ENTRY, "unit": "UBND xã An Bình"})
        assert typed.status_code == 400 and typed.json()["reason"] == "unknown_unit"
        assert c.post("/api/contest/enter", content=b"[1]").status_code == 400
    token = _enter(server)
    with _client(server, token) as c:
        me = c.get("/api/contest/me").json()
        assert me["profile"]["phone"] == "0912345678" and me["attempts_left"] == 2 and me["open_attempt"] is None
        assert c.post("/api/contest/start", json={}).status_code == 400  # the prediction is required here
        started = c.post("/api/contest/start", json={"prediction": 7}).json()
        aid = started["attempt"]
        first = c.post(f"/api/contest/attempts/{aid}/next").json()["question"]
        assert first["index"] == 0 and first["count"] == 4 and len(first["options"]) == 4
        assert first["deadline"] - first["delivered_at"] == 30_000 and "correct" not in first
        again = c.post(f"/api/contest/attempts/{aid}/next").json()["question"]
        assert again["delivered_at"] == first["delivered_at"]  # asked twice: delivered once
        ok = c.post(f"/api/contest/attempts/{aid}/answer", json={"index": 0, "option": 2}).json()
        assert ok["ok"] and ok["next"] == 1 and "correct" not in ok  # never told during the attempt
        twice = c.post(f"/api/contest/attempts/{aid}/answer", json={"index": 0, "option": 1})
        assert twice.status_code == 409 and twice.json()["reason"] == "answered"
        assert c.post(f"/api/contest/attempts/{aid}/answer", json={"index": 1, "option": 9}).status_code == 400
        # a second start while this one runs: told to resume it
        busy = c.post("/api/contest/start", json={"prediction": 7})
        assert busy.status_code == 409 and busy.json()["reason"] == "in_progress" and busy.json()["attempt"] == aid
        done = _play(c, aid)
        assert done["questions"] == 4 and done["why"] == "complete" and done["review"] is True
        review = c.get(f"/api/contest/attempts/{aid}/review").json()["questions"]
        assert len(review) == 4 and review[0]["chosen"] == 2 and all(0 <= q["correct"] < 4 for q in review)
        assert sum(q["chosen"] == q["correct"] for q in review) == done["correct"]
        second = c.post("/api/contest/start", json={"prediction": 9}).json()["attempt"]
        _play(c, second, option=1)
        limit = c.post("/api/contest/start", json={"prediction": 9})
        assert limit.status_code == 409 and limit.json()["reason"] == "limit"
        me = c.get("/api/contest/me").json()
        assert me["attempts_left"] == 0 and [r["attempt"] for r in me["results"]] == [aid, second]
        # the public results wait for the round to close
        assert c.get("/api/contest/results", params={"round": "w1"}).status_code == 409
    # the same identity again (a new phone): the same person, the same attempts
    assert _enter(server, phone="+84912345678").split(".")[0] == token.split(".")[0]


def test_tokens_and_attempts_are_personal(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path))
    mine, theirs = _enter(server), _enter(server, phone="0987654321", full_name="Lê Văn Cường")
    with _client(server, mine) as c:
        aid = c.post("/api/contest/start", json={"prediction": 1}).json()["attempt"]
    with _client(server, theirs) as other:
        stolen = other.post(f"/api/contest/attempts/{aid}/next")
        assert stolen.status_code == 409 and stolen.json()["reason"] == "not_yours"
        assert other.get(f"/api/contest/attempts/{aid}/review").status_code == 409
    with _client(server, theirs) as hammer:  # a script hammering the API is slowed down, per participant
        codes = [hammer.get("/api/contest/me").status_code for _ in range(60)]
        assert codes[:30] == [200] * 30 and 429 in codes[40:]
    with _client(server, mine) as c:
        assert c.get("/api/contest/me").status_code == 200  # the others are not
    forged = mine.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    for token in (None, forged, "garbage"):
        with _client(server, token) as c:
            assert c.get("/api/contest/me").status_code == 401
            assert c.post("/api/contest/start", json={"prediction": 1}).status_code == 401


def test_a_node_restarted_mid_attempt_loses_nothing(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    args = contest_args(tmp_path)
    first = make_server(*args)
    token = _enter(first)
    with _client(first, token) as c:
        aid = c.post("/api/contest/start", json={"prediction": 3}).json()["attempt"]
        q0 = c.post(f"/api/contest/attempts/{aid}/next").json()["question"]
        assert c.post(f"/api/contest/attempts/{aid}/answer", json={"index": 0, "option": 1}).json()["ok"]
        q1 = c.post(f"/api/contest/attempts/{aid}/next").json()["question"]
    first.stop()
    second = make_server(*args)  # another process, the same Redis: the token and the attempt hold
    with _client(second, token) as c:
        assert c.get("/api/contest/me").json()["open_attempt"] == aid
        back = c.post(f"/api/contest/attempts/{aid}/next").json()["question"]
        assert (back["index"], back["delivered_at"]) == (1, q1["delivered_at"]) and back["text"] == q1["text"]
        assert q0["index"] == 0
        done = _play(c, aid)
        assert done["why"] == "complete"


def test_a_server_without_a_contest_and_bad_contest_files(make_server: Callable[..., ServerProc],
                                                         tmp_path: Path, fresh_redis: str) -> None:
    plain = make_server()
    with _client(plain) as c:
        assert c.get("/api/contest").status_code == 404
        assert c.get("/contest").status_code == 404
    contest, roster = write_contest(tmp_path)
    broken = tmp_path / "broken.contest.toml"
    broken.write_text(contest.read_text(encoding="utf-8").replace("attempts = 2", "attempts = 0"), encoding="utf-8")
    base = [sys.executable, "-m", "quiz_engine", "serve", "--port", "0", "--redis-url", fresh_redis,
            "--bank", str(ROOT / "question_banks")]
    for extra, expected in (
        (["--contest", str(broken), "--roster", str(roster)],
         "[contest] [attempts]: “attempts” bằng 0; giá trị phải từ 1 đến 100"),  # in the contest's language
        (["--contest", str(contest)], "--contest needs --roster"),
    ):
        done = subprocess.run([*base, *extra], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert done.returncode != 0 and expected in done.stderr, done.stderr[-2000:]


def test_the_organiser_sees_units_winners_look_alikes_and_downloads(make_server: Callable[..., ServerProc],
                                                                    tmp_path: Path) -> None:
    import io

    import openpyxl

    server = make_server(*contest_args(tmp_path))
    people = [("Nguyễn Văn An", "ns-anbinh", "0901000001"), ("Lê Thị Bích", "ns-anbinh", "0901000002"),
              ("Phạm Văn Cường", "tp-tranphu", "0901000003"), ("Nguyễn Văn An", "kt-anbinh", "0901000001")]
    for name, unit, phone in people:  # the last: An's phone again, in another unit — a look-alike
        token = _enter(server, full_name=name, unit=unit, phone=phone)
        with _client(server, token) as c:
            aid = c.post("/api/contest/start", json={"prediction": 2}).json()["attempt"]
            _play(c, aid)
    with _client(server) as anonymous:
        assert anonymous.get("/api/host/contest/overview").status_code == 401
    with server.host() as host:
        view = host.get("/api/host/contest/overview").json()
        counts = view["counts"]
        assert counts["people"] == 4 and counts["in_progress"] == 0 and counts["today"] == 4
        assert counts["finished_in_round"] == 4 and counts["participants_in_round"] == 4 and counts["headcount"] == 175
        units = {u["code"]: u for u in view["units"]}
        assert units["ns-anbinh"]["participants"] == 2 and units["ns-anbinh"]["rate"] == round(2 / 25, 4)
        assert units["hd-snv"]["participants"] == 0 and units["hd-snv"]["under"]  # threshold 50 %
        assert [u["code"] for u in view["units"]][:2] == ["kt-anbinh", "ns-anbinh"]  # parent, then name
        assert len(view["winners"]) == 4 and all(w["phone"].startswith("0901") for w in view["winners"])
        [pair] = view["lookalikes"]
        assert pair["reason"] == "same_phone" and {pair["a"]["unit"], pair["b"]["unit"]} == {
            "UBND xã An Bình — Huyện Kim Thành", "UBND xã An Bình — Huyện Nam Sách"}
        xlsx = host.get(view["downloads"]["xlsx"])
        assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        sheet = book["Tỷ lệ tham gia"]
        rows = [[c.value for c in row] for row in sheet.iter_rows() if any(c.value for c in row)]
        header = next(i for i, r in enumerate(rows) if r[0] == "Đơn vị")
        body = {r[0] + "|" + r[1]: r for r in rows[header + 1: header + 5]}
        nam_sach = body["UBND xã An Bình|Huyện Nam Sách"]
        assert nam_sach[2:5] == [25, 2, 2 / 25] and "Dưới ngưỡng 50%" in nam_sach[8]
        assert nam_sach[7] == units["ns-anbinh"]["average"]  # the units' second ranking: average score
        assert any("NGƯỜI LẬP BIỂU" in str(v) for r in rows for v in r)  # a printable list, to sign
        winners = book["Người đạt kết quả cao"]
        phones = [c.value for c in winners["D"] if c.value and str(c.value).startswith("09")]
        assert len(phones) == 4 and winners["D"][-1].data_type == "s"  # text: the leading zero stays
        page = host.get("/api/host/contest/report.html", params={"lang": "en"})
        assert page.status_code == 200 and "Participation by unit" in page.text and "<img" in page.text
        assert "Nguyễn Văn An" in page.text and 'class="hard"' in page.text
        assert host.get("/api/host/contest/report.pdf").status_code == 404
        assert host.get("/api/host/contest/overview", params={"round": "w9"}).status_code == 400


def test_verify_from_the_panel_and_the_command_line(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    args = contest_args(tmp_path)
    server = make_server(*args)
    token = _enter(server)
    with _client(server, token) as c:
        _play(c, c.post("/api/contest/start", json={"prediction": 4}).json()["attempt"])
    with server.host() as host:
        result = host.get("/api/host/contest/verify").json()
        assert result["ok"] and result["finished"] == 1 and result["answers"] == 4, result
    contest = args[args.index("--contest") + 1]
    done = subprocess.run([sys.executable, "-m", "quiz_engine", "contest", "verify", contest, "--banks",
                           str(ROOT / "question_banks"), "--redis-url", server.redis_url],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0 and "test-online: OK: 1 attempts, 1 finished, 4 answers" in done.stdout, (
        done.stdout + done.stderr)


def test_each_units_link_and_qr_code(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server(*contest_args(tmp_path), "--public-url", "https://thi.example.gov.vn")
    with _client(server) as c:
        assert c.get("/api/contest/units", params={"code": "ns-anbinh"}).json()["units"][0]["label"] == (
            "UBND xã An Bình — Huyện Nam Sách")
        assert c.get("/api/contest/units", params={"code": "nope"}).json() == {"units": []}
        qr = c.get("/contest/qr.svg", params={"unit": "ns-anbinh"})
        assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and "<svg" in qr.text
        assert c.get("/contest/qr.svg", params={"unit": "<script>"}).status_code == 404
        assert c.get("/contest/qr.svg").status_code == 200
    with server.host() as host:
        sheet = host.get("/api/host/contest/qr-sheet.html")
        assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
        assert sheet.text.count("<svg") == 4 and "https://thi.example.gov.vn/contest?unit=ns-anbinh" in sheet.text
        assert "UBND xã An Bình" in sheet.text and "Huyện Kim Thành" in sheet.text
    with _client(server) as anonymous:
        assert anonymous.get("/api/host/contest/qr-sheet.html").status_code == 401
