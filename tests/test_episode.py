"""A whole episode on a real server, real Redis and real sockets.

Fifty viewers answer with delays chosen by the test, so the fastest correct responder
of each question and the episode standings are known by construction.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx
import pytest

from quiz_engine.game.standings import ORDER_BASE, PlayerScore, rank_standings
from tests.client import Client, joined
from tests.conftest import ServerProc

N = 50
SPACING = 0.06  # seconds between consecutive viewers' answers
CORRECT = [1, 0, 2]  # test/ep1 answers: B, A, C


def plan(n: int) -> tuple[list[int], dict[tuple[int, int], int | None]]:
    """Answer order per viewer and the option each viewer gives to each question."""
    rng = random.Random(20261122)
    order = list(range(n))
    rng.shuffle(order)  # order[p] = position of viewer p in every question's answer sequence
    options: dict[tuple[int, int], int | None] = {}
    for p in range(n):
        for q in range(3):
            kind = p % 4
            right = (kind == 0) or (kind == 1 and q < 2) or (kind == 2 and q == 2)
            if kind == 3 and q == 1:
                options[(p, q)] = None  # never answers this one
            else:
                options[(p, q)] = CORRECT[q] if right else (CORRECT[q] + 1) % 3
    return order, options


def expected_results(order: list[int], options: dict[tuple[int, int], int | None]) -> tuple[list[str], list[str]]:
    """Prize winner per question (the default rule: one question prize per person, so an earlier
    winner passes it on to the next fastest) and the full standings, from the construction."""
    fastest: list[str] = []
    for q in range(3):
        right = [p for p in range(N) if options[(p, q)] == CORRECT[q] and f"viewer-{p:02d}" not in fastest]
        fastest.append(f"viewer-{min(right, key=lambda p: order[p]):02d}")
    scores = []
    for p in range(N):
        qs = [q for q in range(3) if options[(p, q)] == CORRECT[q]]
        if qs:
            total = sum(order[p] for _ in qs)  # proportional to summed delay
            scores.append(PlayerScore(f"viewer-{p:02d}", len(qs), total, max(qs) * ORDER_BASE + order[p]))
    return fastest, [s.score.player for s in rank_standings(scores)]


async def play_question(viewers: list[Client], q: int, order: list[int],
                        options: dict[tuple[int, int], int | None]) -> list[dict[str, Any]]:
    async def one(p: int, v: Client) -> dict[str, Any] | None:
        frame = await v.expect("question", index=q)
        option = options[(p, q)]
        if option is None:
            return None
        await asyncio.sleep(0.05 + order[p] * SPACING)
        return await v.answer(frame["index"], option, ref=f"{p}-{q}")

    acks = await asyncio.gather(*(one(p, v) for p, v in enumerate(viewers)))
    return [a for a in acks if a is not None]


async def test_full_episode_with_50_viewers(server: ServerProc) -> None:
    order, options = plan(N)
    want_fastest, want_standings = expected_results(order, options)
    overlay = await Client.connect(f"{server.ws}/ws/overlay?token={server.overlay_token}")
    viewers = [await Client.connect(f"{server.ws}/ws/viewer", msgpack_codec=(p % 5 == 0)) for p in range(N)]
    for p, v in enumerate(viewers):
        await v.join(f"viewer-{p:02d}", unit=f"Unit {p % 3}")
    name_of = {v.player: f"viewer-{p:02d}" for p, v in enumerate(viewers)}

    for q in range(3):
        assert server.cmd("open", expect=q).status_code == 200
        acks = await play_question(viewers, q, order, options)
        assert all(a["ok"] for a in acks), [a for a in acks if not a["ok"]]
        assert server.cmd("close").status_code == 200
        assert server.cmd("reveal").status_code == 200
        reveal = await overlay.expect("reveal", index=q)
        assert reveal["correct"] == CORRECT[q]
        assert reveal["fastest"]["name"] == want_fastest[q]
        answered = sum(1 for p in range(N) if options[(p, q)] is not None)
        assert reveal["answers"] == answered == sum(reveal["counts"])
        assert server.cmd("leaderboard").status_code == 200
        await overlay.expect("leaderboard", index=q)

    assert server.cmd("finish").status_code == 200
    finished = await overlay.expect("finished")
    assert [t["name"] for t in finished["top"]] == want_standings[:10]
    assert finished["winner"]["name"] == want_standings[0]

    with server.host() as host:
        results = host.get("/api/host/results").json()
        assert [name_of[s["player"]] for s in results["standings"]] == want_standings
        assert [name_of[q["winner"]["player"]] for q in results["questions"]] == want_fastest
        assert all(len(q["reserves"]) == 3 for q in results["questions"])
        verified = host.get("/api/host/verify").json()
        assert verified == {"episode": "test.ep1", "ok": True, "differences": [], "notes": []}

    # personal standing frames agree with the exported standings
    winner = viewers[int(want_standings[0].split("-")[1])]
    standing = await winner.expect("standing", rank=1)
    assert standing["correct"] == 3

    # no viewer and no overlay ever saw the correct option before that question's reveal
    for client in [overlay, *viewers]:
        revealed: set[int] = set()
        for frame in client.frames:
            if frame["type"] == "reveal":
                revealed.add(frame["index"])
            elif frame["type"] in ("standing", "leaderboard", "finished"):
                continue  # "correct" there is a count of correct answers, not an option
            elif "correct" in frame or (isinstance(frame.get("question"), dict) and "correct" in frame["question"]):
                raise AssertionError(f"correct option leaked in {frame}")
            if frame["type"] == "snapshot" and frame.get("result"):
                assert frame["index"] in revealed
    for v in viewers:
        await v.close()
    await overlay.close()


async def test_rejections_reach_viewers(server: ServerProc) -> None:
    a = await Client.connect(f"{server.ws}/ws/viewer")
    await a.join("Alice")
    assert (await a.answer(0, 1))["reason"] == "not_open"
    server.cmd("open")
    await a.expect("question")
    assert (await a.answer(0, 9))["reason"] == "invalid_option"
    assert (await a.answer(1, 0))["reason"] == "wrong_question"
    first = await a.answer(0, 1)
    assert first["ok"] and first["time_ms"] > 0
    dup = await a.answer(0, 2)
    assert (dup["ok"], dup["reason"], dup["option"]) == (False, "duplicate", 1)
    server.cmd("close")
    b = await Client.connect(f"{server.ws}/ws/viewer")
    await b.join("Bob")
    assert (await b.answer(0, 1))["reason"] == "late"
    await a.close()
    await b.close()


@pytest.mark.parametrize(("ws_impl", "loop"), [("fast", "uvloop"), ("fast", "asyncio"), ("parser", "uvloop"),
                                              ("parser", "asyncio")])
async def test_pipelined_frames_are_answered_in_order(make_server: Any, ws_impl: str, loop: str) -> None:
    """A client may send without waiting for replies: join, answer, sync, answer, ping in one go
    are handled in that order (answers are taken inside the frame parser, joins and syncs wait
    for Redis: the later frames must queue behind them). The same with every frame through
    websockets' parser (QUIZ_WS_IMPL=parser) instead of the small-frame fast path; and on both
    event loops (QUIZ_LOOP), since the sessions and the fan-out write to the loop's transports."""
    server = make_server("--load", "test/ep1", env={"QUIZ_WS_IMPL": ws_impl, "QUIZ_LOOP": loop})
    server.cmd("open")
    for codec in (False, True):
        c = await Client.connect(f"{server.ws}/ws/viewer", msgpack_codec=codec)
        await c.expect("snapshot")
        burst = [
            {"type": "join", "name": f"Pipelined {codec}", "ref": "j"},
            {"type": "answer", "question": 0, "option": 2, "ref": "a1"},
            {"type": "sync", "ref": "s"},
            {"type": "answer", "question": 0, "option": 3, "ref": "a2"},
            {"type": "ping", "t": 7},
        ]
        await asyncio.gather(*(c.send(f) for f in burst))
        for _ in range(200):
            if sum(f["type"] in ("ack", "pong") for f in c.frames) == 3:
                break
            await asyncio.sleep(0.05)
        acks = {f["ref"]: f for f in c.frames if f["type"] == "ack"}
        # replies in order, except that an ack comes when Redis has decided (docs/protocol.md)
        kinds = [f["type"] for f in c.frames[2:] if f["type"] != "ack"]
        assert kinds == ["welcome", "snapshot", "snapshot", "pong"], kinds
        # handled in order: the answer right after the join counts, the second is a duplicate
        assert acks["a1"]["ok"] and acks["a1"]["option"] == 2
        assert (acks["a2"]["ok"], acks["a2"]["reason"], acks["a2"]["option"]) == (False, "duplicate", 2)
        await c.close()


