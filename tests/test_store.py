"""The Lua scripts against a real redis-server: acceptance, ordering, deadlines, verify.

Response times here are constructed exactly (arrival and send instants are arguments of
the answer script), which is how ties on response time can be tested at all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import redis.asyncio as aioredis

from quiz_engine.game.phases import Command
from quiz_engine.store.keys import EpisodeKeys
from quiz_engine.store.records import DeliveryRecord, QuestionSpec
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Store
from quiz_engine.verify import verify, verify_episode

EP = "unit.ep"
BOOT = "boot1"
QUESTIONS = [(QuestionSpec(1, 4, 15000), {"text": "q0", "options": ["a", "b", "c", "d"], "time_limit": 15}),
             (QuestionSpec(0, 3, 15000), {"text": "q1", "options": ["a", "b", "c"], "time_limit": 15})]


@pytest.fixture
async def store(fresh_redis: str) -> AsyncIterator[Store]:
    s = Store.from_url(fresh_redis)
    loaded = await s.load(EP, {"title": "unit"}, QUESTIONS)
    assert loaded.ok and loaded.created
    yield s
    await s.close()



_rid = iter(range(10**9))


def req(player: str, option: int, response_us: int, q: int = 0, sent: int = 1_000_000,
        boot: str = BOOT, rid: str | None = None, fan: bool = True) -> AnswerRequest:
    """An answer ``response_us`` after this node's fan-out wrote to the player (allowance 0,
    lead 0), or, with ``fan=False``, from a player no fan-out recorded."""
    arrival = sent + response_us
    delivery = f"REL|{sent}|0|0" if fan else "|||"
    return AnswerRequest(EP, player, q, option, boot, arrival, arrival + 7, delivery, rid or f"r{next(_rid)}")


async def answer(store: Store, *requests: AnswerRequest) -> list[AnswerResult]:
    """Answer with the fan-out records bound to the current opening (its release time)."""
    release = (await store.state(EP)).get("release_at", "0")
    return await store.answer_batch([r._replace(delivery=r.delivery.replace("REL", release)) for r in requests])


async def rewrite_audit(raw: aioredis.Redis, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
    """Tamper with the audit stream in place (same entry ids): what verify must catch."""
    key = EpisodeKeys(EP).audit
    entries = await raw.xrange(key)
    await raw.delete(key)
    for entry_id, fields in entries:
        await raw.xadd(key, change(dict(fields)), id=entry_id)


async def test_ordering_by_response_time_then_arrival(store: Store) -> None:
    t = await store.transition(EP, Command.OPEN)
    assert t.ok and t.qidx == 0
    results = await answer(
        store,
        req("slow", 1, 900_000),
        req("tie-first", 1, 400_000),
        req("wrong", 2, 100_000),
        req("tie-second", 1, 400_000),
        req("fastest", 1, 250_000),
    )
    assert all(r.ok for r in results)
    assert [r.seq for r in results] == [1, 2, 3, 4, 5]
    ordered = await store.correct_answers(EP, 0)
    assert [a.player for a in ordered] == ["fastest", "tie-first", "tie-second", "slow"]
    assert [a.response_us for a in ordered] == [250_000, 400_000, 400_000, 900_000]
    counts, total = await store.counts(EP, 0, 4)
    assert counts == [0, 4, 1, 0] and total == 5
    assert await verify_episode(store, EP, one_prize=False) == []


async def test_rejections(store: Store) -> None:
    [early] = await answer(store, req("p", 1, 1000))
    assert (early.ok, early.reason) == (False, "not_open")
    await store.transition(EP, Command.OPEN)
    first, dup, bad_option, wrong_q = await answer(
        store, req("p", 1, 1000), req("p", 2, 2000), req("q", 7, 1000), req("q", 1, 1000, q=1))
    assert first.ok
    assert (dup.ok, dup.reason, dup.option) == (False, "duplicate", 1)
    assert (bad_option.ok, bad_option.reason) == (False, "invalid_option")
    assert (wrong_q.ok, wrong_q.reason) == (False, "wrong_question")
    # an invalid option is not stored: the player may still answer
    [later] = await answer(store, req("q", 0, 3000))
    assert later.ok
    await store.transition(EP, Command.CLOSE)
    [late] = await answer(store, req("r", 1, 1000))
    assert (late.ok, late.reason) == (False, "late")
    stored = await store.all_answers(EP, 0)
    assert {p: v[0] for p, v in stored.items()} == {"p": 1, "q": 0}
    assert await verify_episode(store, EP, one_prize=False) == []


async def test_deadline_edge_is_decided_by_redis_clock(store: Store, raw: aioredis.Redis) -> None:
    await store.transition(EP, Command.OPEN, grace_ms=500)
    k = EpisodeKeys(EP)
    now_ms = await store.time_us() // 1000
    # deadline + grace ends 1 ms ago by Redis's clock: late, whatever this process believes
    await raw.hset(k.state, mapping={"deadline": now_ms - 501, "release_at": now_ms - 15_000})
    [late] = await answer(store, req("a", 1, 1000))
    assert late.reason == "late"
    # deadline + grace still 300 ms ahead: accepted (inside the grace period)
    now_ms = await store.time_us() // 1000
    await raw.hset(k.state, "deadline", now_ms - 200)
    [ok] = await answer(store, req("b", 1, 1000))
    assert ok.ok


async def test_release_at_in_future_means_not_open(store: Store) -> None:
    assert (await store.set_delay(5000)).ok
    t = await store.transition(EP, Command.OPEN)
    assert t.release_at - t.now_ms == 5000 and t.deadline - t.release_at == 15000
    [r] = await answer(store, req("a", 1, 1000))
    assert r.reason == "not_open"


async def test_retry_with_same_request_id_is_stored_once(store: Store) -> None:
    await store.transition(EP, Command.OPEN)
    [first] = await answer(store, req("a", 1, 321_000, rid="boot1:42"))
    [retry] = await answer(store, req("a", 1, 999_000, rid="boot1:42"))
    assert first.ok and retry.ok and retry.retried
    assert retry.response_us == 321_000 and retry.seq == first.seq
    assert len(await store.all_answers(EP, 0)) == 1
    scores = await store.scores(EP)
    assert [(s.player, s.correct, s.total_us) for s in scores] == [("a", 1, 321_000)]


async def test_delivery_allowance_is_fixed_at_the_release_and_kept_across_nodes(
    store: Store, raw: aioredis.Redis
) -> None:
    t = await store.transition(EP, Command.OPEN, cap_ms=1000)
    release_us = t.release_at * 1000
    # node 1 started its fan-out 20 ms after the release (lead) and wrote to "a" 300 ms later
    k = EpisodeKeys(EP)
    assert await store.record_deliveries(EP, 0, t.release_at, "node1", 50_000_000, 20_000, [("a", 300_000)]) == 1
    # a second record (another node, a retry) never changes it
    assert await store.record_deliveries(EP, 0, t.release_at, "node2", 70_000_000, 0, [("a", 900_000)]) == 0
    assert await store.delivery(EP, 0, "a") == DeliveryRecord("node1", 50_000_000, 300_000, 20_000)
    # the allowance is capped at the opening's cap (1 s)
    assert await store.record_deliveries(EP, 0, t.release_at, "node1", 50_000_000, 20_000, [("slow", 4_000_000)]) == 1
    slow = await store.delivery(EP, 0, "slow")
    assert slow is not None and slow.allowance_us == 1_000_000
    # "a" reconnects to node 2 and answers there 2.5 s after the release (node 2's estimate):
    # timed from the release, minus node 1's allowance
    r = AnswerRequest(EP, "a", 0, 1, "node2", 9_000_000, release_us + 2_500_000, "|||", "node2:1")
    [res] = await answer(store, r)
    assert res.ok and res.response_us == 2_200_000
    # on node 1 itself: node 1's monotonic clock (arrival − fan-out start + lead − allowance)
    r = AnswerRequest(EP, "slow", 0, 1, "node1", 52_000_000, 0, "|||", "node1:1")
    [res] = await answer(store, r)
    assert res.ok and res.response_us == 2_000_000 + 20_000 - 1_000_000
    # a player no fan-out recorded (joined after the release): arrival estimate − release
    r = AnswerRequest(EP, "late", 0, 1, "node1", 52_000_000, release_us + 3_000_000, "|||", "node1:2")
    [res] = await answer(store, r)
    assert res.ok and res.response_us == 3_000_000
    assert not await raw.hexists(k.deliveries(0), "late")
    assert await verify_episode(store, EP, one_prize=False) == []


async def test_delivery_records_are_refused_for_another_opening_or_after_the_window(
    store: Store, raw: aioredis.Redis
) -> None:
    t = await store.transition(EP, Command.OPEN, cap_ms=1000)
    # a record for an earlier opening of the same question (wrong release time): refused
    assert await store.record_deliveries(EP, 0, t.release_at - 5, "node1", 1, 0, [("a", 10)]) == -1
    # an answer carrying a record of another opening: no allowance, timed from the release
    stale = AnswerRequest(EP, "a", 0, 1, "node1", 5_000_000, t.release_at * 1000 + 1_500_000,
                          f"{t.release_at - 5}|1000000|900000|0", "node1:7")
    [res] = await answer(store, stale)
    assert res.ok and res.response_us == 1_500_000
    assert await store.delivery(EP, 0, "a") is None
    # once the window has closed no allowance can be recorded
    now_ms = await store.time_us() // 1000
    await raw.hset(EpisodeKeys(EP).state, "deadline", now_ms - 1000)
    assert await store.record_deliveries(EP, 0, t.release_at, "node1", 1, 0, [("b", 10)]) == -1
    assert await verify_episode(store, EP, one_prize=False) == []


async def test_verify_checks_the_timing_rule_of_every_answer(store: Store, raw: aioredis.Redis) -> None:
    t = await store.transition(EP, Command.OPEN, cap_ms=1000)
    await store.record_deliveries(EP, 0, t.release_at, "node1", 10_000_000, 0, [("honest", 200_000)])
    release_us = t.release_at * 1000
    honest = AnswerRequest(EP, "honest", 0, 1, "node2", 1, release_us + 2_000_000, "|||", "n2:1")
    late = AnswerRequest(EP, "late", 0, 1, "node2", 1, release_us + 3_000_000, "|||", "n2:2")
    assert all(r.ok for r in await answer(store, honest, late))
    assert await verify_episode(store, EP, one_prize=False) == []
    answers = [f for _, f in await store.audit(EP) if f.get("e") == "ans"]
    assert {(f["p"], f["rule"], f["al"], f["arr"]) for f in answers} == {
        ("honest", "fanout", "200000", "2000000"), ("late", "release", "0", "3000000")}

    # an allowance above the cap (the stored time edited to match)
    def over_cap(f: dict[str, str]) -> dict[str, str]:
        if f.get("p") == "honest" and f.get("e") == "ans":
            return {**f, "al": "1500000", "r": "500000"}
        return f

    await rewrite_audit(raw, over_cap)
    diffs = await verify_episode(store, EP, one_prize=False)
    assert any("honest" in d and "exceeds the cap" in d for d in diffs), diffs
    assert any("recorded 200000" in d for d in diffs), diffs

    # a late answer given an allowance: no fan-out recorded that player
    def late_allowance(f: dict[str, str]) -> dict[str, str]:
        if f.get("p") == "honest" and f.get("e") == "ans":
            return {**f, "al": "200000", "r": "1800000"}
        if f.get("p") == "late" and f.get("e") == "ans":
            return {**f, "rule": "fanout", "al": "600000", "r": "2400000"}
        return f

    await rewrite_audit(raw, late_allowance)
    diffs = await verify_episode(store, EP, one_prize=False)
    assert any("late" in d and "not a broadcast recipient" in d for d in diffs), diffs
    assert not any("honest" in d for d in diffs), diffs


async def test_verify_notes_answers_recorded_before_the_release_clock(store: Store, raw: aioredis.Redis) -> None:
    await store.transition(EP, Command.OPEN)
    await answer(store, req("a", 1, 100_000))

    def legacy(f: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in f.items() if k not in ("arr", "al", "rule")}

    await rewrite_audit(raw, legacy)
    result = await verify(store, EP, one_prize=False)
    assert result.differences == []
    assert result.notes and "cannot be re-derived" in result.notes[0]


async def test_a_malformed_answer_is_refused_alone(store: Store, raw: aioredis.Redis) -> None:
    """One unparsable answer in a batch (a player id with the field separator) is refused
    without storing anything; the other answers of the same script call go through."""
    await store.transition(EP, Command.OPEN)
    bad = AnswerRequest(EP, "x|y", 0, 1, "node1", 100, 107, "|||", "node1:x")
    good, broken, other = await answer(store, req("a", 1, 100), bad, req("b", 2, 200))
    assert good.ok and other.ok
    assert (broken.ok, broken.reason) == (False, "try_again")
    assert set(await raw.hkeys(EpisodeKeys(EP).answers(0))) == {"a", "b"}


async def test_void_and_disqualify_and_verify(store: Store) -> None:
    await store.transition(EP, Command.OPEN)
    await answer(store, req("a", 1, 100), req("b", 1, 200))
    await store.transition(EP, Command.CLOSE)
    await store.transition(EP, Command.OPEN)
    await answer(store, req("b", 0, 100, q=1), req("a", 0, 50, q=1))
    v = await store.transition(EP, Command.VOID, expect=1, reason="typo in question")
    assert v.ok and v.phase == "closed"
    scores = {s.player: s for s in await store.scores(EP)}
    assert scores["a"].correct == 1 and scores["b"].correct == 1 and scores["a"].total_us == 100
    await store.disqualify(EP, "a", "duplicate account", "host")
    assert set(await store.disqualified(EP)) == {"a"}
    assert await verify_episode(store, EP, one_prize=False) == []


async def test_verify_reports_tampering(store: Store, raw: aioredis.Redis) -> None:
    await store.transition(EP, Command.OPEN)
    await answer(store, req("honest", 1, 300_000), req("cheat", 1, 800_000))
    assert await verify_episode(store, EP, one_prize=False) == []
    k = EpisodeKeys(EP)
    # someone edits the ordered set to make "cheat" the fastest
    await raw.zadd(k.correct(0), {"cheat": 1})
    diffs = await verify_episode(store, EP, one_prize=False)
    assert any("order of correct answers" in d for d in diffs)
    assert any("winner" in d for d in diffs)


async def test_transition_refusals(store: Store) -> None:
    bad = await store.transition(EP, Command.REVEAL)
    assert (bad.ok, bad.reason, bad.phase) == (False, "phase", "lobby")
    assert (await store.transition(EP, Command.OPEN, expect=1)).reason == "stale"
    assert (await store.transition(EP, Command.OPEN, expect=0)).ok
    early = await store.transition(EP, Command.CLOSE, auto=True)
    assert (early.ok, early.reason) == (False, "too_early") and early.retry_in_ms > 10_000
    assert (await store.transition(EP, Command.CLOSE)).ok
    assert (await store.transition(EP, Command.CLOSE, auto=True)).reason == "already_closed"
    assert (await store.transition(EP, Command.OPEN)).ok
    assert (await store.transition(EP, Command.CLOSE)).ok
    assert (await store.transition(EP, Command.OPEN)).reason == "no_more_questions"
    reset = await store.transition(EP, Command.RESET, confirm=EP)
    assert reset.ok and (await store.state(EP))["phase"] == "lobby"


async def test_void_then_rerun_replays_cleanly(store: Store) -> None:
    await store.transition(EP, Command.OPEN)
    await answer(store, req("a", 1, 100), req("b", 2, 200))
    assert (await store.transition(EP, Command.RERUN, expect=0)).reason == "phase"  # still open
    await store.transition(EP, Command.CLOSE)
    assert (await store.transition(EP, Command.RERUN, expect=0)).reason == "not_voided"
    assert (await store.transition(EP, Command.VOID, reason="Redis outage")).ok
    assert (await store.transition(EP, Command.RERUN, expect=0)).ok
    assert (await store.state(EP))["next"] == "0"
    reopened = await store.transition(EP, Command.OPEN, expect=0)
    assert reopened.ok and reopened.qidx == 0
    [again] = await answer(store, req("a", 2, 300))  # a fresh answer: the old one is gone
    assert again.ok
    assert await store.voided(EP) == set()
    assert await verify_episode(store, EP, one_prize=False) == []
