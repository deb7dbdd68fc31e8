"""Reports from a season played on a real server, real Redis and real sockets.

Twelve viewers from four units (one typing its unit differently) play two episodes of
``tests/banks/season-bank.toml``. Every viewer answers at a fixed position in each
question (viewer i after ``BASE + i * SPACING`` seconds), so who is fastest, the reserves,
the standings, the per-unit counts and the per-question correct rates are all known from
the plan below, without asking the engine.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from quiz_engine.game.standings import PlayerScore, Standing
from quiz_engine.redis_server import EmbeddedRedis
from quiz_engine.reports.data import SEASON_ORDER_BASE, season_scores, unit_groups
from quiz_engine.reports.season import episode_prizes
from tests.client import Client
from tests.conftest import ROOT, ServerProc, start_server

SEASON_BANK = ROOT / "tests" / "banks" / "season-bank.toml"
SCREENSHOTS = ROOT / "docs" / "screenshots"
BASE, SPACING = 0.05, 0.15  # 150 ms between positions: order survives a loaded CI machine
N = 12
UNITS = ["Sở Nội vụ"] * 4 + ["sở  nội VỤ"] + ["UBND huyện Vạn Ninh"] * 4 + ["Sở Tư pháp"] * 2 + [""]
FULL = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Vũ Thị Giang",
        "Đặng Văn Hải", "Bùi Thị Hoa", "Đỗ Văn Khánh", "Ngô Thị Lan", "Dương Văn Minh", "Lý Thị Ngọc"]
DQ = 1  # v01 is disqualified in e1 after the last question
LATE = 11  # v11 answers question 1 of e1 after it closed
ABSENT_IN_E1 = 10  # v10 disconnects before e1 and comes back (resume) for e2

# plan[episode][question] = {viewer: option}; correct options: e1 B, A, C; e2 D, B
CORRECT = {"e1": [1, 0, 2], "e2": [3, 1]}
R, W = "right", "wrong"
PLAN_TEXT = {
    "e1": [
        {0: R, 1: R, 2: R, 3: W, 4: R, 5: R, 6: W, 7: R, 8: R},
        {0: W, 1: R, 2: R, 3: R, 4: R, 6: R, 7: W, 8: R},
        {0: R, 1: R, 2: W, 3: R, 4: R, 6: R, 7: R},
    ],
    "e2": [
        {0: R, 2: R, 3: R, 4: R, 10: R},
        {0: W, 2: W, 3: W, 4: R},
    ],
}


def plan(ep: str, q: int) -> dict[int, int]:
    right = CORRECT[ep][q]
    return {v: right if kind == R else (right + 1) % 4 for v, kind in PLAN_TEXT[ep][q].items()}


def name(v: int) -> str:
    return f"v{v:02d}"


# --- what the construction implies (computed here, not by the engine) ----------------------------


def expected_winners(ep: str, disqualified: set[int]) -> list[list[str]]:
    """Per question: fastest correct responder then up to three reserves (position order)."""
    out = []
    for q in range(len(CORRECT[ep])):
        right = sorted(v for v, o in plan(ep, q).items() if o == CORRECT[ep][q] and v not in disqualified)
        out.append([name(v) for v in right[:4]])
    return out


def expected_standings(eps: list[str], disqualified: set[int]) -> list[str]:
    """Most correct first; equal counts: smaller position = smaller summed time."""
    correct: dict[int, int] = {}
    for ep in eps:
        for q in range(len(CORRECT[ep])):
            for v, o in plan(ep, q).items():
                if o == CORRECT[ep][q] and v not in disqualified:
                    correct[v] = correct.get(v, 0) + 1
    return [name(v) for v in sorted(correct, key=lambda v: (-correct[v], v))]


@dataclass
class Played:
    server: ServerProc
    redis_url: str
    players: dict[str, str] = field(default_factory=dict)  # player id -> name
    ids: dict[str, str] = field(default_factory=dict)  # name -> player id
    tmp: Path = Path()

    def get(self, path: str, **params: Any) -> httpx.Response:
        with self.server.host() as host:
            return host.get(path, params=params)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "quiz_engine", *args, "--redis-url", self.redis_url],
                              capture_output=True, text=True, cwd=self.tmp, timeout=60)


async def _play_question(server: ServerProc, viewers: dict[int, Client], ep: str, q: int) -> None:
    assert server.cmd("open", expect=q).status_code == 200
    options = plan(ep, q)

    async def one(v: int, client: Client) -> None:
        frame = await client.expect("question", index=q)
        if v in options:
            await asyncio.sleep(BASE + v * SPACING)
            ack = await client.answer(frame["index"], options[v], ref=f"{ep}-{q}-{v}")
            assert ack["ok"], ack

    await asyncio.gather(*(one(v, c) for v, c in viewers.items()))
    assert server.cmd("close").status_code == 200
    assert server.cmd("reveal").status_code == 200


@pytest.fixture(scope="module")
async def played(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Played]:
    """Both episodes played once for the whole module, on a Redis of its own."""
    tmp = tmp_path_factory.mktemp("reports")
    redis = EmbeddedRedis(tmp / "redis")
    url = redis.start()
    # the expected winners assume one player may win several question prizes
    server = start_server(url, tmp, "--bank", str(SEASON_BANK), "--load", "season/e1", "--no-one-prize")
    result = Played(server, url, tmp=tmp)
    viewers: dict[int, Client] = {}
    try:
        for v in range(N):
            c = await Client.connect(f"{server.ws}/ws/viewer")
            fields = {"full_name": FULL[v], "phone": f"0912 000 {v:03d}"}
            if UNITS[v]:
                fields["unit"] = UNITS[v]
            await c.join(name(v), **fields)
            assert c.player
            result.players[c.player] = name(v)
            result.ids[name(v)] = c.player
            viewers[v] = c
        token = viewers[ABSENT_IN_E1].token
        await viewers.pop(ABSENT_IN_E1).close()

        for q in range(3):
            await _play_question(server, viewers, "e1", q)
            if q == 0:
                late = await viewers[LATE].answer(0, CORRECT["e1"][0])
                assert late["reason"] == "late"
        r = server.cmd("disqualify", player=result.ids[name(DQ)], reason="Dùng hai thiết bị")
        assert r.status_code == 200, r.text
        assert server.cmd("finish").status_code == 200

        with server.host() as host:
            assert host.post("/api/host/load", json={"bank": "season", "episode": "e2"}).status_code == 200
        back = await Client.connect(f"{server.ws}/ws/viewer")
        assert token
        await back.resume(token)
        viewers[ABSENT_IN_E1] = back
        await asyncio.sleep(0.3)
        for q in range(2):
            await _play_question(server, viewers, "e2", q)
        assert server.cmd("finish").status_code == 200
        yield result
    finally:
        for c in viewers.values():
            await c.close()
        server.stop()
        redis.stop()


# --- winners -------------------------------------------------------------------------------------


def _names(played: Played, people: list[dict[str, Any]]) -> list[str]:
    return [played.players[p["player"]] for p in people]


def test_episode_winners_match_construction(played: Played) -> None:
    res = played.get("/api/host/reports/results.json", episode="season.e1").json()
    want = expected_winners("e1", {DQ})
    got = [_names(played, ([q["winner"]] if q["winner"] else []) + q["reserves"]) for q in res["questions"]]
    assert got == want
    assert got[0] == ["v00", "v02", "v04", "v05"]  # v01 (disqualified) passed over
    assert res["questions"][0]["winner"]["full_name"] == "Nguyễn Văn An"
    assert res["questions"][0]["winner"]["phone"] == "0912 000 000"
    assert res["questions"][0]["winner"]["unit"] == "Sở Nội vụ"
    assert all(q["winner"]["time_ms"] > 0 for q in res["questions"])
    assert _names(played, res["standings"]) == expected_standings(["e1"], {DQ})
    assert res["standings"][0]["correct"] == 3
    assert [(d["name"], d["reason"]) for d in res["disqualified"]] == [("v01", "Dùng hai thiết bị")]
    # --top cuts the standings, keeps the count
    top = played.get("/api/host/reports/results.json", episode="season.e1", top="3").json()
    assert len(top["standings"]) == 3 and top["standings_total"] == len(res["standings"])


def bare(name: str) -> str:
    """A display name without the public tag the exports add (``v00 #K7QM`` -> ``v00``)."""
    return re.sub(r" #[34679ACDEFGHJKMNPQRTUVWXY]{4}$", "", name)


def table_rows(ws: Any) -> list[tuple[Any, ...]]:
    """A report sheet's table: from its header row (below the title block) to the last data row."""
    rows = list(ws.iter_rows(values_only=True))
    top = int(str(ws.print_title_rows).split(":")[0].lstrip("$")) - 1
    out = []
    for row in rows[top:]:
        if all(v is None for v in row):
            break
        out.append(row)
    return out


def test_episode_results_xlsx_has_expected_rows(played: Played) -> None:
    out = played.tmp / "e1.xlsx"
    run = played.cli("results", "season.e1", "--format", "xlsx", "-o", str(out))
    assert run.returncode == 0, run.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["Giải từng câu", "Bảng xếp hạng", "Danh sách trao giải", "Truất quyền"]
    given = table_rows(wb["Danh sách trao giải"])
    assert given[0][:2] == ("Giải", "Họ và tên") and given[0][5:9] == (
        "Mã nhận (4 ký tự cuối)", "Đã trao lúc", "Người trao", "Ghi chú")
    assert [r[0] for r in given[1:]] == ["Giải câu 1", "Giải câu 2", "Giải câu 3", "Giải nhất tập"]
    assert all(re.fullmatch(r"…[0-9A-HJKMNP-TV-Z]{4}", r[5]) and r[6] == "Chưa trao" for r in given[1:])
    prizes = table_rows(wb["Giải từng câu"])
    assert prizes[0][:4] == ("Câu", "Nội dung", "Vị trí", "Họ và tên")
    assert len(prizes) == 1 + 4 * 3
    assert prizes[1][2:4] == ("Đoạt giải", "Nguyễn Văn An")
    assert re.fullmatch(r"v00 #[34679ACDEFGHJKMNPQRTUVWXY]{4}", prizes[1][4])  # display name + public tag
    assert prizes[1][6] == "0912 000 000"
    assert isinstance(prizes[1][7], float) and prizes[1][7] > 0  # seconds, as a number
    assert [bare(r[4]) for r in prizes[1:] if r[2] == "Đoạt giải"] == [w[0] for w in expected_winners("e1", {DQ})]
    standings = table_rows(wb["Bảng xếp hạng"])
    assert [bare(r[2]) for r in standings[1:]] == expected_standings(["e1"], {DQ})
    dq = table_rows(wb["Truất quyền"])
    assert dq[1][0] == "Trần Thị Bình" and dq[1][4] == "Dùng hai thiết bị"
    assert wb["Giải từng câu"].column_dimensions["B"].width > 10
    # the same data as CSV from the host panel and the CLI (English column names with lang=en)
    with played.server.host() as host:
        r = host.get("/api/host/reports/results.csv", params={"episode": "season.e1", "lang": "en"})
        vi = host.get("/api/host/reports/results.csv", params={"episode": "season.e1"})
    assert r.headers["content-disposition"] == 'attachment; filename="results-season.e1.csv"'
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [bare(x["name"]) for x in rows if x["section"] == "question" and x["note"].split(";")[0] == "winner"] == [
        "v00", "v02", "v00"]
    assert all("review shared_ip" in x["note"] for x in rows if x["section"] == "question")  # all on 127.0.0.1
    assert played.cli("results", "season.e1", "--lang", "en").stdout == r.content.decode("utf-8-sig").replace(
        "\r\n", "\n")
    # a Vietnamese bank: Vietnamese headers by default, as the CLI's
    assert vi.content.startswith("\ufeffPhần,Câu,Vị trí,".encode())
    assert played.cli("results", "season.e1").stdout == vi.content.decode("utf-8-sig").replace("\r\n", "\n")


def test_season_standings_and_episode_prizes(played: Played) -> None:
    res = played.get("/api/host/reports/results.json", season="season").json()
    assert [e["episode"] for e in res["episodes"]] == ["season.e1", "season.e2"]
    assert _names(played, res["standings"]) == expected_standings(["e1", "e2"], {DQ})
    assert res["standings"][0]["correct"] == 5 and res["standings"][0]["episodes"] == 2
    assert "v01" not in _names(played, res["standings"])  # disqualified in e1: out of the season
    prizes = [e["episode_prize"]["winner"]["name"] for e in res["episodes"]]
    assert prizes == ["v04", "v04"]
    assert _names(played, res["episodes"][1]["standings"]) == expected_standings(["e2"], set())
    # one episode prize per person per season: v04 won e1, so e2's prize passes to the next in order
    rule = played.get("/api/host/reports/results.json", season="season", one_episode_prize="1").json()
    assert [e["episode_prize"]["winner"]["name"] for e in rule["episodes"]] == ["v04", "v00"]
    assert [r["name"] for r in rule["episodes"][1]["episode_prize"]["reserves"]] == ["v02", "v03", "v10"]
    # CLI: season CSV and XLSX
    run = played.cli("results", "--season", "season", "--one-episode-prize", "--lang", "en")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    winners = [r for r in rows if r["section"] == "episode_prize" and r["note"].split(";")[0] == "winner"]
    assert [(r["episode"], r["name"]) for r in winners] == [("season.e1", "v04"), ("season.e2", "v00")]
    assert [r["name"] for r in rows if r["section"] == "season_standings"] == expected_standings(["e1", "e2"], {DQ})
    out = played.tmp / "season.xlsx"
    run = played.cli("results", "--season", "season", "--format", "xlsx", "-o", str(out), "--lang", "en")
    assert run.returncode == 0, run.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["Episode prizes", "Season standings", "Question prizes", "Standings", "Disqualified"]
    assert len(table_rows(wb["Question prizes"])) == 1 + 12 + 5


# --- participation -------------------------------------------------------------------------------


def test_episode_participation_matches_construction(played: Played) -> None:
    rep = played.get("/api/host/reports/participation.json", episode="season.e1").json()
    assert "_players" not in rep  # ids lists stay internal
    assert rep["summary"] == {"present": 11, "joined": 10, "answered_one": 9, "answered_all": 7,
                              "answers": 9 + 8 + 7, "correct": 7 + 6 + 6}
    qs = rep["questions"]
    for q in range(3):
        given = plan("e1", q)
        right = [v for v, o in given.items() if o == CORRECT["e1"][q]]
        assert qs[q]["answers"] == len(given)
        assert qs[q]["correct"] == len(right)
        assert qs[q]["correct_rate"] == round(len(right) / len(given), 4)
        assert qs[q]["reached"] == 11
    assert qs[0]["rejected"] == {"late": 1}
    # v05 answered only Q1 and v08 Q1-Q2, but both still received the later questions: they skipped
    # them, they did not leave (drop-off is tested in tests/test_exports_secretariat.py)
    assert [q["dropped_after"] for q in qs] == [0, 0, 0]
    assert [q["started"] for q in qs] == [9, 0, 0]
    units = [(u["unit"], u["players"], u["present"], u["answered_all"]) for u in rep["units"]]
    assert units == [("Sở Nội vụ", 5, 5, 5), ("UBND huyện Vạn Ninh", 4, 4, 2), ("", 1, 1, 0),
                     ("Sở Tư pháp", 0, 1, 0)]
    e2 = played.get("/api/host/reports/participation.json", episode="season.e2").json()
    assert [q["correct_rate"] for q in e2["questions"]] == [1.0, 0.25]
    assert e2["summary"]["present"] == 12 and e2["summary"]["joined"] == 5


def test_season_participation(played: Played) -> None:
    rep = played.get("/api/host/reports/participation.json", season="season").json()
    assert rep["summary"] == {"episodes": 2, "present": 12, "joined": 11, "joined_every_episode": 4}
    assert [(u["unit"], u["players"], u["per_episode"]) for u in rep["units"]] == [
        ("Sở Nội vụ", 5, [5, 4]), ("UBND huyện Vạn Ninh", 4, [4, 0]), ("Sở Tư pháp", 1, [0, 1]), ("", 1, [1, 0])]
    assert len(rep["questions"]) == 5
    out = played.tmp / "part.xlsx"
    assert played.cli("participation", "--season", "season", "--format", "xlsx", "-o", str(out)).returncode == 0
    wb = load_workbook(out)
    assert len(wb.sheetnames) == 4
    csv_rows = list(csv.DictReader(io.StringIO(played.cli("participation", "season.e1").stdout)))
    assert {"section": "unit", "episode": "", "item": "", "label": "Sở Nội vụ", "metric": "players",
            "value": "5"} in csv_rows


def test_report_downloads_need_the_host_token(played: Played) -> None:
    r = httpx.get(f"{played.server.base}/api/host/reports/results.xlsx")
    assert r.status_code == 401
    r = played.get("/api/host/reports/results.xlsx", episode="season.e1")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert played.get("/api/host/reports/nothing.pdf").status_code == 404
    assert played.get("/api/host/results", episode="season.e1", format="html").headers[
        "content-disposition"].startswith("attachment")


# --- dispute support --------------------------------------------------------------------------------


def test_audit_lists_every_answer_in_arrival_order(played: Played) -> None:
    text = played.cli("audit", "season.e1", "1")
    assert text.returncode == 0, text.stderr
    assert "rejected: late" in text.stdout and "accepted, correct" in text.stdout
    assert "10 answer(s): 9 accepted, 1 rejected" in text.stdout  # 9 accepted + 1 late
    run = played.cli("audit", "season.e1", "1", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    answers = [r for r in rows if r["event"] in ("ans", "rej")]
    accepted = [r for r in answers if r["event"] == "ans"]
    assert [int(r["arrival_seq"]) for r in accepted] == list(range(1, 10))
    assert [r["name"] for r in accepted] == [name(v) for v in sorted(plan("e1", 0))]  # position order
    assert answers[-1]["name"] == "v11" and answers[-1]["reason"] == "late"
    assert [r["event"] for r in rows if r["event"] not in ("ans", "rej")][:2] == ["create", "open"]
    assert all(float(r["time_ms"]) > 0 for r in accepted)


# --- HTML in a real browser ------------------------------------------------------------------------


def _chromium() -> str | None:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None and os.environ.get("QE_REQUIRE_BROWSER") == "1":
        pytest.fail("QE_REQUIRE_BROWSER=1 but chromium is not installed")
    return path


@pytest.mark.browser
async def test_html_reports_render_in_chromium(played: Played) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    files = {
        "report-participation": played.get("/api/host/reports/participation.html", episode="season.e1"),
        "report-winners": played.get("/api/host/reports/results.html", episode="season.e1"),
        "report-season": played.get("/api/host/reports/results.html", season="season", one_episode_prize="1"),
        "report-season-participation": played.get("/api/host/reports/participation.html", season="season"),
    }
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport={"width": 900, "height": 1200}, device_scale_factor=1)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        for stem, response in files.items():
            assert response.status_code == 200
            assert "<script" not in response.text
            path = played.tmp / f"{stem}.html"
            path.write_bytes(response.content)
            await page.goto(path.as_uri())
            images = await page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
            if "participation" in stem:  # charts: answers, rate, drop-off, units (season: episodes, units)
                assert len(images) >= (2 if "season" in stem else 4) and all(w > 0 for w in images), images
            body = await page.inner_text("body")
            if stem == "report-participation":
                assert "Báo cáo tình hình tham gia" in body and "Sở Nội vụ" in body and "0912" not in body
                await page.screenshot(path=str(SCREENSHOTS / f"{stem}.png"), full_page=True)
            elif stem == "report-winners":
                assert "Nguyễn Văn An" in body and "0912 000 000" in body and "Dùng hai thiết bị" in body
                await page.screenshot(path=str(SCREENSHOTS / f"{stem}.png"), full_page=True)
            pdf = await page.pdf(format="A4", print_background=True)
            assert pdf[:4] == b"%PDF"
        assert errors == []
        await browser.close()


# --- pure parts ------------------------------------------------------------------------------------


def _standing(rank: int, player: str) -> Standing:
    return Standing(rank, PlayerScore(player, 1, rank, rank))


def test_episode_prizes_one_per_season() -> None:
    eps = [[_standing(1, "a"), _standing(2, "b")], [_standing(1, "a"), _standing(2, "c"), _standing(3, "b")]]
    free = episode_prizes(eps, one_per_season=False, reserves=1)
    assert [[s.score.player for s in e] for e in free] == [["a", "b"], ["a", "c"]]
    ruled = episode_prizes(eps, one_per_season=True, reserves=1)
    assert [[s.score.player for s in e] for e in ruled] == [["a", "b"], ["c", "b"]]


def test_season_scores_add_up_episodes_in_order() -> None:
    e1 = [PlayerScore("a", 2, 100, 5), PlayerScore("b", 1, 50, 7)]
    e2 = [PlayerScore("b", 1, 10, 3)]
    totals = {s.player: s for s in season_scores([e1, e2])}
    assert totals["a"] == PlayerScore("a", 2, 100, 5)
    assert totals["b"] == PlayerScore("b", 2, 60, SEASON_ORDER_BASE + 3)


def test_unit_spellings_group() -> None:
    shown = unit_groups(["Sở Nội vụ", "sở  nội VỤ", "Sở Nội vụ", "", "UBND"])
    assert sorted(shown.values()) == ["", "Sở Nội vụ", "UBND"]


# --- season definition: replace before played, never after ----------------------------------------


async def test_sync_replaces_unplayed_questions_and_refuses_played(
    make_server: Callable[..., ServerProc], tmp_path: Path
) -> None:
    bank_file = tmp_path / "season-bank.toml"
    shutil.copy(SEASON_BANK, bank_file)
    server = make_server("--bank", str(bank_file), "--load", "season/e1")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "quiz_engine", *args, "--bank", str(bank_file),
                               "--redis-url", server.redis_url], capture_output=True, text=True, timeout=60)

    v = await Client.connect(f"{server.ws}/ws/viewer")
    await v.join("Vy", unit="Sở Nội vụ")
    assert server.cmd("open").status_code == 200
    await v.expect("question", index=0)
    assert (await v.answer(0, 1))["ok"]
    assert server.cmd("close").status_code == 200

    # the loaded episode syncs in place between questions: running nodes re-read its questions
    bank_file.write_text(bank_file.read_text().replace("Câu hỏi thử số ba?", "Câu hỏi thay thế số ba?"))

    show = cli("season", "show", "season")
    assert show.returncode == 0, show.stderr
    assert "played" in show.stdout and "sync will replace" in show.stdout

    ok = cli("season", "sync", "season/e1")
    assert ok.returncode == 0, ok.stderr
    assert "replaced: 3" in ok.stdout

    # a played question can never change: refused, naming it, and nothing changes
    bank_file.write_text(bank_file.read_text().replace("tại đâu?", "ở đâu?").replace(
        "Câu hỏi thử số hai?", "Câu hỏi thay thế số hai?"))
    refused = cli("season", "sync", "season/e1")
    assert refused.returncode == 2
    assert "question 1 (id 'a1') was already played" in refused.stderr and "text" in refused.stderr

    # back to the played text: the unplayed question 2 is replaced
    bank_file.write_text(bank_file.read_text().replace("ở đâu?", "tại đâu?"))
    ok = cli("season", "sync", "season/e1")
    assert ok.returncode == 0 and "replaced: 2" in ok.stdout, ok.stdout + ok.stderr

    # the host plays on with the replaced questions, without reloading the episode
    with server.host() as host:
        assert host.get("/api/host/state").json()["next_question"]["text"] == "Câu hỏi thay thế số hai?"
        assert host.post("/api/host/reveal").status_code == 200
    assert server.cmd("open", expect=1).status_code == 200
    q2 = await v.expect("question", index=1)
    assert q2["text"] == "Câu hỏi thay thế số hai?"
    # while a question is open, sync is refused
    refused = cli("season", "sync", "season/e1")
    assert refused.returncode == 2 and "open right now" in refused.stderr
    with server.host() as host:
        assert host.get("/api/host/verify").json()["ok"]
    status = cli("season", "show", "season", "--format", "json")
    e1 = json.loads(status.stdout)["episodes"][0]
    assert [q["status"] for q in e1["questions"]] == ["played", "played", "unplayed"]
    assert e1["questions"][0]["answers"] == 1
    await v.close()