async def test_rerun_times_answers_from_the_new_delivery(server: ServerProc) -> None:
    """A voided question played again is timed from its second delivery, not the first one."""
    a, b = await joined(f"{server.ws}/ws/viewer", "First run", "Second run")
    server.cmd("open")
    await a.expect("question", index=0)
    await b.expect("question", index=0)
    assert (await a.answer(0, 1))["ok"]  # b does not answer in the first run
    await asyncio.sleep(2.0)
    for command, body in (("close", {}), ("void", {"reason": "broken question"}), ("rerun", {})):
        assert server.cmd(command, **body).status_code == 200
    assert server.cmd("open", expect=0).status_code == 200
    for c in (a, b):
        await c.expect("question", index=0)
        ack = await c.answer(0, 2)
        assert ack["ok"], ack
        # answered right after the second delivery: the 2 s since the first one do not count
        assert ack["time_ms"] < 1500, ack
    server.cmd("close")
    with server.host() as host:
        assert host.get("/api/host/verify").json()["ok"]
    await a.close()
    await b.close()


def _collections_between_questions(server: ServerProc) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith("quiz_gc_between_questions_seconds_count"))
    return float(line.rsplit(" ", 1)[1])


async def test_heap_is_frozen_during_questions_and_collected_after_the_results(server: ServerProc) -> None:
    """The heap is frozen while a question is open (no full collection can pause the answers).
    A reveal with little churn does not pay for a full collection; the final results do, so
    closed sockets never pile up in memory for longer than an episode (after a reveal, once
    500 sockets or 5 % of the audience have closed since the last one)."""
    a = await Client.connect(f"{server.ws}/ws/viewer")
    await a.join("Collector")
    server.cmd("open")
    await a.expect("question")
    await asyncio.sleep(0.5)
    assert server.cmd("close").status_code == 200
    assert _collections_between_questions(server) == 0  # none while the question was open
    assert server.cmd("reveal").status_code == 200
    await a.expect("reveal")
    await asyncio.sleep(0.5)
    assert _collections_between_questions(server) == 0  # one socket closed since: not worth a pause
    assert server.cmd("finish").status_code == 200
    await a.expect("finished")
    for _ in range(100):
        if _collections_between_questions(server) == 1:
            break
        await asyncio.sleep(0.1)
    assert _collections_between_questions(server) == 1
    await a.close()


