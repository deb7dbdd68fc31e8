"""The record codecs: Python (store/records.py) and Lua (store/lua/prelude.lua) agree.

Each record is encoded in Python and decoded by the prelude on the real Redis (EVAL of a
tiny script), re-encoded there and decoded in Python again; the generated parts of the
prelude (constants, phase table) are read back from Lua too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis

from quiz_engine.game.phases import MACHINE, Guard
from quiz_engine.game.standings import ORDER_BASE, CorrectAnswer, PlayerScore, rank_standings, scores_from_answers
from quiz_engine.store import scripts
from quiz_engine.store.records import (
    MEMBER_WIDTH,
    STANDING_CAP,
    STANDING_SPAN,
    AnswerRecord,
    DeliveryRecord,
    QuestionSpec,
    correct_score,
    decode_correct,
    decode_score,
    decode_standing,
    encode_score,
    order_key,
    standing_entry,
)


@pytest.fixture(scope="module")
def lua(redis_url: str) -> Iterator[Any]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    def run(body: str, *args: Any) -> Any:
        return client.eval(f"{scripts.prelude()}\n{body}", 0, *args)

    yield run
    client.close()


SPECS = [QuestionSpec(0, 2, 1000), QuestionSpec(3, 4, 15000), QuestionSpec(9, 10, 120_000)]
ANSWERS = [AnswerRecord(0, 0, 1, "b:0"), AnswerRecord(3, 14_999_999, 9_999_999, "node-1a:77"),
           AnswerRecord(1, 899_999_999, 42, "odd|rid|with bars")]
DELIVERIES = [DeliveryRecord("boot1", 50_000_000, 300_000, 20_000), DeliveryRecord("b|x", -5, 0, -120_000),
              DeliveryRecord("n", 86_400_000_000_000, 1_000_000, 0)]
SCORES = [PlayerScore("p", 1, 250, 7), PlayerScore("a|b", 10, 149_999_999, 9 * ORDER_BASE + 9_999_999),
          PlayerScore("x", 99_999, STANDING_SPAN - 1, 0)]


@pytest.mark.parametrize("spec", SPECS)
def test_question_spec(lua: Any, spec: QuestionSpec) -> None:
    a, n, lim, again = lua("local a, n, l = spec_decode(ARGV[1]) return {a, n, l, spec_encode(a, n, l)}", spec.encode())
    assert QuestionSpec(a, n, lim) == spec and QuestionSpec.decode(again) == spec and again == spec.encode()


@pytest.mark.parametrize("record", ANSWERS)
def test_answer_record(lua: Any, record: AnswerRecord) -> None:
    o, r, s, rid, again = lua(
        "local o, r, s, rid = answer_decode(ARGV[1]) return {o, r, s, rid, answer_encode(o, r, s, rid)}",
        record.encode())
    assert AnswerRecord(o, r, s, rid) == record and AnswerRecord.decode(again) == record


@pytest.mark.parametrize("record", DELIVERIES)
def test_delivery_record(lua: Any, record: DeliveryRecord) -> None:
    b, s, a, lead, again = lua(
        "local b, s, a, l = delivery_decode(ARGV[1]) return {b, s, a, l, delivery_encode(b, s, a, l)}", record.encode())
    assert DeliveryRecord(b, s, a, lead) == record and DeliveryRecord.decode(again) == record


@pytest.mark.parametrize("score", SCORES)
def test_score_record(lua: Any, score: PlayerScore) -> None:
    c, t, last, again = lua("local c, t, l = score_decode(ARGV[1]) return {c, t, l, score_encode(c, t, l)}",
                            encode_score(score))
    assert PlayerScore(score.player, c, t, last) == score and decode_score(score.player, again) == score
    assert lua("local c, t, l = score_decode(false) return {c, t, l}") == [0, 0, 0]


@pytest.mark.parametrize("score", SCORES)
def test_standing_entry(lua: Any, score: PlayerScore) -> None:
    zscore, member = lua("local s, m = standing_entry(tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), "
                         "ARGV[4]) return {s, m}", score.correct, score.total_us, score.last_order, score.player)
    assert (int(zscore), member) == standing_entry(score)
    assert decode_standing(member, float(zscore)) == score


def test_order_and_correct_keys(lua: Any) -> None:
    for q, seq, resp in ((0, 1, 0), (9, 9_999_999, 899_999_999), (3, 12, 15_000_000)):
        order, ok = lua("return {int(order_key(tonumber(ARGV[1]), tonumber(ARGV[2]))), "
                        "int(correct_score(tonumber(ARGV[3]), tonumber(ARGV[2])))}", q, seq, resp)
        assert int(order) == order_key(q, seq) and int(ok) == correct_score(resp, seq)
        assert decode_correct("p", float(ok)) == CorrectAnswer("p", resp, seq)


def test_generated_prelude_matches_python(lua: Any) -> None:
    constants = lua("return {ORDER_BASE, STANDING_CAP, STANDING_SPAN, MEMBER_WIDTH}")
    assert constants == [ORDER_BASE, STANDING_CAP, STANDING_SPAN, MEMBER_WIDTH]
    machine = orjson.loads(lua("return cjson.encode(MACHINE)"))
    assert set(machine) == {c.value for c in MACHINE}
    for command, rule in MACHINE.items():
        entry = machine[command.value]
        assert entry["moves"] == {p.value: t.value for p, t in rule.moves.items()}
        assert (entry["guards"] or []) == [g.value for g in rule.guards]  # cjson: {} for an empty table
        assert entry["event"] == (rule.event or command.value)
    guards = orjson.loads(lua("local out = {} for name in pairs(GUARDS) do out[#out + 1] = name end "
                              "return cjson.encode(out)"))
    assert set(guards) == {g.value for g in Guard}


def test_scoring_folds_like_the_rule(lua: Any) -> None:
    """The prelude's score_add (used by answer.lua and void.lua) gives the totals verify recomputes."""
    rng = random.Random(7)
    per_q: list[list[CorrectAnswer]] = [[] for _ in range(6)]
    flat = []
    for q in range(6):
        for seq in rng.sample(range(1, 50), 8):
            player = rng.choice("abcd")
            if any(a.player == player for a in per_q[q]):
                continue
            resp = rng.randrange(0, 15_000_000)
            per_q[q].append(CorrectAnswer(player, resp, seq))
            flat.append((player, q, resp, seq))
    rng.shuffle(flat)  # a re-run question is answered after later ones: order must not matter
    body = """
local acc = {}
for i = 1, #ARGV, 4 do
  local p, q, r, s = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local t = acc[p] or {0, 0, 0}
  local c, total, last = score_add(t[1], t[2], t[3], r, order_key(q, s))
  acc[p] = {c, total, last}
end
local out = {}
for p, t in pairs(acc) do out[#out + 1] = p .. '=' .. score_encode(t[1], t[2], t[3]) end
return out
"""
    got = lua(body, *[x for row in flat for x in row])
    folded = {p: decode_score(p, rec) for p, _, rec in (item.partition("=") for item in got)}
    assert folded == scores_from_answers(per_q)


def test_the_standings_index_sorts_exactly_like_the_rule() -> None:
    rng = random.Random(11)
    scores = []
    for i in range(400):  # many ties on correct and on total time; last_order always distinct
        scores.append(PlayerScore(f"p{i:03d}", rng.randrange(1, 4), rng.choice([1000, 2000, rng.randrange(10**8)]),
                                  rng.randrange(4) * ORDER_BASE + i))
    disqualified = {s.player for s in rng.sample(scores, 20)}
    by_index = sorted(scores, key=lambda s: (standing_entry(s)[0], standing_entry(s)[1].encode()))
    ranked = [s.score for s in rank_standings(scores, disqualified)]
    assert [s for s in by_index if s.player not in disqualified] == ranked
