"""The online contest over its four weeks, on a real Redis with the clock injected (issue 14).

Simulated days, not waited for: every day people of every unit enter (some twice, from another
phone), start attempts at random hours (some at 23:59 on a Sunday, across the round's end),
answer with human think times, let questions run out, abandon attempts, try a third attempt.
At the end: each round's limit held for everyone, nobody ever had two attempts at once, every
round's ranking is total and reproducible, the units' participation adds up, and ``verify``
re-derives every draw, answer and score from the audit alone.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

from quiz_engine.contest.desk import ContestDesk, Question
from quiz_engine.contest.loader import load_contest
from quiz_engine.contest.model import ZONE
from quiz_engine.contest.ranking import counted, rank_round, unit_lines
from quiz_engine.contest.roster import Roster, Unit
from quiz_engine.contest.verify import verify
from quiz_engine.errors import AttemptRefused
from quiz_engine.library import BankLibrary
from quiz_engine.store.redis_store import Store
from tests.conftest import ROOT

LIB = BankLibrary([ROOT / "question_banks"])
CONTEST = load_contest(ROOT / "question_banks" / "cchc-online-2026.contest.toml", LIB.bank)
BANK = LIB.bank(CONTEST.bank)
ROSTER = Roster(tuple(Unit(f"u{i:02d}", f"Đơn vị {i}", f"Huyện {i % 4}", 12 + i) for i in range(12)))
SECRET = "soak-secret"
PEOPLE = 60


class Clock:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


async def test_four_simulated_weeks(fresh_redis: str) -> None:
    rng = random.Random(20261203)
    store = Store.from_url(fresh_redis)
    clock = Clock(int(CONTEST.opens.timestamp() * 1000))
    desk = ContestDesk(CONTEST, BANK, ROSTER, store.contest(CONTEST.id, clock), SECRET)
    people: list[tuple[str, dict[str, str]]] = []
    for i in range(PEOPLE):
        entry = {"full_name": f"Người dự thi {i}", "unit": f"u{i % 12:02d}", "phone": f"09{i:08d}",
                 "position": "Chuyên viên"}
        pid, _, new = await desk.enter(entry)
        assert new
        again, _, new_again = await desk.enter({**entry, "phone": f"+84 9{i:08d}"})  # another phone format
        assert again == pid and not new_again
        people.append((pid, entry))
    refused: Counter[str] = Counter()
    started_by_round: dict[str, Counter[str]] = defaultdict(Counter)
    day = CONTEST.opens.astimezone(ZONE).date()
    last = CONTEST.closes.astimezone(ZONE).date()
    try:
        while day <= last:
            for pid, _ in rng.sample(people, k=PEOPLE // 3):
                hour = rng.choice([8, 9, 10, 14, 15, 16, 21, 23])
                minute = 59 if hour == 23 else rng.randrange(60)
                clock.ms = int(dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE).timestamp() * 1000)
                try:
                    started = await desk.start(pid, prediction=rng.randrange(50))
                except AttemptRefused as exc:
                    refused[exc.reason] += 1
                    if exc.reason == "in_progress":  # yesterday's attempt: look at it, it is over by now
                        step = await desk.question(exc.attempt)
                        assert not isinstance(step, Question) or clock.ms - step.delivered_ms < 30_000
                    continue
                started_by_round[started.attempt.split(":")[0]][pid] += 1
                style = rng.random()
                while True:
                    q = await desk.question(started.attempt)
                    if not isinstance(q, Question):
                        break
                    if style < 0.05:  # walks away: the attempt runs out on its own later
                        break
                    clock.ms += rng.randrange(2_000, 28_000) if style > 0.15 else 33_000  # some let time run out
                    await desk.answer(started.attempt, q.index, rng.randrange(4))
            day += dt.timedelta(days=1)
        clock.ms = int(CONTEST.closes.timestamp() * 1000) + 3_600_000
        c = desk.store
        assert refused["limit"] > 0 and refused["closed"] > 0  # both happened, and were refused
        for round_id, starts in started_by_round.items():
            assert max(starts.values()) <= CONTEST.attempts_per_round, round_id
            for pid, n in starts.items():
                assert await c.tries(round_id, pid) == n
        # after the closing, whatever was left open is closed as it is looked at
        for pid, _ in people:
            left = await c.open_attempt(pid)
            if left:
                assert not isinstance(await desk.question(left), Question)
        audit = await c.audit()
        stored = {r.id: await c.finished(r.id) for r in CONTEST.rounds}
        result = verify(CONTEST, BANK, SECRET, audit, stored)
        assert result.ok, result.diffs[:5]
        assert result.finished == sum(len(v) for v in stored.values()) == result.attempts
        for r in CONTEST.rounds:
            results = await desk.results(r.id)
            if not results:
                continue
            ranked = rank_round(results, CONTEST.counts, actual=3)
            assert [x.rank for x in ranked] == list(range(1, len(ranked) + 1))
            assert len(ranked) == len(counted(results, CONTEST.counts)) == len({x.person for x in results})
            assert rank_round(list(reversed(results)), CONTEST.counts, actual=3) == ranked  # order of reading
            lines = unit_lines(ROSTER.units, results, CONTEST.counts, CONTEST.participation_threshold)
            assert sum(x.participants for x in lines) == len(ranked)
            assert all(x.finished_ms < r.closes.timestamp() * 1000 + 700_000 for x in results)
    finally:
        await store.close()
