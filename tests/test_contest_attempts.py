"""Online contest attempts on a real Redis (issue 14), with the clock injected, never waited for.

Entry (identity, look-alikes never merged), one attempt in progress and the round's attempts
limit enforced atomically (also under concurrent starts), each question timed from its own
delivery (a reconnect never restarts it), limits per question and per attempt, rounds by the
clock, and the audit holding enough to re-derive every draw and score.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from quiz_engine.contest import draw as D
from quiz_engine.contest.desk import ContestDesk, Question, clean_entry, normalize_phone
from quiz_engine.contest.loader import load_contest
from quiz_engine.contest.model import ZONE, Counts
from quiz_engine.contest.ranking import rank_round
from quiz_engine.contest.roster import Roster, Unit
from quiz_engine.errors import AttemptRefused, EntryError
from quiz_engine.library import BankLibrary
from quiz_engine.store.contest import Step
from quiz_engine.store.redis_store import Store
from tests.conftest import ROOT

LIB = BankLibrary([ROOT / "question_banks"])
CONTEST = load_contest(ROOT / "question_banks" / "cchc-online-2026.contest.toml", LIB.bank)
BANK = LIB.bank(CONTEST.bank)
ROSTER = Roster((Unit("hd-tp", "UBND phường Trần Phú", "TP Hải Dương", 40),
                 Unit("ns-ab", "UBND xã An Bình", "Huyện Nam Sách", 25)))
SECRET = "test-secret"


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(dt.datetime(2026, 11, day, hour, minute, tzinfo=ZONE).timestamp() * 1000)


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)


@pytest.fixture
async def desk(fresh_redis: str) -> AsyncIterator[tuple[ContestDesk, Clock]]:
    store = Store.from_url(fresh_redis)
    clock = Clock(at(17, 9))  # Tuesday of week 1
    yield ContestDesk(CONTEST, BANK, ROSTER, store.contest(CONTEST.id, clock), SECRET), clock
    await store.close()


ENTRY = {"full_name": "Nguyễn Thị Lan", "unit": "hd-tp", "phone": "+84 901 234 567", "position": "Chuyên viên"}


def test_an_entry_is_checked_field_by_field() -> None:
    assert clean_entry(CONTEST, ROSTER, ENTRY)["phone"] == "0901234567"
    assert normalize_phone("090-123 4567") == "0901234567" and normalize_phone("12345") is None
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({**ENTRY, "full_name": "  "}, "full_name", "missing"),
        ({k: v for k, v in ENTRY.items() if k != "position"}, "position", "missing"),
        ({**ENTRY, "unit": "Phường Trần Phú"}, "unit", "unknown_unit"),  # typed, not picked from the list
        ({**ENTRY, "phone": "0901"}, "phone", "bad_phone"),
        ({**ENTRY, "full_name": "=HYPERLINK(\"x\")"}, "full_name", "formula"),
        ({**ENTRY, "full_name": "Nguyễn Thị Lаn"}, "full_name", "mixed_script"),  # a Cyrillic "а"
        ({**ENTRY, "full_name": "x" * 200}, "full_name", "too_long"),
        ({**ENTRY, "phone": 901234567}, "phone", "missing"),
    ]
    for fields, field, reason in cases:
        with pytest.raises(EntryError) as caught:
            clean_entry(CONTEST, ROSTER, fields)
        assert (caught.value.field, caught.value.reason) == (field, reason), fields


async def test_the_same_identity_is_the_same_person_and_look_alikes_are_flagged_not_merged(
        desk: tuple[ContestDesk, Clock]) -> None:
    d, _ = desk
    lan, entry, new = await d.enter(ENTRY)
    assert new and entry["phone"] == "0901234567"
    again, _, new_again = await d.enter({**ENTRY, "phone": "0901 234 567", "full_name": "Nguyễn Thị Lan"})
    assert again == lan and not new_again  # a reload, another phone: the same person, no second count
    other_unit, _, new_other = await d.enter({**ENTRY, "unit": "ns-ab"})  # her phone, another unit
    same_name, _, _ = await d.enter({**ENTRY, "phone": "0912345678", "full_name": "nguyen thi lan"})
    assert new_other and len({lan, other_unit, same_name}) == 3
    review = {(a, b, why) for a, b, why, _ in await d.store.lookalikes()}
    assert review == {(other_unit, lan, "same_phone"), (same_name, lan, "same_name_in_unit")}


async def _play(d: ContestDesk, clock: Clock, aid: str, right: int, think_s: float = 2.0) -> Step:
    """Answer the attempt's questions: the first ``right`` correctly, the rest wrongly."""
    attempt = await d.store.attempt(aid)
    key = attempt["key"]
    while True:
        q = await d.question(aid)
        if not isinstance(q, Question):
            return q
        clock.advance(think_s)
        option = int(key[q.index]) if q.index < right else (int(key[q.index]) + 1) % len(q.options)
        assert (await d.answer(aid, q.index, option)).outcome == "ok"