def _lag_ticks(server: ServerProc) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=10).text
    line = next(x for x in text.splitlines() if x.startswith("quiz_event_loop_lag_seconds_count"))
    return float(line.rsplit(" ", 1)[1])


def test_event_loop_lag_is_watched_all_the_time(server: ServerProc) -> None:
    """``quiz_event_loop_lag_seconds``: a 50-ms timer's lateness, observed about 20 times a second,
    so an operator sees any pause of the loop (what every socket waited) in the metrics. The
    watcher keeps ticking with nothing else going on (no bound on the rate: a loaded machine
    runs it late, which is what it measures)."""
    before = _lag_ticks(server)
    deadline = time.monotonic() + 30
    while _lag_ticks(server) - before < 10 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _lag_ticks(server) - before >= 10


async def test_reconnect_keeps_first_send_time_and_answer(server: ServerProc) -> None:
    a, b = await joined(f"{server.ws}/ws/viewer", "Ann", "Ben")
    server.cmd("open")
    await a.expect("question")
    await b.expect("question")
    answered = await b.answer(0, 1)
    assert answered["ok"]
    await asyncio.sleep(1.0)
    token_a, token_b = a.token, b.token
    await a.close()
    await b.close()
    await asyncio.sleep(0.5)
    a2 = await Client.connect(f"{server.ws}/ws/viewer")
    b2 = await Client.connect(f"{server.ws}/ws/viewer")
    assert token_a and token_b
    snap_a = await a2.resume(token_a)
    snap_b = await b2.resume(token_b)
    assert snap_a["phase"] == "question" and snap_a["you"] is None
    assert snap_a["question"]["deadline"] == snap_b["question"]["deadline"]
    assert snap_b["you"] == {"option": 1, "time_ms": answered["time_ms"]}
    ack = await a2.answer(0, 1)
    # measured from the first delivery (≥ 1.5 s ago), not from the reconnect
    assert ack["ok"] and ack["time_ms"] >= 1500
    assert (await b2.answer(0, 2))["reason"] == "duplicate"
    await a2.close()
    await b2.close()


