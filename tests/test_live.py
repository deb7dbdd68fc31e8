"""The live parts in-process, with plain values and a fake clock: no server, no sleeps.

The projector (what each role sees in each phase), the phones' queue and scheduler (the
stream delay, the delivery record), the answer desk (what an answer carries to Redis and
which ack comes back), the close timer's retry, the GC policy, and the hub's fan-out over
real socket pairs (one failing socket does not stop the broadcast; a batch keeps order).
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
from collections.abc import Callable
from typing import Any

import pytest

from quiz_engine.delivery import Delivery
from quiz_engine.errors import ProtocolError
from quiz_engine.fanout import FanoutWriter
from quiz_engine.game.phases import Phase
from quiz_engine.game.standings import PlayerScore, Standing
from quiz_engine.hub import Conn, Hub, Role
from quiz_engine.live.answers import AnswerDesk
from quiz_engine.live.closer import CloseTimer
from quiz_engine.live.gcpolicy import GC_NO_FULL_PASS, GcPolicy
from quiz_engine.live.scheduler import Scheduled, ViewerQueue, ViewerScheduler
from quiz_engine.protocol import projector as P
from quiz_engine.protocol.codec import JSON, Prepared
from quiz_engine.protocol.frames import Answer
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Transition

T0 = 1_800_000_000_000  # Redis ms


class FakeClock:
    """Redis time that moves only when a test says so; monotonic 0 is Redis's ``T0``."""

    boot = "b00t"

    def __init__(self, now_ms: int = T0) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms

    def est_us(self, mono: int | None = None) -> int:
        return self.ms * 1000 if mono is None else T0 * 1000 + mono

    def loop_time_for(self, redis_ms: int) -> float:
        return asyncio.get_running_loop().time() + (redis_ms - self.ms) / 1000


def view(phase: Phase, **state: Any) -> P.EpisodeView:
    v = P.EpisodeView(
        episode="bank/ep1",
        meta={"title": "Tập 1", "sources": ["Luật A", "Luật B"]},
        questions=[{"text": "Q1?", "options": ["a", "b", "c"], "time_limit": 15},
                   {"text": "Q2?", "options": ["x", "y"], "time_limit": 10}],
        specs=[(2, 3, 15000), (0, 2, 10000)],
        seq=5,
    )
    v.state = {"phase": phase.value, "qidx": "0", "next": "1", "phase_at": str(T0), "release_at": str(T0 + 3000),
               "deadline": str(T0 + 18000), "opened_at": str(T0), "grace": "500",
               **{k: str(val) for k, val in state.items()}}
    return v


# --- the projector ---------------------------------------------------------------------------------


def test_question_frames_never_show_the_answer_except_to_the_host() -> None:
    v = view(Phase.QUESTION)
    p = P.project(v, T0 + 10, delay_ms=3000)
    assert p.public["type"] == "question" and "correct" not in p.public
    assert p.host["correct"] == 2 and p.host["source"] == "Luật A"
    assert p.viewer_at == T0 + 3000  # the phones get it at its release, the stream delay after the studio
    assert p.public["studio_deadline"] == T0 + 15000 and not p.results
    # the phones hear at once that a question is coming, and nothing of it
    assert p.cue == {"type": "waiting", "seq": v.seq - 1, "index": 0, "until": T0 + 3000, "now": T0 + 10}
    assert P.project(v, T0 + 2600, delay_ms=3000).cue is None  # released within half a second: no cue
    for role in (P.VIEWER, P.OVERLAY):
        snap = P.snapshot(v, role, T0 + 4000, {}, delay_ms=3000, player="p1" if role == P.VIEWER else None)
        assert "correct" not in snap["question"]
    assert P.snapshot(v, P.HOST, T0 + 10, {}, delay_ms=3000)["question"]["correct"] == 2


def test_a_phone_waits_for_the_stream_and_then_sees_its_own_answer() -> None:
    v = view(Phase.QUESTION)
    early = P.snapshot(v, P.VIEWER, T0 + 1000, {}, delay_ms=3000, player="p1")
    assert early["phase"] == "waiting" and early["until"] == T0 + 3000 and early["seq"] == v.seq - 1
    assert "question" not in early
    late = P.snapshot(v, P.VIEWER, T0 + 5000, {}, delay_ms=3000, player="p1", you=(1, 2_345_600))
    assert late["phase"] == "question" and late["you"] == {"option": 1, "time_ms": 2345.6}
    # the overlay and the host are the studio: no waiting for them
    assert P.snapshot(v, P.OVERLAY, T0 + 1000, {}, delay_ms=3000)["phase"] == "question"


