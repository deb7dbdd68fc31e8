"""The online contest's Redis records and scripts (``lua/contest_*.lua`` on ``lua/contest_lib.lua``).

Made by :meth:`Store.contest`, so the client stays private to the store and every call goes
through the same translation to :class:`~quiz_engine.errors.RedisUnavailable`. All of one
contest's keys share the hash tag ``{contest}`` (one slot on Redis Cluster). Each state change
is one script; times are Redis's clock, or the ``clock`` injected (tests, the soak over
simulated weeks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from redis.commands.core import AsyncScript

from quiz_engine.store import scripts

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the contest's calendar (quiz_engine.contest.model.ZONE)

GRACE_MS = 1_500  # network slack after a limit: an answer sent in time is still taken


@dataclass(frozen=True)
class ContestKeys:
    contest: str

    def _k(self, name: str) -> str:
        return f"qc:{{{self.contest}}}:{name}"

    @property
    def people(self) -> str:
        """Hash: person id -> profile json (what they entered)."""
        return self._k("people")

    @property
    def idents(self) -> str:
        """Hash: identity key (unit|phone) and look-alike keys -> person id."""
        return self._k("idents")

    @property
    def lookalikes(self) -> str:
        """Hash: 'person|other' -> 'reason|ms': people the organiser should review."""
        return self._k("lookalikes")

    @property
    def open(self) -> str:
        """Hash: person id -> the attempt in progress."""
        return self._k("open")

    @property
    def audit(self) -> str:
        return self._k("audit")

    @property
    def days(self) -> str:
        """Hash: local day (yyyy-mm-dd) -> attempts started that day."""
        return self._k("days")

    def tries(self, round_id: str) -> str:
        """Hash: person id -> attempts started in the round."""
        return self._k(f"tries:{round_id}")

    def done(self, round_id: str) -> str:
        """Hash: attempt id -> the finished attempt's result (``Finished``)."""
        return self._k(f"done:{round_id}")

    def attempt(self, aid: str) -> str:
        return self._k(f"attempt:{aid}")


def attempt_id(round_id: str, person: str, n: int) -> str:
    """``w2:p8k2…:1``: ':' never occurs in a round or person id, so the round reads back."""
    return f"{round_id}:{person}:{n}"


def round_of(aid: str) -> str:
    return aid.split(":", 1)[0]


@dataclass(frozen=True)
class Entered:
    person: str
    new: bool
    lookalikes: tuple[tuple[str, str], ...]  # (other person, reason)


@dataclass(frozen=True)
class Started:
    outcome: str  # started | in_progress | limit | stale | closed
    attempt: str = ""
    started_ms: int = 0
    deadline_ms: int = 0
    tries: int = 0


@dataclass(frozen=True)
class Step:
    """Where an attempt stands: its current question (delivered), or its result."""

    outcome: str  # question | done | unknown
    index: int = 0
    delivered_ms: int = 0
    question_deadline_ms: int = 0  # this question's limit (or the attempt's, if sooner); 0: none
    attempt_deadline_ms: int = 0
    correct: int = 0
    time_ms: int = 0
    finished_ms: int = 0
    why: str = ""  # complete | time_up


@dataclass(frozen=True)
class Answered:
    outcome: str  # ok | refused | unknown
    index: int = 0
    correct: bool = False
    time_ms: int = 0
    next_index: int = 0
    finished: bool = False
    reason: str = ""  # refused: finished | answered | not_current | not_delivered | time_up


@dataclass(frozen=True)
class Finished:
    """One finished attempt as the done hash keeps it (the codec of ``done_encode`` in Lua)."""

    attempt: str
    person: str
    unit: str
    correct: int
    time_ms: int
    finished_ms: int
    prediction: int | None
    n: int

    @classmethod
    def decode(cls, aid: str, raw: str) -> Finished:
        person, unit, correct, time_ms, finished, prediction, n = raw.split("|")
        return cls(aid, person, unit, int(correct), int(time_ms), int(finished),
                   int(prediction) if prediction else None, int(n))


