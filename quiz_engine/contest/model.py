"""The online contest (issue 14): a self-paced contest open for weeks, on the live show's banks.

Pure data, like :mod:`quiz_engine.banks.model`: validation lives in
:mod:`quiz_engine.contest.loader` (the contest file) and :mod:`quiz_engine.contest.roster` (the
unit roster); objects built here are assumed valid. Times are aware datetimes in the contest's
zone (Asia/Ho_Chi_Minh: the seeds' "07 giờ 30 phút, thứ Hai, ngày 18 tháng 11" is local time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

#: what a participant may be asked at entry; ``full_name`` and ``unit`` always are
ENTRY_FIELDS = ("full_name", "unit", "phone", "staff_id", "email", "position")
ALWAYS_REQUIRED = ("full_name", "unit")
DEFAULT_REQUIRED = ("full_name", "unit", "phone")
#: the fields that can say who a person is within a unit (the attempts limit counts per identity)
IDENTITY_FIELDS = ("phone", "staff_id", "email")

MIN_QUESTION_SECONDS = 5
MAX_QUESTION_SECONDS = 600
MIN_ATTEMPT_SECONDS = 30
MAX_ATTEMPT_SECONDS = 4 * 3600
MAX_QUESTIONS_PER_ATTEMPT = 200
MAX_ATTEMPTS_PER_ROUND = 100
MAX_ROUNDS = 120


class Counts(StrEnum):
    """Which of a person's attempts in a round is their result."""

    BEST = "best"  # the best by the ranking rule
    FIRST = "first"  # the first one finished


class Reveal(StrEnum):
    """When a participant sees the correct answers of an attempt."""

    AFTER_ATTEMPT = "after_attempt"
    AFTER_ROUND = "after_round"  # not before the round closes: nobody can pass them on meanwhile
    NEVER = "never"


@dataclass(frozen=True)
class Pool:
    """Questions an attempt draws ``draw`` from (e.g. one topic of the bank)."""

    id: str
    title: str
    question_ids: tuple[str, ...]
    draw: int


@dataclass(frozen=True)
class Round:
    """One ranking period (e.g. a week): [opens, closes)."""

    id: str
    title: str
    opens: dt.datetime
    closes: dt.datetime

    def holds(self, when: dt.datetime) -> bool:
        return self.opens <= when < self.closes


@dataclass(frozen=True)
class Prediction:
    """The tie-break question: a whole number the participant guesses at the end of an attempt,
    compared with the round's real count (``answer``: what is counted)."""

    text: str
    answer: str = "perfect_entries"  # entries of the round with every question right
    max_value: int = 10_000_000


@dataclass(frozen=True)
class Contest:
    id: str
    title: str
    bank: str
    opens: dt.datetime
    closes: dt.datetime
    rounds: tuple[Round, ...]
    pools: tuple[Pool, ...]
    attempts_per_round: int = 1
    counts: Counts = Counts.BEST
    time_per_question: int | None = 30  # seconds, from the question's delivery to that participant
    time_per_attempt: int | None = None  # seconds, from the attempt's start
    required: tuple[str, ...] = DEFAULT_REQUIRED
    identity: tuple[str, ...] = ("phone",)
    reveal: Reveal = Reveal.AFTER_ROUND
    prediction: Prediction | None = None
    participation_threshold: float = 0.0  # units under this rate are flagged in the reports
    language: str = "vi"
    _rounds_by_id: dict[str, Round] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rounds_by_id", {r.id: r for r in self.rounds})

    @property
    def questions_per_attempt(self) -> int:
        return sum(p.draw for p in self.pools)

    def round_at(self, when: dt.datetime) -> Round | None:
        """The round open at ``when`` (None before the opening, after the closing, or between rounds)."""
        return next((r for r in self.rounds if r.holds(when)), None)

    def round(self, round_id: str) -> Round | None:
        return self._rounds_by_id.get(round_id)

    def to_dict(self) -> dict[str, Any]:
        """What the participant's page is told of the contest (nothing of the questions)."""
        return {
            "id": self.id, "title": self.title, "opens": self.opens.isoformat(), "closes": self.closes.isoformat(),
            "rounds": [{"id": r.id, "title": r.title, "opens": r.opens.isoformat(), "closes": r.closes.isoformat()}
                       for r in self.rounds],
            "questions": self.questions_per_attempt, "attempts_per_round": self.attempts_per_round,
            "counts": self.counts.value, "time_per_question": self.time_per_question,
            "time_per_attempt": self.time_per_attempt, "required": list(self.required),
            "reveal": self.reveal.value, "prediction": self.prediction.text if self.prediction else None,
        }


def weekly_rounds(opens: dt.datetime, closes: dt.datetime, title: str = "Tuần {n}") -> tuple[Round, ...]:
    """Calendar weeks (Monday 00:00 to Monday 00:00, local time), the first starting at the opening
    and the last cut at the closing: the weeks the units report their participation for."""
    rounds: list[Round] = []
    start = opens.astimezone(ZONE)
    end_local = closes.astimezone(ZONE)
    n = 1
    while start < end_local:
        monday = dt.datetime.combine(start.date() - dt.timedelta(days=start.weekday()), dt.time(), ZONE)
        end = min(end_local, monday + dt.timedelta(days=7))
        rounds.append(Round(f"w{n}", title.format(n=n), start, end))
        start, n = end, n + 1
    return tuple(rounds)
