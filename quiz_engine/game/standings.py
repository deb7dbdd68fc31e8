"""Who won: the fastest correct responder of each question and the episode standings.

These functions are the one statement of the ranking rules (DESIGN.md, "Fairness model").
The server, the exports and ``verify`` all call them, so the standings the host sees and
the ones exported cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ORDER_BASE = 10_000_000  # arrival order key = question index * ORDER_BASE + arrival seq


@dataclass(frozen=True)
class CorrectAnswer:
    """One correct answer to one question, as ordered by the answer script."""

    player: str
    response_us: int
    seq: int  # Redis arrival counter for this question


@dataclass(frozen=True)
class PlayerScore:
    """A player's running totals in an episode (kept by the answer script)."""

    player: str
    correct: int
    total_us: int  # sum of response times of correct answers
    last_order: int  # arrival key of the final correct answer (question * ORDER_BASE + seq)


@dataclass(frozen=True)
class Standing:
    rank: int
    score: PlayerScore


def answer_order_key(answer: CorrectAnswer) -> tuple[int, int]:
    """Correct answers rank by response time, then Redis arrival order."""
    return (answer.response_us, answer.seq)


def standings_key(score: PlayerScore) -> tuple[int, int, int]:
    """Episode rule: most correct, then least total response time, then earliest final correct answer."""
    return (-score.correct, score.total_us, score.last_order)


def rank_standings(scores: Iterable[PlayerScore], disqualified: Iterable[str] = ()) -> list[Standing]:
    """Rank players by :func:`standings_key`; disqualified players are left out.

    Ranks are dense positions 1..N: the rule always breaks ties (arrival order is a total
    order), so two players never share a rank.
    """
    out = set(disqualified)
    eligible = sorted((s for s in scores if s.player not in out and s.correct > 0), key=standings_key)
    return [Standing(rank=i + 1, score=s) for i, s in enumerate(eligible)]


def question_winners(
    correct_by_question: Sequence[Sequence[CorrectAnswer]],
    disqualified: Iterable[str] = (),
    one_prize_per_person: bool = False,
    voided: Iterable[int] = (),
    reserves: int = 0,
) -> list[list[CorrectAnswer]]:
    """Per question: the winner followed by up to ``reserves`` next in order.

    An empty list means nobody eligible answered correctly (or the question was voided).
    With ``one_prize_per_person`` a player who already won an earlier question's prize is
    passed over and the prize goes to the next fastest correct responder.
    """
    out = set(disqualified)
    void = set(voided)
    already_won: set[str] = set()
    result: list[list[CorrectAnswer]] = []
    for index, answers in enumerate(correct_by_question):
        if index in void:
            result.append([])
            continue
        ordered = sorted(answers, key=answer_order_key)
        picked: list[CorrectAnswer] = []
        for answer in ordered:
            if answer.player in out:
                continue
            if one_prize_per_person and answer.player in already_won:
                continue
            picked.append(answer)
            if len(picked) > reserves:
                break
        if picked:
            already_won.add(picked[0].player)
        result.append(picked)
    return result


def scores_from_answers(
    correct_by_question: Sequence[Sequence[CorrectAnswer]], voided: Iterable[int] = ()
) -> dict[str, PlayerScore]:
    """Episode totals recomputed from per-question correct answers (used by verify)."""
    void = set(voided)
    totals: dict[str, PlayerScore] = {}
    for index, answers in enumerate(correct_by_question):
        if index in void:
            continue
        for a in answers:
            prev = totals.get(a.player)
            order = index * ORDER_BASE + a.seq
            if prev is None:
                totals[a.player] = PlayerScore(a.player, 1, a.response_us, order)
            else:
                totals[a.player] = PlayerScore(
                    a.player, prev.correct + 1, prev.total_us + a.response_us, max(prev.last_order, order)
                )
    return totals