class ContestStore:
    """One contest's records; all calls from the event loop."""

    def __init__(self, client: Any, run: Callable[[Awaitable[Any]], Awaitable[Any]], contest: str,
                 clock: Callable[[], int] | None = None) -> None:
        self._r = client
        self._run = run
        self.keys = ContestKeys(contest)
        self.clock = clock
        self._scripts: dict[str, AsyncScript] = {n: client.register_script(scripts.source(n))
                                                 for n in scripts.CONTEST_NAMES}

    def _now(self) -> str:
        return "" if self.clock is None else str(self.clock())

    async def _eval(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._run(self._scripts[name](keys=list(keys), args=list(args)))

    async def now_ms(self) -> int:
        if self.clock is not None:
            return self.clock()
        sec, usec = await self._run(self._r.time())
        return int(sec) * 1000 + int(usec) // 1000

    # --- people ----------------------------------------------------------------------------
    async def enter(self, candidate: str, profile: dict[str, Any], identity: str,
                    lookalike_keys: Sequence[tuple[str, str]]) -> Entered:
        k = self.keys
        args: list[str] = [candidate, orjson.dumps(profile).decode(), identity, self._now()]
        for key, reason in lookalike_keys:
            args += [key, reason]
        reply = await self._eval("contest_enter", [k.people, k.idents, k.lookalikes, k.audit], args)
        found = tuple(tuple(x.split("|", 1)) for x in reply[2:])
        return Entered(str(reply[0]), reply[1] == 1, found)  # type: ignore[arg-type]

    async def person(self, pid: str) -> dict[str, Any] | None:
        raw = await self._run(self._r.hget(self.keys.people, pid))
        return orjson.loads(raw) if raw else None

    async def people(self) -> dict[str, dict[str, Any]]:
        raw = await self._run(self._r.hgetall(self.keys.people))
        return {pid: orjson.loads(v) for pid, v in raw.items()}

    async def lookalikes(self) -> list[tuple[str, str, str, int]]:
        """(person, other, reason, ms) for the organiser's review list."""
        raw = await self._run(self._r.hgetall(self.keys.lookalikes))
        out = []
        for pair, value in raw.items():
            a, b = pair.split("|", 1)
            reason, ms = value.rsplit("|", 1)
            out.append((a, b, reason, int(ms)))
        return sorted(out, key=lambda x: x[3])

    # --- attempts --------------------------------------------------------------------------
    async def tries(self, round_id: str, pid: str) -> int:
        return int(await self._run(self._r.hget(self.keys.tries(round_id), pid)) or 0)

    async def open_attempt(self, pid: str) -> str | None:
        raw = await self._run(self._r.hget(self.keys.open, pid))
        return str(raw) if raw else None

    async def start(self, pid: str, round_id: str, n: int, limit: int, draw: str, key: str, per_question_ms: int,
                    per_attempt_ms: int, round_opens_ms: int, round_closes_ms: int, unit: str,
                    prediction: int | None) -> Started:
        k = self.keys
        aid = attempt_id(round_id, pid, n)
        now = self._now()
        day = dt.datetime.fromtimestamp((int(now) if now else await self.now_ms()) / 1000, ZONE).date().isoformat()
        reply = await self._eval("contest_start", [k.open, k.tries(round_id), k.attempt(aid), k.audit, k.days], [
            pid, aid, round_id, limit, n, draw, key, per_question_ms, per_attempt_ms, round_opens_ms,
            round_closes_ms, unit, "" if prediction is None else prediction, now, day])
        outcome = str(reply[0])
        if outcome == "started":
            return Started(outcome, str(reply[1]), int(reply[2]), int(reply[3]), n)
        if outcome == "in_progress":
            return Started(outcome, str(reply[1]))
        return Started(outcome, tries=int(reply[1]) if outcome in ("limit", "stale") else 0)

    def _attempt_keys(self, aid: str) -> list[str]:
        k = self.keys
        return [k.attempt(aid), k.open, k.done(round_of(aid)), k.audit]

    async def step(self, aid: str, grace_ms: int = GRACE_MS) -> Step:
        reply = await self._eval("contest_step", self._attempt_keys(aid), [aid, self._now(), grace_ms])
        return _step(reply)

    async def answer(self, aid: str, index: int, option: int, grace_ms: int = GRACE_MS) -> Answered:
        reply = await self._eval("contest_answer", self._attempt_keys(aid), [aid, index, option, self._now(), grace_ms])
        outcome = str(reply[0])
        if outcome == "ok":
            return Answered("ok", int(reply[1]), reply[2] == 1, int(reply[3]), int(reply[4]), reply[5] == 1)
        if outcome == "refused":
            return Answered("refused", next_index=int(reply[2]), reason=str(reply[1]))
        if outcome == "done":
            return Answered("refused", reason="finished")
        return Answered("unknown")

    async def attempt(self, aid: str) -> dict[str, str]:
        return dict(await self._run(self._r.hgetall(self.keys.attempt(aid))))

    async def finished(self, round_id: str) -> list[Finished]:
        raw = await self._run(self._r.hgetall(self.keys.done(round_id)))
        return [Finished.decode(aid, v) for aid, v in raw.items()]

    async def counts(self) -> dict[str, Any]:
        """For the organiser's page: people entered, attempts in progress, attempts started per day."""
        k = self.keys
        people, running, days = await self._run(self._pipeline_counts(k))
        return {"people": int(people), "in_progress": int(running), "days": {d: int(n) for d, n in days.items()}}

    def _pipeline_counts(self, k: ContestKeys) -> Awaitable[list[Any]]:
        pipe = self._r.pipeline(transaction=False)
        pipe.hlen(k.people)
        pipe.hlen(k.open)
        pipe.hgetall(k.days)
        return pipe.execute()  # type: ignore[no-any-return]

    async def version(self, round_id: str) -> tuple[int, ...]:
        """What changes whenever the organiser's overview would: people, attempts in progress and
        finished in the round, look-alikes, audit length (one round trip)."""
        k = self.keys
        pipe = self._r.pipeline(transaction=False)
        for key in (k.people, k.open, k.done(round_id), k.lookalikes):
            pipe.hlen(key)
        pipe.xlen(k.audit)
        return tuple(int(x) for x in await self._run(pipe.execute()))

    async def audit(self) -> list[dict[str, str]]:
        entries = await self._run(self._r.xrange(self.keys.audit))
        return [dict(fields, id=eid) for eid, fields in entries]


def _step(reply: list[Any]) -> Step:
    outcome = str(reply[0])
    if outcome == "question":
        return Step(outcome, int(reply[1]), int(reply[2]), int(reply[3]), int(reply[4]))
    if outcome == "done":
        return Step(outcome, index=int(reply[1]), correct=int(reply[2]), time_ms=int(reply[3]),
                    finished_ms=int(reply[4] or 0), why=str(reply[5] or ""))
    return Step("unknown")
