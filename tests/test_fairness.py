"""The fairness model against a viewer who reads the question first (docs/protocol.md, "Timing").

Two server nodes on one Redis. In every attack an honest player, joined on node A when the
question was released, answers correctly 2 s after the release; the attacker answers
correctly 3 s after it, having done something after the release that used to reset their
clock (joined, resumed, read on an unjoined socket, switched node, lost their node, opened a
second account). The honest player must win, and the attacker's time must be at least
3,000 ms − the allowance cap. Real processes, real sockets, real Redis.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from tests.client import Client
from tests.conftest import ServerProc

CAP_MS = 1000
RIGHT = 1  # test/ep1 question 1: "One plus one?" -> "2"
HONEST_AT, ATTACK_AT = 2.0, 3.0  # seconds after the release


async def _after(t0: float, seconds: float) -> None:
    await asyncio.sleep(max(0.0, t0 + seconds - time.monotonic()))


async def _viewer(node: ServerProc, name: str | None = None) -> Client:
    client = await Client.connect(f"{node.ws}/ws/viewer")
    await client.expect("snapshot")
    if name is not None:
        await client.join(name)
    return client


async def _resume(node: ServerProc, token: str) -> Client:
    client = await Client.connect(f"{node.ws}/ws/viewer")
    await client.expect("snapshot")
    await client.resume(token)
    return client


# Each attack: (nodes A and B, the attacker's setup before the open) -> an awaitable run after
# the release (t0 = when the honest phone got the question) that returns the attacker's socket,
# ready to answer.
Setup = Callable[[ServerProc, ServerProc], Awaitable[Callable[[float], Awaitable[Client]]]]


async def late_join(a: ServerProc, b: ServerProc) -> Callable[[float], Awaitable[Client]]:
    async def after(t0: float) -> Client:
        await _after(t0, 2.5)  # read it on the stream, then join
        return await _viewer(b, "Attacker")

    return after


async def resume_after_release(a: ServerProc, b: ServerProc) -> Callable[[float], Awaitable[Client]]:
    first = await _viewer(a, "Attacker")
    token = first.token
    assert token
    await first.close()  # offline at the release

    async def after(t0: float) -> Client:
        await _after(t0, 2.5)
        return await _resume(a, token)

    return after


async def unjoined_reader(a: ServerProc, b: ServerProc) -> Callable[[float], Awaitable[Client]]:
    reader = await _viewer(a)  # connected, never joined: gets the full question at the release

    async def after(t0: float) -> Client:
        await reader.expect("question")
        await _after(t0, 2.5)
        await reader.join("Attacker")
        return reader

    return after


async def late_delivery_then_other_node(a: ServerProc, b: ServerProc) -> Callable[[float], Awaitable[Client]]:
    async def after(t0: float) -> Client:
        await _after(t0, 1.0)
        first = await _viewer(a, "Attacker")  # first delivery by snapshot, 1 s late
        token = first.token
        assert token
        await _after(t0, 1.6)
        await first.close()
        return await _resume(b, token)  # then node B's (later) snapshot

    return after


async def second_account(a: ServerProc, b: ServerProc) -> Callable[[float], Awaitable[Client]]:
    await _viewer(a, "Attacker")  # the main account, joined at the release, never answers

    async def after(t0: float) -> Client:
        await _after(t0, 2.5)
        return await _viewer(b, "Attacker 2")

    return after


ATTACKS: dict[str, Setup] = {
    "new join after the release": late_join,
    "resume after the release": resume_after_release,
    "unjoined socket, then join": unjoined_reader,
    "late first delivery, then the other node": late_delivery_then_other_node,
    "second account after the release": second_account,
}


async def _play(a: ServerProc, attacker_ready: Callable[[float], Awaitable[Client]], honest: Client,
                kill: ServerProc | None = None) -> tuple[dict[str, Any], dict[str, Any], Client]:
    assert a.cmd("open", expect=0).status_code == 200
    await honest.expect("question", index=0)
    t0 = time.monotonic()
    if kill is not None:
        await asyncio.sleep(0.5)
        kill.stop(signal.SIGKILL)
    attacker_task = asyncio.create_task(attacker_ready(t0))
    await _after(t0, HONEST_AT)
    honest_ack = await honest.answer(0, RIGHT)
    attacker = await attacker_task
    await _after(t0, ATTACK_AT)
    attack_ack = await attacker.answer(0, RIGHT)
    return honest_ack, attack_ack, attacker


def _check(a: ServerProc, honest: Client, honest_ack: dict[str, Any], attack_ack: dict[str, Any],
           attacker: Client, strict: bool) -> None:
    assert honest_ack["ok"] and attack_ack["ok"], (honest_ack, attack_ack)
    assert 1900 <= honest_ack["time_ms"] < 2600, honest_ack
    # nothing done after the release lowers a time by more than the cap; an attacker who was
    # not a broadcast recipient has no allowance at all
    assert attack_ack["time_ms"] >= ATTACK_AT * 1000 - CAP_MS, attack_ack
    if strict:
        assert attack_ack["time_ms"] >= ATTACK_AT * 1000 - 100, attack_ack
    assert a.cmd("close").status_code == 200
    assert a.cmd("reveal").status_code == 200
    with a.host() as host:
        results = host.get("/api/host/results").json()
        assert results["questions"][0]["winner"]["player"] == honest.player
        verified = host.get("/api/host/verify").json()
        assert verified["ok"], verified
    r = redis.Redis.from_url(a.redis_url, decode_responses=True)
    answers = {f["p"]: f for _, f in r.xrange("qe:{test.ep1}:audit") if f.get("e") == "ans"}
    r.close()
    assert answers[honest.player or ""]["rule"] == "fanout"
    if strict:
        assert answers[attacker.player or ""]["rule"] == "release"
        assert answers[attacker.player or ""]["al"] == "0"


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_reading_first_never_wins(make_server: Callable[..., ServerProc], attack: str) -> None:
    a = make_server("--load", "test/ep1", "--max-allowance-ms", str(CAP_MS))
    b = make_server("--max-allowance-ms", str(CAP_MS))
    honest = await _viewer(a, "Honest")
    await _viewer(b, "Bystander")  # node B has its own fan-out at the release
    ready = await ATTACKS[attack](a, b)
    honest_ack, attack_ack, attacker = await _play(a, ready, honest)
    _check(a, honest, honest_ack, attack_ack, attacker, strict=True)


async def test_a_killed_node_s_viewers_resume_elsewhere_without_gaining(make_server: Callable[..., ServerProc]) -> None:
    a = make_server("--load", "test/ep1", "--max-allowance-ms", str(CAP_MS))
    b = make_server("--max-allowance-ms", str(CAP_MS))
    honest = await _viewer(a, "Honest")
    victim = await _viewer(b, "On node B")  # node B is killed 0.5 s after the release
    token = victim.token
    assert token

    async def after(t0: float) -> Client:
        await _after(t0, 1.0)
        return await _resume(a, token)

    honest_ack, attack_ack, attacker = await _play(a, after, honest, kill=b)
    # a broadcast recipient of node B: it keeps B's (tiny) allowance, never more than the cap
    _check(a, honest, honest_ack, attack_ack, attacker, strict=False)


async def test_broadcast_recipients_keep_the_write_time_clock(make_server: Callable[..., ServerProc]) -> None:
    """A socket that is slow to read is timed from the node's write to it; a reconnect A → B
    after the broadcast keeps that clock (the allowance fixed at the release)."""
    a = make_server("--load", "test/ep1")
    b = make_server()
    slow = await _viewer(a, "Slow reader")
    mover = await _viewer(a, "Mover")
    slow.ws.transport.pause_reading()  # the frame waits in the kernel; the node's write is what counts
    assert a.cmd("open", expect=0).status_code == 200
    await mover.expect("question", index=0)
    t0 = time.monotonic()
    await asyncio.sleep(0.8)
    slow.ws.transport.resume_reading()
    await slow.expect("question", index=0)
    await _after(t0, 1.5)
    slow_ack = await slow.answer(0, RIGHT)
    assert slow_ack["ok"] and 1400 <= slow_ack["time_ms"] < 2100, slow_ack  # not 0.7 s from its read
    token = mover.token
    assert token
    await mover.close()
    moved = await _resume(b, token)
    await _after(t0, 2.0)
    moved_ack = await moved.answer(0, RIGHT)
    assert moved_ack["ok"] and 1900 <= moved_ack["time_ms"] < 2600, moved_ack
    with a.host() as host:
        assert host.get("/api/host/verify").json()["ok"]


async def test_a_delay_change_never_holds_the_next_question(make_server: Callable[..., ServerProc]) -> None:
    """Delay 3 s → leaderboard → delay 0 → open: the phones get the question at its own
    release_at (within 100 ms, a functional bound) with the whole window, the leaderboard
    that was still pending just before it."""
    a = make_server("--load", "test/ep1", "--stream-delay", "3")
    v = await _viewer(a, "Phone")
    assert a.cmd("open", expect=0).status_code == 200
    await v.expect("question", index=0, timeout=8)
    assert a.cmd("close").status_code == 200
    assert a.cmd("reveal").status_code == 200
    assert a.cmd("leaderboard").status_code == 200
    assert a.cmd("settings", delay_s=0).status_code == 200
    assert a.cmd("open", expect=1).status_code == 200
    q = await v.expect("question", index=1, timeout=8)
    got = int(time.time() * 1000)
    assert q["release_at"] - 50 <= got <= q["release_at"] + 100, (got - q["release_at"])
    assert q["deadline"] - q["release_at"] == 30_000
    seen = [f["type"] for f in v.frames]
    assert seen.index("leaderboard") < len(seen) - 1 - seen[::-1].index("question")
    ack = await v.answer(1, 0)
    assert ack["ok"] and ack["time_ms"] < 1000, ack