async def test_question_closes_by_itself(make_server: Any) -> None:
    server = make_server("--load", "test/short", "--grace-ms", "300")
    v = await Client.connect(f"{server.ws}/ws/viewer")
    await v.join("Vy")
    assert server.cmd("open").status_code == 200
    q = await v.expect("question")
    assert q["deadline"] - q["release_at"] == 5000
    closed = await v.expect("closed", timeout=12)
    # closed no earlier than deadline + grace on the server's clock
    assert closed["now"] >= q["deadline"] + 300
    assert (await v.answer(0, 1))["reason"] == "late"
    with server.host() as host:
        assert host.get("/api/host/state").json()["phase"] == "closed"
    await v.close()


async def test_stream_delay_releases_to_viewers_later(make_server: Any) -> None:
    server = make_server("--load", "test/ep1", "--stream-delay", "2")
    overlay = await Client.connect(f"{server.ws}/ws/overlay?token={server.overlay_token}")
    v = await Client.connect(f"{server.ws}/ws/viewer")
    await v.join("Vi")
    await overlay.expect("snapshot")
    server.cmd("open")
    shown = await overlay.expect("question")
    assert shown["release_at"] - shown["now"] >= 1900
    # a phone already joined gets a cue at once: a question is coming, nothing of it yet
    cue = await v.expect("waiting", timeout=1)
    assert cue["until"] == shown["release_at"] and cue["index"] == 0
    assert set(cue) == {"type", "seq", "index", "until", "now"}
    late_joiner = await Client.connect(f"{server.ws}/ws/viewer")
    snap = await late_joiner.expect("snapshot")
    assert snap["phase"] == "waiting" and snap["until"] == shown["release_at"]
    assert "question" not in snap
    q = await v.expect("question", timeout=6)
    assert q["now"] >= shown["release_at"] - 50
    ack = await v.answer(0, 1)
    assert ack["ok"] and ack["time_ms"] < 1500  # the window starts at the viewers' release
    for c in (overlay, v, late_joiner):
        await c.close()


async def test_malformed_frames_get_codes_and_touch_nothing(server: ServerProc) -> None:
    good = await Client.connect(f"{server.ws}/ws/viewer")
    await good.join("Good")
    server.cmd("open")
    await good.expect("question")
    assert (await good.answer(0, 1))["ok"]

    bad = await Client.connect(f"{server.ws}/ws/viewer")
    cases: list[tuple[str | bytes, str]] = [
        ("not json", "bad_frame"),
        ("[1,2,3]", "bad_frame"),
        (b"\xff\xfe\x00", "bad_frame"),
        ('{"type":"launch"}', "unknown_type"),
        ('{"type":5}', "bad_field"),
        ('{"type":"answer","question":0}', "bad_field"),
        ('{"type":"answer","question":"0","option":1}', "bad_field"),
        ('{"type":"answer","question":0,"option":true}', "bad_field"),
        ('{"type":"answer","question":0,"option":1e300}', "bad_field"),
        ('{"type":"answer","question":0,"option":1}', "not_joined"),
        ('{"type":"join"}', "bad_field"),
        ('{"type":"join","name":"\\u200b\\u202e"}', "bad_field"),
        ('{"type":"resume","token":"' + (good.token or "").split(".")[0] + '.forged"}', "bad_token"),
        ('{"a":{"b":{"c":{"d":{"e":1}}}}}', "bad_frame"),
    ]
    for raw, code in cases:
        await bad.send_raw(raw)
        err = await bad.expect("error")
        assert err["code"] == code, (raw, err)
    await bad.send({"type": "join", "name": "Mallory", "when": 0, "server_time": 1})
    await bad.expect("welcome")
    await bad.send({"type": "join", "name": "Again"})
    assert (await bad.expect("error"))["code"] == "already_joined"
    await bad.send_raw('{"type":"answer","question":0,"option":1,"t":0,"time_ms":1}')
    ack = await bad.expect("ack")
    assert ack["ok"] and ack["time_ms"] > 1  # client-supplied times are ignored

    huge = await Client.connect(f"{server.ws}/ws/viewer")
    await huge.send_raw("x" * 5000)
    closed = await huge.expect("_closed")
    assert closed["code"] == 1009

    # the good player's answer is untouched and the server still serves everyone
    await good.send({"type": "ping", "t": 1})
    assert (await good.expect("pong"))["t"] == 1
    with server.host() as host:
        assert host.get("/api/host/verify").json()["ok"]
        stats = host.get("/api/host/stats").json()
        assert stats["answers"] == 2
    for c in (good, bad):
        await c.close()