async def test_an_attempt_timed_per_question_from_its_own_delivery(desk: tuple[ContestDesk, Clock]) -> None:
    d, clock = desk
    person, _, _ = await d.enter(ENTRY)
    started = await d.start(person, prediction=42)
    assert started.outcome == "started" and started.attempt.startswith("w1:")
    aid = started.attempt
    q0 = await d.question(aid)
    assert isinstance(q0, Question) and q0.index == 0 and q0.count == 20 and len(q0.options) == 4
    assert q0.delivered_ms == clock.ms and q0.deadline_ms == clock.ms + 30_000
    assert "answer" not in q0.to_dict() and q0.text in {q.text for q in BANK.questions}
    # a reload 10 s later: the same question, the same delivery time (the clock is not restarted)
    clock.advance(10)
    again = await d.question(aid)
    assert isinstance(again, Question) and (again.index, again.delivered_ms) == (0, q0.delivered_ms)
    clock.advance(2.5)
    key = (await d.store.attempt(aid))["key"]
    first = await d.answer(aid, 0, int(key[0]))
    assert first.outcome == "ok" and first.correct and first.time_ms == 12_500 and first.next_index == 1
    for index, reason in ((0, "answered"), (1, "not_delivered"), (5, "not_current")):
        refused = await d.answer(aid, index, 0)
        assert (refused.outcome, refused.reason) == ("refused", reason)
    # question 2 runs out: 30 s and the grace pass with no answer; it counts its whole limit
    q1 = await d.question(aid)
    assert isinstance(q1, Question) and q1.index == 1
    clock.advance(31.6)
    late = await d.answer(aid, 1, int(key[1]))
    assert (late.outcome, late.reason) == ("refused", "time_up")
    q2 = await d.question(aid)
    assert isinstance(q2, Question) and q2.index == 2 and q2.delivered_ms == clock.ms
    # within the grace an answer is taken, counted as the limit
    clock.advance(31)
    inside = await d.answer(aid, 2, int(key[2]))
    assert inside.outcome == "ok" and inside.correct and inside.time_ms == 30_000
    done = await _play(d, clock, aid, right=20)
    assert done.outcome == "done" and done.why == "complete" and done.correct == 19
    assert done.time_ms == 12_500 + 30_000 + 30_000 + 17 * 2_000
    assert await d.store.open_attempt(person) is None
    [result] = await d.results("w1")
    assert (result.person, result.correct, result.time_ms, result.prediction, result.unit) == (
        person, 19, done.time_ms, 42, "hd-tp")
    after = await d.answer(aid, 19, 0)
    assert (after.outcome, after.reason) == ("refused", "finished")


async def test_one_attempt_at_a_time_and_the_round_limit_even_when_starts_race(
        desk: tuple[ContestDesk, Clock]) -> None:
    d, clock = desk
    person, _, _ = await d.enter(ENTRY)
    # five starts at once (two tabs, a double tap...): one attempt, the others told it is in progress
    outcomes = await asyncio.gather(*(d.start(person) for _ in range(5)), return_exceptions=True)
    started = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, AttemptRefused)]
    assert len(started) == 1 and len(refused) == 4
    assert {r.reason for r in refused} == {"in_progress"} and {r.attempt for r in refused} == {started[0].attempt}
    assert await d.store.tries("w1", person) == 1
    await _play(d, clock, started[0].attempt, right=10)
    second = await d.start(person)
    assert second.outcome == "started" and second.attempt.endswith(":2")
    assert second.attempt != started[0].attempt
    first_draw = (await d.store.attempt(started[0].attempt))["draw"]
    assert (await d.store.attempt(second.attempt))["draw"] != first_draw  # another draw
    await _play(d, clock, second.attempt, right=15)
    with pytest.raises(AttemptRefused) as caught:
        await d.start(person)
    assert caught.value.reason == "limit"
    # counts = "best": the second attempt is hers in the ranking
    ranked = rank_round(await d.results("w1"), Counts.BEST)
    assert [(r.result.person, r.result.correct) for r in ranked] == [(person, 15)]
    # next week: a new round, new attempts
    clock.ms = at(24, 8)
    third = await d.start(person)
    assert third.outcome == "started" and third.attempt.startswith("w2:") and third.attempt.endswith(":1")
    clock.ms = at(14, 8)  # before the contest opens (a clock far in the past)
    with pytest.raises(AttemptRefused) as closed:
        await d.start(person)
    assert closed.value.reason == "closed"


async def test_the_attempt_limit_closes_what_is_left(desk: tuple[ContestDesk, Clock]) -> None:
    d, clock = desk
    person, _, _ = await d.enter(ENTRY)
    aid = (await d.start(person)).attempt
    for _ in range(3):
        await _play_one(d, clock, aid)
    # the participant leaves; 10 minutes (the attempt's limit) and the grace pass
    clock.advance(601.6)
    step = await d.question(aid)
    assert isinstance(step, Step) and step.outcome == "done" and step.why == "time_up"
    assert step.correct == 3 and step.index == 20
    attempt = await d.store.attempt(aid)  # finished when it ran out, not when it was looked at
    assert step.finished_ms == int(attempt["fin"]) == int(attempt["t0"]) + 600_000
    assert await d.store.open_attempt(person) is None  # over: the round's second attempt can start
    assert (await d.start(person)).outcome == "started"
    with pytest.raises(AttemptRefused) as unknown:
        await d.start("p-nobody")
    assert unknown.value.reason == "unknown_person"