def test_closed_reaches_phones_at_once_and_results_after_the_delay() -> None:
    closed = view(Phase.CLOSED, phase_at=T0 + 18500)
    closed.answers, closed.voided = 42, frozenset({0})
    p = P.project(closed, T0 + 18500, delay_ms=3000)
    assert p.public == {"type": "closed", "seq": 5, "index": 0, "answers": 42, "voided": True, "now": T0 + 18500}
    assert p.viewer_at == T0 + 18500 and not p.results
    assert P.snapshot(closed, P.VIEWER, T0 + 18600, {}, delay_ms=3000)["closed"] == {"answers": 42, "voided": True}
    revealed = view(Phase.REVEALED, phase_at=T0 + 20000)
    revealed.counts, revealed.answers, revealed.fastest = [1, 2, 39], 42, {"name": "An", "time_ms": 812.5}
    p = P.project(revealed, T0 + 20000, delay_ms=3000)
    assert p.public["correct"] == 2 and p.public["fastest"]["name"] == "An"
    assert p.viewer_at == T0 + 23000 and p.results


def test_leaderboard_standings_and_the_personal_frame() -> None:
    v = view(Phase.FINISHED)
    score = PlayerScore("p1", correct=2, total_us=3_000_000, last_order=7)
    v.standings, v.players_ranked = {"p1": Standing(1, score)}, 1
    v.top, v.disqualified = [{"rank": 1, "name": "An"}], frozenset({"p9"})
    p = P.project(v, T0, delay_ms=0)
    assert p.public["winner"] == {"rank": 1, "name": "An"} and p.results
    assert P.standing(v, "p1") == {"type": "standing", "rank": 1, "players": 1, "correct": 2, "time_ms": 3000.0,
                                   "disqualified": False}
    assert P.standing(v, "p9")["disqualified"] is True and P.standing(v, "p9")["rank"] is None
    snap = P.snapshot(v, P.VIEWER, T0 + 1, {}, delay_ms=0, player="p1")
    assert snap["winner"]["name"] == "An" and snap["standing"]["rank"] == 1


def test_host_state_offers_what_the_phase_allows() -> None:
    v = view(Phase.CLOSED)
    state = P.host_state(v, T0, {"delay_s": 3.0}, viewers=7, redis_ok=True, incidents=[])
    assert state["question"]["correct"] == 2 and state["next_question"]["index"] == 1
    assert "reveal" in state["allowed"] and "close" not in state["allowed"]
    assert P.host_state(P.EpisodeView(), T0, {}, viewers=0, redis_ok=True, incidents=[])["allowed"] == []
    assert P.snapshot(P.EpisodeView(), P.VIEWER, T0, {}, delay_ms=0)["phase"] == "idle"


# --- the phones' queue and scheduler ----------------------------------------------------------------


def test_queue_never_lets_a_frame_overtake_or_wait_behind_another() -> None:
    q = ViewerQueue()
    q.push(Scheduled(T0 + 10_000, {"seq": 1}))  # a leaderboard under a 10 s delay
    q.push(Scheduled(T0 + 2_000, {"seq": 2}))  # the delay cut to 2 s: the next question
    assert [i.due_ms for i in q.items] == [T0 + 2_000, T0 + 2_000]
    assert q.pop_due(T0 + 1_999) is None
    assert q.pop_due(T0 + 2_000).frame == {"seq": 1}  # type: ignore[union-attr]
    assert q.pop_due(T0 + 2_000).frame == {"seq": 2}  # type: ignore[union-attr]


class FakeHub:
    def __init__(self, conns: list[Any], step_us: int = 100) -> None:
        self.conns = conns
        self.step_us = step_us
        self.sent: list[dict[str, Any]] = []
        self.t = 0

    async def broadcast(self, roles: tuple[Role, ...], prepared: Prepared,
                        on_written: Callable[[Any, Any], None] | None = None) -> int:
        self.sent.append(prepared.frame)
        times = []
        for _ in self.conns:
            self.t += self.step_us
            times.append(self.t * 1000)
        if on_written is not None:
            on_written(self.conns, times)
        return len(self.conns)


class FakeDeliveries:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def record_deliveries(self, *args: Any) -> int:
        self.calls.append(args)
        return len(args[-1])


