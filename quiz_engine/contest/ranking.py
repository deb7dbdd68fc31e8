"""The online contest's ranking rules: one named rule for people, two for units. Pure.

**People, per round and overall** (docs/contest.md, "Ranking"): more correct answers first;
then less total time (the sum of the per-question response times, each timed by the server
from that question's delivery to that participant); then the prediction closest to the
round's real count (no prediction ranks after every prediction); then the earlier finish;
last the person id, so the order is total and the same on every run.

A person's result in a round is one attempt: the best by the same rule (``counts = "best"``)
or the first finished (``counts = "first"``). Overall, a person's rounds add up: correct
answers and times summed, the prediction distance summed over the rounds they predicted in.

**Units**: by participation rate (people with a finished attempt ÷ headcount), then more
participants, then the unit's name; and by average score of their participants, then rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from quiz_engine.contest.model import Counts
from quiz_engine.contest.roster import Unit

NO_PREDICTION = 1 << 62  # ranks after any real distance


@dataclass(frozen=True)
class Result:
    """One finished attempt, as the ranking sees it."""

    person: str
    attempt: str
    correct: int
    time_ms: int  # sum of the response times
    finished_ms: int  # when it was submitted (epoch ms)
    prediction: int | None = None
    unit: str = ""

    def distance(self, actual: int | None) -> int:
        if self.prediction is None or actual is None:
            return NO_PREDICTION if self.prediction is None else 0
        return abs(self.prediction - actual)


def attempt_key(r: Result) -> tuple[int, int, int, str]:
    """Which of one person's attempts is their best (the prediction is not known to be good or
    bad until the round closes, so it does not choose between a person's own attempts)."""
    return (-r.correct, r.time_ms, r.finished_ms, r.attempt)


def counted(results: Iterable[Result], counts: Counts) -> dict[str, Result]:
    """Each person's counted attempt of a round."""
    out: dict[str, Result] = {}
    for r in results:
        held = out.get(r.person)
        if held is None:
            out[r.person] = r
        elif counts is Counts.FIRST:
            if (r.finished_ms, r.attempt) < (held.finished_ms, held.attempt):
                out[r.person] = r
        elif attempt_key(r) < attempt_key(held):
            out[r.person] = r
    return out


@dataclass(frozen=True)
class Ranked:
    rank: int
    result: Result
    distance: int  # |prediction − actual| (NO_PREDICTION when none)


def rank_round(results: Iterable[Result], counts: Counts, actual: int | None = None) -> list[Ranked]:
    """The round's ranking: one line per person (their counted attempt), rank 1 first."""
    people = counted(results, counts).values()
    lines = sorted(people, key=lambda r: (-r.correct, r.time_ms, r.distance(actual), r.finished_ms, r.person))
    return [Ranked(i, r, r.distance(actual)) for i, r in enumerate(lines, start=1)]


def perfect_entries(results: Iterable[Result], questions: int) -> int:
    """What a prediction guesses by default: finished attempts of the round with every question right."""
    return sum(1 for r in results if r.correct >= questions)


@dataclass(frozen=True)
class Overall:
    rank: int
    person: str
    correct: int
    time_ms: int
    distance: int
    finished_ms: int  # the last counted round's submission
    rounds: int


def rank_overall(rounds: Sequence[tuple[Sequence[Result], int | None]], counts: Counts) -> list[Overall]:
    """The whole contest: each round's counted result per person, summed (``rounds``: each round's
    finished attempts and its real count for the prediction)."""
    acc: dict[str, list[int]] = {}
    for results, actual in rounds:
        for person, r in counted(results, counts).items():
            a = acc.setdefault(person, [0, 0, 0, 0, 0])
            d = r.distance(actual)
            a[0] += r.correct
            a[1] += r.time_ms
            a[2] += d if d != NO_PREDICTION else 0
            a[3] = max(a[3], r.finished_ms)
            a[4] += 1
    lines = sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[1][1], kv[1][2], kv[1][3], kv[0]))
    return [Overall(i, p, a[0], a[1], a[2], a[3], a[4]) for i, (p, a) in enumerate(lines, start=1)]


@dataclass(frozen=True)
class UnitLine:
    unit: Unit
    participants: int
    rate: float  # participants ÷ headcount (over 1 when the roster's headcount is too low: flagged)
    average: float  # mean counted score of its participants (0 with none)
    under: bool  # under the contest's participation threshold
    over: bool  # more participants than the headcount: the roster needs checking


def unit_lines(units: Sequence[Unit], results: Iterable[Result], counts: Counts, threshold: float) -> list[UnitLine]:
    """Each unit's participation and average score in a round (every unit, none left out)."""
    scores: dict[str, list[int]] = {}
    for r in counted(results, counts).values():
        scores.setdefault(r.unit, []).append(r.correct)
    out = []
    for u in units:
        mine = scores.get(u.code, [])
        rate = len(mine) / u.headcount
        out.append(UnitLine(u, len(mine), rate, sum(mine) / len(mine) if mine else 0.0,
                            under=rate < threshold, over=len(mine) > u.headcount))
    return out


def by_participation(lines: Iterable[UnitLine]) -> list[UnitLine]:
    return sorted(lines, key=lambda x: (-x.rate, -x.participants, x.unit.name, x.unit.parent))


def by_average(lines: Iterable[UnitLine]) -> list[UnitLine]:
    return sorted(lines, key=lambda x: (-x.average, -x.rate, x.unit.name, x.unit.parent))