async def _play_one(d: ContestDesk, clock: Clock, aid: str) -> None:
    q = await d.question(aid)
    assert isinstance(q, Question)
    clock.advance(3)
    key = (await d.store.attempt(aid))["key"]
    assert (await d.answer(aid, q.index, int(key[q.index]))).correct


async def test_the_audit_re_derives_every_draw_and_score(desk: tuple[ContestDesk, Clock]) -> None:
    d, clock = desk
    people = [(await d.enter({**ENTRY, "phone": f"09{i:08d}", "full_name": f"Người {i}"}))[0] for i in range(3)]
    for i, person in enumerate(people):
        aid = (await d.start(person, prediction=10 + i)).attempt
        await _play(d, clock, aid, right=5 * (i + 1), think_s=1 + i)
    audit = await d.store.audit()
    starts = [e for e in audit if e["e"] == "start"]
    assert len(starts) == 3
    for e in starts:  # the draw is the secret's: anybody holding it re-derives the attempt
        expected = D.draw(CONTEST, BANK, D.seed(SECRET, CONTEST.id, e["r"], e["p"], int(e["n"])))
        assert e["draw"] == expected.pack()
    for e in [e for e in audit if e["e"] == "finish"]:
        start = next(s for s in starts if s["a"] == e["a"])
        key = D.unpack(start["draw"], BANK).key
        answers = [x for x in audit if x["e"] == "answer" and x["a"] == e["a"]]
        assert sum(int(x["o"]) == int(key[int(x["i"])]) for x in answers) == int(e["ok"])
        assert sum(int(x["ms"]) for x in answers) == int(e["tm"])
        delivered = {int(x["i"]): int(x["t"]) for x in audit if x["e"] == "deliver" and x["a"] == e["a"]}
        assert all(int(x["ms"]) == int(x["t"]) - delivered[int(x["i"])] for x in answers)
    ranked = rank_round(await d.results("w1"), Counts.BEST, actual=0)
    assert [r.result.correct for r in ranked] == [15, 10, 5]


async def test_verify_recomputes_everything_and_catches_tampering(desk: tuple[ContestDesk, Clock],
                                                                  fresh_redis: str) -> None:
    import redis.asyncio as aioredis

    from quiz_engine.contest.verify import verify

    d, clock = desk
    people = [(await d.enter({**ENTRY, "phone": f"09{i:08d}", "full_name": f"Người {i}"}))[0] for i in range(3)]
    for i, person in enumerate(people):
        aid = (await d.start(person, prediction=i)).attempt
        if i == 1:  # one runs out on the second question
            await _play_one(d, clock, aid)
            await d.question(aid)
            clock.advance(32)
        await _play(d, clock, aid, right=10 + i)
    running = (await d.start(people[0])).attempt  # and one still in progress
    await _play_one(d, clock, running)

    async def check() -> Any:
        return verify(CONTEST, BANK, SECRET, await d.store.audit(),
                      {r.id: await d.store.finished(r.id) for r in CONTEST.rounds})

    clean = await check()
    assert clean.ok, clean.diffs
    assert (clean.attempts, clean.finished) == (4, 3) and clean.notes == ["1 attempt(s) still in progress"]
    raw = aioredis.Redis.from_url(fresh_redis, decode_responses=True)
    try:
        keys = d.store.keys
        # a result raised by hand in Redis: caught against the audit
        first = (await d.results("w1"))[0]
        record = await raw.hget(keys.done("w1"), first.attempt)
        parts = record.split("|")
        parts[2] = "20"
        await raw.hset(keys.done("w1"), first.attempt, "|".join(parts))
        # another secret (someone re-derives with the wrong key): every draw is refused
        forged = verify(CONTEST, BANK, "other", await d.store.audit(), {"w1": await d.store.finished("w1")})
        assert sum("the draw is not the one" in x for x in forged.diffs) == 4
        tampered = await check()
        assert not tampered.ok and any(first.attempt in x and "stored result differs" in x for x in tampered.diffs)
        # an answer re-marked in the audit stream: its finish no longer adds up
        entries = await d.store.audit()
        answer = next(e for e in entries if e["e"] == "answer")
        fields = {k: v for k, v in answer.items() if k != "id"}
        fields["ok"] = "0" if fields["ok"] == "1" else "1"
        await raw.xadd(keys.audit, fields)  # a second answer to the same question, as if forged
        again = await check()
        assert any("answered twice" in x for x in again.diffs), again.diffs
    finally:
        await raw.aclose()
