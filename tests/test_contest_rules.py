"""The online contest's pure rules (issue 14): each attempt's draw, and the ranking of people and units."""

from __future__ import annotations

from collections import Counter

from quiz_engine.contest.draw import draw, seed, unpack
from quiz_engine.contest.loader import load_contest
from quiz_engine.contest.model import Counts
from quiz_engine.contest.ranking import (
    NO_PREDICTION,
    Result,
    by_average,
    by_participation,
    counted,
    perfect_entries,
    rank_overall,
    rank_round,
    unit_lines,
)
from quiz_engine.contest.roster import Unit
from quiz_engine.library import BankLibrary
from tests.conftest import ROOT

LIB = BankLibrary([ROOT / "question_banks"])
CONTEST = load_contest(ROOT / "question_banks" / "cchc-online-2026.contest.toml", LIB.bank)
BANK = LIB.bank(CONTEST.bank)


def test_a_draw_takes_so_many_per_pool_shuffles_options_and_re_derives() -> None:
    s = seed("secret", CONTEST.id, "w1", "p1", 1)
    d = draw(CONTEST, BANK, s)
    assert len(d.items) == 20 and len({i.question for i in d.items}) == 20
    per_pool = Counter(next(p.id for p in CONTEST.pools if i.question in p.question_ids) for i in d.items)
    assert per_pool == {p.id: 5 for p in CONTEST.pools}
    for item in d.items:
        question = BANK.question(item.question)
        assert sorted(item.order) == list(range(len(question.options)))
        assert item.bank_option(item.answer) == question.answer  # the shown place of the right option
    assert draw(CONTEST, BANK, s) == d  # the same inputs, the same attempt
    assert unpack(d.pack(), BANK) == d and len(d.key) == 20
    others = {draw(CONTEST, BANK, seed("secret", CONTEST.id, "w1", "p1", n)).pack() for n in range(2, 12)}
    assert d.pack() not in others and len(others) == 10  # a second attempt is another draw
    assert draw(CONTEST, BANK, seed("other secret", CONTEST.id, "w1", "p1", 1)) != d
    # over many attempts every question and every place of the right option turns up
    seen_q: Counter[str] = Counter()
    places: Counter[int] = Counter()
    for n in range(200):
        for item in draw(CONTEST, BANK, seed("s", CONTEST.id, "w2", f"p{n}", 1)).items:
            seen_q[item.question] += 1
            places[item.answer] += 1
    assert len(seen_q) == 40 and min(seen_q.values()) > 50
    assert set(places) == {0, 1, 2, 3} and min(places.values()) > 700


def _r(person: str, correct: int, time_ms: int, finished: int, prediction: int | None = None, attempt: str = "",
       unit: str = "") -> Result:
    return Result(person, attempt or f"{person}-{finished}", correct, time_ms, finished, prediction, unit)


def test_the_round_ranking_rule() -> None:
    results = [
        _r("an", 18, 300_000, 5),
        _r("binh", 19, 400_000, 6),
        _r("chi", 18, 250_000, 7),  # as many right as An, faster (no prediction)
        _r("dung", 18, 250_000, 8, prediction=40),  # ties Chi on both: the prediction decides
        _r("em", 18, 250_000, 9, prediction=55),
        _r("giang", 18, 250_000, 3),  # no prediction: after every prediction, even finishing first
        _r("hoa", 18, 250_000, 4, prediction=46),  # as close as Dung (|46-43| vs |40-43|): earlier finish wins
    ]
    ranked = rank_round(results, Counts.BEST, actual=43)
    assert [r.result.person for r in ranked] == ["binh", "hoa", "dung", "em", "giang", "chi", "an"]
    assert [r.rank for r in ranked] == list(range(1, 8))
    assert ranked[1].distance == 3 and ranked[4].distance == NO_PREDICTION


