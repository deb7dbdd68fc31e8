"""Prize claim codes (issue 13, item 16): from the winner's phone to the recorded handover.

The codes themselves (pure), then a whole episode on a real server, real Redis and real
sockets: the winners' phones get their codes (kept on reconnect), the host's results show only
the check part, the desk (HTTP API and CLI) checks a code, records the handover once and
refuses a wrong, reused or passed-on code (each refusal audited), a reset cannot wipe the
results prizes were given for, and ``verify`` checks the handovers against the results.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
import redis.asyncio as aioredis

from quiz_engine.claims import (
    ALPHABET,
    EPISODE_PRIZE,
    Prize,
    check_part,
    claim_code,
    match,
    normalize,
    shown_check,
)
from quiz_engine.store.keys import EpisodeKeys
from tests.client import Client
from tests.conftest import ROOT, ServerProc

EP = "test.ep1"
CORRECT = [1, 0, 2]  # test/ep1: B, A, C


def test_a_code_is_ten_readable_characters_bound_to_episode_prize_and_player() -> None:
    code = claim_code("s3cret", EP, "q1", "p1")
    assert len(code) == 11 and code[5] == "-"
    assert all(c in ALPHABET for c in code.replace("-", ""))
    assert not set(code) & set("ILOU")
    others = {claim_code("s3cret", EP, "q2", "p1"), claim_code("s3cret", EP, "q1", "p2"),
              claim_code("s3cret", "test.ep2", "q1", "p1"), claim_code("other", EP, "q1", "p1")}
    assert code not in others and len(others) == 4
    assert claim_code("s3cret", EP, "q1", "p1") == code  # every node computes the same


def test_a_code_reads_back_however_it_is_typed() -> None:
    code = "K7QM2-X9AB0"
    assert normalize(code) == "K7QM2X9AB0"
    assert normalize(" k7qm2 x9abo ") == "K7QM2X9AB0"  # lower case, spaces, O for zero
    assert normalize("1LI00-00000") == "1110000000"
    for bad in ("", "K7QM2-X9AB", "K7QM2-X9ABCD", "K7QM2-X9ABU", "K7QM2=X9AB0", "x" * 200, "K7QM2-X9AB\u0660"):
        assert normalize(bad) is None, bad
    assert check_part(code) == "9AB0" and shown_check(code) == "…9AB0"


def test_match_tells_the_current_holder_from_a_former_one() -> None:
    now, former = Prize("q1", 0, "p2"), Prize("q1", 0, "p1")
    code = normalize(claim_code("k", EP, "q1", "p1"))
    assert code is not None
    found = match("k", EP, code, [now], [former])
    assert found is not None and found.prize == former and not found.current
    mine = normalize(claim_code("k", EP, "q1", "p2"))
    assert mine is not None
    hit = match("k", EP, mine, [now], [former])
    assert hit is not None and hit.current
    assert match("k", EP, "0000000000", [now], [former]) is None


async def _play(server: ServerProc, clients: list[Client], answers: list[list[int | None]]) -> None:
    """Each question: the clients answer in list order (0.15 s apart), None = no answer."""
    for q, per_client in enumerate(answers):
        assert server.cmd("open", expect=q).status_code == 200
        for c in clients:
            await c.expect("question", index=q)
        for c, option in zip(clients, per_client, strict=True):
            if option is not None:
                assert (await c.answer(q, option))["ok"]
                await asyncio.sleep(0.15)
        assert server.cmd("close").status_code == 200
        assert server.cmd("reveal").status_code == 200
    assert server.cmd("finish").status_code == 200


def _cli(server: ServerProc, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "quiz_engine", "claim", *args, "--redis-url", server.redis_url],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, env={**os.environ})


async def test_from_the_winners_phone_to_the_recorded_handover(server: ServerProc, raw: aioredis.Redis) -> None:
    lan, minh, hoa = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(3)]
    await lan.join("Lan", full_name="Nguyễn Thị Lan", unit="Phường 1", phone="0901234567")
    await minh.join("Minh", full_name="Trần Văn Minh", unit="Phường 2", phone="0907654321")
    await hoa.join("Hoa", full_name="Lê Thị Hoa", unit="Phường 3", phone="0912345678")
    wrong = [(c + 1) % 3 for c in CORRECT]
    # q1: Lan first, Minh second; q2: Lan, Minh, Hoa all right (Lan already has a prize: Minh wins,
    # Hoa is the reserve); q3: only Hoa. Standings: Lan and Minh 2 right, Lan faster: episode prize.
    await _play(server, [lan, minh, hoa], [[CORRECT[0], CORRECT[0], wrong[0]], [CORRECT[1]] * 3,
                                           [wrong[2], None, CORRECT[2]]])

    frames = {name: await c.expect("prizes") for name, c in (("lan", lan), ("minh", minh), ("hoa", hoa))}
    held = {name: {p["prize"]: p for p in f["prizes"]} for name, f in frames.items()}
    assert set(held["lan"]) == {"q1", EPISODE_PRIZE}
    assert set(held["minh"]) == {"q2"} and set(held["hoa"]) == {"q3"}
    for prizes in held.values():
        for p in prizes.values():
            assert normalize(p["code"]) and p["qr"].startswith("<svg") and "</svg>" in p["qr"]
    lan_q1 = held["lan"]["q1"]["code"]
    minh_q2 = held["minh"]["q2"]["code"]

    # kept on reconnect: a resumed phone's snapshot carries the same codes
    token = lan.token
    await lan.close()
    again = await Client.connect(f"{server.ws}/ws/viewer")
    assert token
    snap = await again.resume(token)
    assert snap["phase"] == "finished"
    assert {p["prize"]: p["code"] for p in snap["prizes"]} == {k: v["code"] for k, v in held["lan"].items()}

    with server.host() as host:
        results = host.get("/api/host/results").json()
        text = json.dumps(results, ensure_ascii=False)
        for prizes in held.values():  # the host's lists never show a whole code
            for p in prizes.values():
                assert p["code"] not in text and p["code"].replace("-", "") not in text
        q1 = results["questions"][0]["winner"]
        assert q1["name"] == "Lan" and q1["claim"] == {"check": "…" + lan_q1[-4:], "handed_over": None}
        assert results["episode_winner"]["name"] == "Lan"
        assert results["questions"][1]["winner"]["name"] == "Minh"

        # the desk: a code as read aloud (lower case, no dash) finds its prize and its holder
        checked = host.post("/api/host/claims/check", json={"code": lan_q1.lower().replace("-", " ")})
        assert checked.status_code == 200, checked.text
        body = checked.json()
        assert body["ok"] and body["prize"] == "q1" and body["episode"] == EP and body["handed_over"] is None
        assert body["holder"]["full_name"] == "Nguyễn Thị Lan" and body["holder"]["phone"] == "0901234567"

        # a reset now would be fine; after a handover it is refused
        given = host.post("/api/host/claims/handover", json={"code": lan_q1, "note": "CCCD đã kiểm tra"})
        assert given.status_code == 200, given.text
        record = given.json()["handed_over"]
        assert record["player"] == lan.player and record["prize"] == "q1" and record["note"] == "CCCD đã kiểm tra"
        assert record["by"].startswith("host:") and record["check"] == lan_q1[-4:]
        reused = host.post("/api/host/claims/handover", json={"code": lan_q1})
        assert reused.status_code == 409 and reused.json()["reason"] == "already_handed_over"
        assert reused.json()["handed_over"]["at"] == record["at"]
        forged = lan_q1[:-1] + ("0" if lan_q1[-1] != "0" else "1")
        assert host.post("/api/host/claims/check", json={"code": forged}).json()["reason"] == "unknown_code"
        assert host.post("/api/host/claims/check", json={"code": forged}).status_code == 404
        bad = host.post("/api/host/claims/handover", json={"code": "=HYPERLINK(1)"})
        assert bad.status_code == 400 and bad.json()["reason"] == "malformed"
        assert host.post("/api/host/claims/check", json={}).status_code == 400
        assert host.post("/api/host/claims/check", json={"code": lan_q1, "episode": "test.short"}).status_code == 404

        reset = server.cmd("reset", confirm=EP)
        assert reset.status_code == 409 and reset.json()["reason"] == "handed_over"

        # the prize of question 2 passes on: Minh is disqualified, Hoa (the reserve) moves up; under
        # one prize per person she then passes question 3's on, and nobody else answered it right
        assert server.cmd("disqualify", player=minh.player, reason="hai tài khoản").status_code == 200
        assert (await minh.expect("prizes"))["prizes"] == []
        moved = await hoa.expect("prizes")
        assert {p["prize"] for p in moved["prizes"]} == {"q2"}
        assert host.get("/api/host/results").json()["questions"][2]["winner"] is None
        passed = host.post("/api/host/claims/handover", json={"code": minh_q2})
        assert passed.status_code == 409 and passed.json()["reason"] == "passed_on"
        hoa_q2 = next(p["code"] for p in moved["prizes"] if p["prize"] == "q2")
        assert host.post("/api/host/claims/check", json={"code": hoa_q2}).json()["holder"]["name"] == "Hoa"

        verified = host.get("/api/host/verify").json()
        assert verified["ok"], verified
        assert any("refused 5 claim code" in n for n in verified["notes"]), verified["notes"]

    audit: Any = await raw.xrange(EpisodeKeys(EP).audit)
    refused = [f for _, f in audit if f.get("e") == "claim_refused"]
    assert [f["why"] for f in refused] == ["already_handed_over", "unknown_code", "unknown_code", "malformed",
                                           "passed_on"]
    assert all(lan_q1.replace("-", "") not in json.dumps(f) for f in refused)  # never a whole code
    assert [f["p"] for _, f in audit if f.get("e") == "handover"] == [lan.player]

    # the CLI: the same desk
    checked_cli = _cli(server, hoa_q2)
    assert checked_cli.returncode == 0, checked_cli.stdout + checked_cli.stderr
    assert "question 2" in checked_cli.stdout and "Lê Thị Hoa" in checked_cli.stdout
    done = _cli(server, hoa_q2, "--handover", "--by", "Ban tổ chức", "--note", "chuyển khoản")
    assert done.returncode == 0 and "handover recorded" in done.stdout, done.stdout + done.stderr
    again_cli = _cli(server, hoa_q2, "--handover")
    assert again_cli.returncode == 1 and "already_handed_over" in again_cli.stdout
    assert _cli(server, minh_q2, "--handover").returncode == 1

    with server.host() as host:
        assert host.get("/api/host/verify").json()["ok"]
        results = host.get("/api/host/results").json()
        assert results["questions"][1]["winner"]["claim"]["handed_over"]["by"] == "cli:Ban tổ chức"
        assert {(h["prize"], h["name"], h["current"]) for h in results["handovers"]} == {
            ("q1", "Lan", True), ("q2", "Hoa", True)}
        # the exports: the handover list with check parts, who handed over and a column to sign
        xlsx = host.get("/api/host/reports/results.xlsx", params={"episode": EP, "lang": "vi"})
        html = host.get("/api/host/reports/results.html", params={"episode": EP, "lang": "vi"}).text
        csv_text = host.get("/api/host/reports/results.csv", params={"episode": EP, "lang": "en"}).text
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Danh sách trao giải"]
    cells = [[c for c in row if c is not None] for row in sheet.iter_rows(values_only=True)]
    lan_row = next(r for r in cells if r and r[0] == "Giải câu 1")
    assert "…" + lan_q1[-4:] in lan_row and "CCCD đã kiểm tra" in lan_row
    hoa_row = next(r for r in cells if r and r[0] == "Giải câu 2")
    assert "Lê Thị Hoa" in hoa_row and "cli:Ban tổ chức" in hoa_row
    assert any(r and r[0] == "Giải nhất tập" and "Chưa trao" in r for r in cells)
    assert "Danh sách trao giải và ký nhận" in html and "…" + lan_q1[-4:] in html and "Ký nhận" in html
    assert f"claim code (last 4) …{lan_q1[-4:]}" in csv_text
    for text in (html, csv_text, json.dumps(cells, ensure_ascii=False)):
        for code in (lan_q1, minh_q2, hoa_q2):
            assert code not in text and code.replace("-", "") not in text

    # a handover nobody made (written past the desk) is caught by verify
    await raw.hset(EpisodeKeys(EP).handovers, f"q3|{lan.player}", json.dumps({"prize": "q3", "player": lan.player}))
    with server.host() as host:
        diffs = host.get("/api/host/verify").json()["differences"]
    assert any("stored handovers" in d for d in diffs), diffs
    for c in (again, minh, hoa):
        await c.close()


async def test_no_code_before_the_end_and_no_handover_to_a_disqualified_player(
        make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1")
    a = await Client.connect(f"{server.ws}/ws/viewer")
    await a.join("Early")
    assert server.cmd("open").status_code == 200
    await a.expect("question")
    assert (await a.answer(0, CORRECT[0]))["ok"]
    server.cmd("close")
    server.cmd("reveal")
    await a.expect("reveal")
    await asyncio.sleep(0.3)
    assert not [f for f in a.frames if f["type"] == "prizes"]
    with server.host() as host:
        results: dict[str, Any] = host.get("/api/host/results").json()
        assert results["questions"][0]["winner"]["claim"]["check"].startswith("…")
    assert server.cmd("finish").status_code == 200
    code = (await a.expect("prizes"))["prizes"][0]["code"]
    with server.host() as host:
        assert server.cmd("disqualify", player=a.player, reason="x").status_code == 200
        r = host.post("/api/host/claims/handover", json={"code": code})
        assert r.status_code == 409 and r.json()["reason"] == "passed_on"
    await a.close()


@pytest.mark.parametrize("phase_cmds", [["open"], ["open", "close"]])
async def test_the_desk_waits_for_the_end_of_the_episode(make_server: Callable[..., ServerProc],
                                                         phase_cmds: list[str]) -> None:
    server = make_server("--load", "test/ep1")
    for cmd in phase_cmds:
        assert server.cmd(cmd).status_code == 200
    with server.host() as host:
        r = host.post("/api/host/claims/check", json={"code": "K7QM2-X9AB0"})
    assert r.status_code == 404 and r.json()["reason"] == "unknown_code"


async def test_a_disqualification_after_the_show_reaches_every_screen(make_server: Callable[..., ServerProc]) -> None:
    """The show is over and the winner is disqualified: the overlay (on air) and the phones get the
    final frame again with the same seq and the new winner, each phone its new standing, the
    disqualified one 'disqualified' — not only the prizes frame."""
    server = make_server("--load", "test/ep1")
    first, second = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(2)]
    await first.join("Nhất")
    await second.join("Nhì")
    overlay = await Client.connect(f"{server.ws}/ws/overlay?token={server.overlay_token}")
    await _play(server, [first, second], [[CORRECT[0], CORRECT[0]], [CORRECT[1], CORRECT[1]], [None, None]])
    final = await second.expect("finished")
    assert final["winner"]["name"] == "Nhất"
    on_air = await overlay.expect("finished")
    assert (await first.expect("finished")) == final
    assert (await second.expect("standing"))["rank"] == 2
    assert (await first.expect("standing"))["rank"] == 1
    await second.expect("prizes")

    assert server.cmd("disqualify", player=first.player, reason="hai tài khoản").status_code == 200
    for client in (first, second, overlay):
        again = await client.expect("finished", seq=final["seq"])
        assert again["winner"]["name"] == "Nhì", again
        assert [t["name"] for t in again["top"]] == ["Nhì"]
    assert on_air["seq"] == final["seq"]
    mine = await second.expect("standing")
    assert mine["rank"] == 1 and not mine["disqualified"]
    theirs = await first.expect("standing")
    assert theirs["disqualified"] and theirs["rank"] is None
    # one prize per person (the default rule): q1 moves to her, q2 then has nobody else right
    assert {p["prize"] for p in (await second.expect("prizes"))["prizes"]} == {"q1", EPISODE_PRIZE}
    for client in (first, second, overlay):
        await client.close()