class Joined:
    def __init__(self, player: str | None, joined_us: int = 0) -> None:
        self.player, self.joined_us = player, joined_us


async def test_scheduler_sends_at_the_due_time_and_records_the_allowances() -> None:
    clock, store = FakeClock(), FakeDeliveries()
    hub = FakeHub([Joined("p1"), Joined(None), Joined("p2"), Joined("late", joined_us=10**12)])
    scheduler = ViewerScheduler(hub, clock, store, mono=lambda: 0)
    delivery = Delivery(("bank/ep1", 0, T0 + 3000), cap_us=250)
    scheduler.schedule(T0 + 3000, {"type": "question", "now": 0}, delivery=delivery)
    after: list[str] = []
    scheduler.schedule(T0 + 3000, {"type": "closed"}, after=lambda: after.append("standings"))
    assert await scheduler.release_due() == 0 and hub.sent == []
    clock.ms = T0 + 3000
    assert await scheduler.release_due() == 2
    assert hub.sent[0] == {"type": "question", "now": T0 + 3000}  # stamped when it leaves
    assert after == ["standings"]
    # joined before the fan-out began: an allowance, capped; a socket joined after it: none
    assert delivery.allowance == {"p1": 100, "p2": 250}
    await asyncio.sleep(0)  # the record goes to Redis in its own task
    assert store.calls and store.calls[0][-1] == [("p1", 100), ("p2", 250)]
    assert delivery.record("p2") == f"{T0 + 3000}|0|250|{-3000 * 1000}"


def test_a_player_with_two_sockets_gets_the_earlier_write_and_late_joiners_none() -> None:
    """The fan-out threads write a player's two sockets in either order; the allowance is the
    earlier write's (never the later one's), and a socket joined after the start gets none."""
    delivery = Delivery(("bank/ep1", 0, T0), cap_us=5_000)
    delivery.begin(1_000, T0 * 1000)
    a, b, late = Joined("p1"), Joined("p1"), Joined("p2", joined_us=1_001)
    delivery.on_written([a, late], [4_000_000, 2_000_000])  # a written at 4,000 µs (3,000 after the start)
    delivery.on_written([b, Joined(None)], [1_500_000, 1_200_000])  # p1's other socket, written earlier
    assert delivery.allowance == {"p1": 500}
    delivery.on_written([Joined("p3")], [0])  # not written (the socket went away): no allowance
    delivery.on_written([Joined("p4")], [60_000_000])  # capped
    assert delivery.allowance == {"p1": 500, "p4": 5_000}


# --- the answer desk ---------------------------------------------------------------------------------


class FakeIngest:
    def __init__(self) -> None:
        self.requests: list[AnswerRequest] = []
        self.done: list[Callable[[AnswerResult], None]] = []

    def enqueue(self, request: AnswerRequest, done: Callable[[AnswerResult], None]) -> None:
        self.requests.append(request)
        self.done.append(done)


def test_answer_desk_carries_the_timing_and_maps_every_outcome() -> None:
    ingest, refused = FakeIngest(), []
    delivery = Delivery(("bank/ep1", 0, T0), cap_us=1000)
    delivery.begin(50, T0 * 1000 + 50)
    delivery.on_written([Joined("p1")], [80_000])
    episode = {"id": ""}
    desk = AnswerDesk(ingest, FakeClock(), lambda: episode["id"], lambda: delivery, lambda: refused.append(1))
    acks: list[dict[str, Any]] = []
    with pytest.raises(ProtocolError):
        desk.answer_soon(Joined(None), Answer(0, 1, "r0"), 1, acks.append)
    desk.answer_soon(Joined("p1"), Answer(0, 1, "r1"), 1, acks.append)
    assert acks[-1]["reason"] == "not_open" and not ingest.requests  # no episode: refused on the spot
    episode["id"] = "bank/ep1"
    desk.answer_soon(Joined("p1"), Answer(0, 1, "r2"), 123, acks.append)
    desk.answer_soon(Joined("p1"), Answer(1, 0, "r3"), 124, acks.append)
    first, other = ingest.requests
    assert first.delivery == f"{T0}|50|30|50" and other.delivery == "|||"
    assert (first.arrival_mono_us, first.boot) == (123, "b00t") and first.rid != other.rid
    ingest.done[0](AnswerResult(True, response_us=812_345, option=1))
    assert acks[-1] == {"type": "ack", "ref": "r2", "question": 0, "ok": True, "option": 1, "time_ms": 812.3}
    ingest.done[1](AnswerResult(False, "duplicate", option=2))
    assert acks[-1]["reason"] == "duplicate" and acks[-1]["option"] == 2
    ingest.done[1](AnswerResult(False, "try_again"))
    assert acks[-1]["reason"] == "try_again" and refused == [1]