def test_best_or_first_attempt_counts() -> None:
    attempts = [_r("an", 15, 200_000, 10, attempt="a1"), _r("an", 19, 500_000, 20, attempt="a2"),
                _r("an", 19, 400_000, 30, attempt="a3")]
    assert counted(attempts, Counts.BEST)["an"].attempt == "a3"  # most right, then faster
    assert counted(attempts, Counts.FIRST)["an"].attempt == "a1"
    overall = rank_overall([(attempts, None), ([_r("an", 10, 100_000, 40), _r("binh", 20, 900_000, 41)], None)],
                           Counts.BEST)
    assert [(o.person, o.correct, o.time_ms, o.rounds) for o in overall] == [("an", 29, 500_000, 2),
                                                                           ("binh", 20, 900_000, 1)]
    assert perfect_entries(attempts, 19) == 2


def test_units_by_participation_and_average() -> None:
    units = [Unit("a", "Phường 1", "TP", 10), Unit("b", "Phường 2", "TP", 4), Unit("c", "Xã 3", "H", 2),
             Unit("d", "Xã 4", "H", 50)]
    results = [_r("p1", 10, 1, 1, unit="a"), _r("p2", 20, 1, 1, unit="a"), _r("p3", 15, 1, 1, unit="b"),
               _r("p4", 12, 1, 1, unit="b"), _r("p5", 8, 1, 1, unit="c"), _r("p6", 9, 1, 1, unit="c"),
               _r("p7", 9, 1, 1, unit="c"), _r("p1", 5, 1, 2, unit="a")]  # p1's worse second attempt
    lines = unit_lines(units, results, Counts.BEST, threshold=0.3)
    rate = {line.unit.code: (line.participants, round(line.rate, 2), line.under, line.over) for line in lines}
    assert rate == {"a": (2, 0.2, True, False), "b": (2, 0.5, False, False), "c": (3, 1.5, False, True),
                    "d": (0, 0.0, True, False)}
    assert [x.unit.code for x in by_participation(lines)] == ["c", "b", "a", "d"]
    assert [x.unit.code for x in by_average(lines)] == ["a", "b", "c", "d"]  # 15, 13.5, 8.67, 0


def test_the_weekly_report_tie_breaks_by_prediction_once_closed_and_sums_the_rounds() -> None:
    import datetime as dt

    from quiz_engine.contest import report

    w1, w2 = CONTEST.rounds[0], CONTEST.rounds[1]
    units = [Unit("a", "Phường 1", "TP", 4), Unit("b", "Xã 2", "H", 10)]
    from quiz_engine.contest.roster import Roster

    roster = Roster(tuple(units))
    people = {"p1": {"full_name": "An", "unit": "a", "phone": "0901"}, "p2": {"full_name": "Bình", "unit": "b",
                                                                          "phone": "0902"}}
    # p1 and p2 tie on score and time in w1; one entry had everything right, so the real count is 1:
    # p2 predicted 1, p1 predicted 9
    results = {w1.id: [_r("p1", 20, 300_000, 10, prediction=9, unit="a"),
                       _r("p2", 20, 300_000, 11, prediction=1, unit="b")],
               w2.id: [_r("p1", 15, 100_000, 20, unit="a")]}
    during = report.weekly(CONTEST, roster, results, people, w1.id, made=w1.closes - dt.timedelta(hours=1))
    assert [x.name for x in during.winners] == ["An", "Bình"]  # before the close: no tie-break, earlier first
    after = report.weekly(CONTEST, roster, results, people, w1.id, made=w1.closes + dt.timedelta(hours=1))
    assert [x.name for x in after.winners] == ["Bình", "An"]  # |1 − 1| beats |9 − 1|
    second = report.weekly(CONTEST, roster, results, people, w2.id, made=w2.closes + dt.timedelta(hours=1))
    assert [(x.name, x.correct) for x in second.standings] == [("An", 35), ("Bình", 20)]
    assert [u.change for u in second.units if u.code == "a"] == [0.0]  # 1 of 4 both weeks
    assert [(u.code, u.average) for u in after.units] == [("b", 20.0), ("a", 20.0)]
    sheets = report.tables(second)
    assert "Đơn vị có điểm trung bình cao nhất" in report.html(after)
    assert [t.name for t in sheets] == ["Tỷ lệ tham gia", "Người đạt kết quả cao", "Xếp hạng chung"]
    assert "Xếp hạng chung cuộc" in report.html(second)