async def test_host_api_auth_phases_and_double_press(server: ServerProc) -> None:
    assert httpx.post(f"{server.base}/api/host/open").status_code == 401
    wrong = httpx.post(f"{server.base}/api/host/open", headers={"authorization": "Bearer nope-nope-nope"})
    assert wrong.status_code == 401
    refused = server.cmd("reveal")
    assert refused.status_code == 409 and "lobby" in refused.json()["message"]
    assert server.cmd("open", expect=0).status_code == 200
    again = server.cmd("open", expect=0)
    assert again.status_code == 409
    server.cmd("close")
    assert server.cmd("open", expect=1).status_code == 200
    assert server.cmd("close").status_code == 200
    assert server.cmd("open", expect=1).status_code == 409  # a late duplicate press never skips
    with server.host() as host:
        state = host.get("/api/host/state").json()
        assert state["question"]["index"] == 1 and state["next_question"]["index"] == 2
        assert state["next_question"]["correct"] == 2
        assert host.post("/api/host/reset", json={}).status_code == 409
        assert host.post("/api/host/reset", json={"confirm": "test.ep1"}).status_code == 200
        assert host.get("/api/host/state").json()["phase"] == "lobby"
        assert host.post("/api/host/load", json={"bank": "nope", "episode": "x"}).status_code == 404
        assert host.post("/api/host/settings", json={"delay_s": "ten"}).status_code == 400
        assert host.post("/api/host/settings", json={"delay_s": 10}).json()["delay_s"] == 10


async def test_disqualify_moves_prize(server: ServerProc) -> None:
    a = await Client.connect(f"{server.ws}/ws/viewer")
    b = await Client.connect(f"{server.ws}/ws/viewer")
    await a.join("Quick")
    await b.join("Second")
    server.cmd("open")
    await a.expect("question")
    await b.expect("question")
    assert (await a.answer(0, 1))["ok"]
    await asyncio.sleep(0.2)
    assert (await b.answer(0, 1))["ok"]
    server.cmd("close")
    assert server.cmd("disqualify", player=a.player, reason="two accounts").status_code == 200
    server.cmd("reveal")
    reveal = await b.expect("reveal")
    assert reveal["fastest"]["name"] == "Second"
    with server.host() as host:
        results = host.get("/api/host/results").json()
        assert results["questions"][0]["winner"]["name"] == "Second"
        assert results["disqualified"][0]["reason"] == "two accounts"
        assert host.get("/api/host/verify").json()["ok"]
    await a.close()
    await b.close()


async def test_review_flags_reach_the_winners_export(server: ServerProc) -> None:
    bots = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(5)]
    for i, b in enumerate(bots):
        await b.join(f"bot{i}")
    server.cmd("open")
    for b in bots:
        await b.expect("question")
    assert (await bots[0].answer(0, 1))["time_ms"] < 300  # faster than a person can read
    await asyncio.sleep(0.5)
    for b in bots[1:]:
        assert (await b.answer(0, 1))["ok"]
    server.cmd("close")
    with server.host() as host:
        results = host.get("/api/host/results").json()
        winner = results["questions"][0]["winner"]
        assert winner["name"] == "bot0"
        assert any(f.startswith("too_fast") for f in winner["flags"])
        assert all(any(f.startswith("shared_ip") for f in s["flags"]) for s in results["standings"])
        csv_text = host.get("/api/host/results?format=csv").text
        assert "review too_fast" in csv_text
    for b in bots:
        await b.close()
