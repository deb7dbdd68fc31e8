"""The ranking rules (DESIGN.md): question winners and episode standings."""

from quiz_engine.game.standings import (
    ORDER_BASE,
    CorrectAnswer,
    PlayerScore,
    question_winners,
    rank_standings,
    scores_from_answers,
)


def ca(player: str, us: int, seq: int) -> CorrectAnswer:
    return CorrectAnswer(player, us, seq)


def test_fastest_wins_and_ties_on_time_go_to_earlier_arrival() -> None:
    q = [ca("late", 900, 1), ca("b", 500, 3), ca("a", 500, 2), ca("slow", 2000, 4)]
    [winners] = question_winners([q], reserves=3)
    assert [w.player for w in winners] == ["a", "b", "late", "slow"]


def test_disqualified_winner_passes_prize_to_next() -> None:
    q = [ca("a", 100, 1), ca("b", 200, 2), ca("c", 300, 3)]
    [winners] = question_winners([q], disqualified={"a"}, reserves=1)
    assert [w.player for w in winners] == ["b", "c"]


def test_one_prize_per_person() -> None:
    q1 = [ca("a", 100, 1), ca("b", 200, 2)]
    q2 = [ca("a", 50, 1), ca("b", 300, 2), ca("c", 400, 3)]
    off = question_winners([q1, q2])
    on = question_winners([q1, q2], one_prize_per_person=True)
    assert [w[0].player for w in off] == ["a", "a"]
    assert [w[0].player for w in on] == ["a", "b"]


def test_voided_question_has_no_winner() -> None:
    assert question_winners([[ca("a", 1, 1)]], voided={0}) == [[]]


def test_nobody_correct() -> None:
    assert question_winners([[]]) == [[]]


def test_standings_rule_correct_then_time_then_earliest_final() -> None:
    scores = [
        PlayerScore("few", 1, 100, 0 * ORDER_BASE + 1),
        PlayerScore("slow", 3, 9000, 2 * ORDER_BASE + 9),
        PlayerScore("fast", 3, 3000, 2 * ORDER_BASE + 5),
        PlayerScore("tie-late", 2, 4000, 1 * ORDER_BASE + 8),
        PlayerScore("tie-early", 2, 4000, 1 * ORDER_BASE + 2),
        PlayerScore("zero", 0, 0, 0),
    ]
    ranked = rank_standings(scores)
    assert [s.score.player for s in ranked] == ["fast", "slow", "tie-early", "tie-late", "few"]
    assert [s.rank for s in ranked] == [1, 2, 3, 4, 5]


def test_standings_skip_disqualified() -> None:
    ranked = rank_standings([PlayerScore("a", 2, 1, 1), PlayerScore("b", 1, 1, 1)], disqualified={"a"})
    assert [(s.rank, s.score.player) for s in ranked] == [(1, "b")]


def test_scores_from_answers_matches_rule_inputs() -> None:
    q0 = [ca("a", 100, 1), ca("b", 200, 2)]
    q1 = [ca("b", 50, 1)]
    q2 = [ca("a", 10, 7)]
    totals = scores_from_answers([q0, q1, q2], voided={2})
    assert totals["a"] == PlayerScore("a", 1, 100, 1)
    assert totals["b"] == PlayerScore("b", 2, 250, 1 * ORDER_BASE + 1)