# --- the close timer and the GC policy -------------------------------------------------------------------


async def test_close_timer_retries_when_redis_says_too_early() -> None:
    clock, calls, done = FakeClock(), [], asyncio.Event()

    async def close(idx: int) -> Transition:
        calls.append(idx)
        if len(calls) == 1:
            return Transition(False, "too_early", "question", retry_in_ms=5)
        done.set()
        return Transition(True, "", "closed")

    timer = CloseTimer(clock, close)
    timer.arm(3, clock.ms)
    await asyncio.wait_for(done.wait(), 5)
    assert calls == [3, 3]
    await timer.stop()


def test_gc_thresholds_lifted_only_while_a_question_is_open() -> None:
    normal = gc.get_threshold()
    policy = GcPolicy()
    try:
        policy.on_phase(Phase.QUESTION)
        assert gc.get_threshold()[2] == GC_NO_FULL_PASS and gc.get_freeze_count() > 0
        policy.on_phase(Phase.CLOSED)
        assert gc.get_threshold() == normal
        policy.results_out(final=True, closed_total=0, viewers=0)
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*normal)


# --- the hub's fan-out over real sockets ---------------------------------------------------------------------


class PairConn(Conn):
    """A Conn on one end of a socket pair: what the hub writes arrives at the other end."""

    __slots__ = ("peer", "queued", "sock")

    def __init__(self, ip: str = "127.0.0.1") -> None:
        self.sock, self.peer = socket.socketpair()
        self.sock.setblocking(False)
        self.peer.settimeout(5)
        super().__init__(Role.VIEWER, JSON, ip, fd=self.sock.fileno())
        self.queued: list[bytes] = []  # what went through "the transport" (write_rest)

    def writable(self) -> bool:
        return True

    def buffered(self) -> int:
        return 0

    def write_rest(self, data: bytes) -> None:
        self.queued.append(data)

    def shut(self, code: int, reason: str, abort: bool) -> None:
        self.sock.close()

    def received(self) -> bytes:
        out = b""
        self.peer.setblocking(False)
        try:
            while chunk := self.peer.recv(65536):
                out += chunk
        except BlockingIOError:
            pass
        return out


@pytest.mark.parametrize("threads", [1, 2])
async def test_broadcast_reaches_every_socket_and_a_broken_one_stops_nothing(threads: int) -> None:
    hub = Hub(fanout_threads=threads)
    conns = [PairConn() for _ in range(200)]
    for c in conns:
        hub.add(c)
    broken = conns[17]
    os.close(broken.fd)  # its descriptor is gone: the direct write fails for this socket only
    broken.sock.detach()
    times: dict[int, int] = {}

    def noted(step: Any, at: Any) -> None:
        times.update((id(conn), t) for conn, t in zip(step, at, strict=True))

    n = await hub.broadcast((Role.VIEWER,), Prepared({"type": "lobby", "seq": 1}), noted)
    assert n == 200 and len(times) == 200 and all(times.values())
    wire = Prepared({"type": "lobby", "seq": 1}).wire(JSON)
    for c in conns:
        if c is broken:
            assert c.queued == [wire]  # handed to its transport, which reports the error its own way
        else:
            assert c.received() == wire and not c.queued
    hub.shutdown()


async def test_a_write_batch_joins_frames_per_socket_in_order() -> None:
    hub = Hub(fanout_threads=2)
    a, b = PairConn(), PairConn()
    hub.add(a)
    hub.add(b)
    with hub.batched():
        a.send({"n": 1})
        b.send({"n": 2})
        a.send({"n": 3})
        assert a.received() == b""  # nothing leaves before the batch closes
    assert a.received() == Prepared({"n": 1}).wire(JSON) + Prepared({"n": 3}).wire(JSON)
    assert b.received() == Prepared({"n": 2}).wire(JSON)
    hub.shutdown()


def test_fanout_writer_refuses_a_socket_twice() -> None:
    writer = FanoutWriter(1)
    c = PairConn()
    with pytest.raises(AssertionError):
        writer.write([c, c], [b"x", b"y"])
