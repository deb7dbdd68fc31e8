"""One codec per record Redis keeps as a packed string (Python side).

The scripts decode and encode the same records with the functions of ``lua/prelude.lua``;
the constants both sides need are rendered into the prelude from here
(:func:`lua_constants`), and ``tests/test_records.py`` runs every record through both
codecs on a real Redis, so the two cannot drift apart.

=================  ===========================================  =========================
record             format                                       where
=================  ===========================================  =========================
question spec      ``answer|options|limit_ms``                  ``qspec`` hash, per index
answer             ``option|response_us|seq|request id``       ``q{i}:ans`` hash
score (totals)     ``correct|total_us|last_order``              ``stats`` hash
delivery           ``boot|fan-out start µs|allowance µs|lead``  ``q{i}:dlv`` hash
correct answer     zset score ``response_us * ORDER_BASE + seq``  ``q{i}:ok`` zset
standing           zset score ``(CAP - correct) * SPAN + total``,  ``standings`` zset
                   member ``last_order (zero-padded)|player``
=================  ===========================================  =========================

``last_order`` = question index * ORDER_BASE + arrival seq of the final correct answer.
The standings index sorts exactly as :func:`quiz_engine.game.standings.standings_key`:
ascending score is most correct first, then least total time; equal scores sort by member,
bytewise, which is ``last_order`` ascending (fixed width). Doubles hold integers exactly
below 2**53, so CAP * SPAN must stay below it.
"""

from __future__ import annotations

from typing import NamedTuple

from quiz_engine.game.standings import ORDER_BASE, CorrectAnswer, PlayerScore

STANDING_CAP = 100_000  # more correct answers than an episode can have
STANDING_SPAN = 10_000_000_000  # µs: summed response times stay below this (2.7 h; clamped)
MEMBER_WIDTH = 15  # digits of last_order in a standings member

assert STANDING_CAP * STANDING_SPAN < 2**53


class QuestionSpec(NamedTuple):
    """What only the host and the scripts see of a question."""

    answer: int
    options: int
    limit_ms: int

    def encode(self) -> str:
        return f"{self.answer}|{self.options}|{self.limit_ms}"

    @classmethod
    def decode(cls, text: str) -> QuestionSpec:
        a, n, lim = text.split("|")
        return cls(int(a), int(n), int(lim))


class AnswerRecord(NamedTuple):
    """A stored answer: the first one a player sent to a question."""

    option: int
    response_us: int
    seq: int  # Redis arrival order within the question
    rid: str  # request id: a retried request is recognised, not stored twice

    def encode(self) -> str:
        return f"{self.option}|{self.response_us}|{self.seq}|{self.rid}"

    @classmethod
    def decode(cls, text: str) -> AnswerRecord:
        o, r, s, rid = text.split("|", 3)
        return cls(int(o), int(r), int(s), rid)


class DeliveryRecord(NamedTuple):
    """A player's delivery allowance, fixed by the fan-out that wrote the question to them."""

    boot: str  # the node that recorded it
    start_us: int  # its fan-out start, on that node's monotonic clock
    allowance_us: int
    lead_us: int  # fan-out start − release, as the node estimated it

    def encode(self) -> str:
        return f"{self.boot}|{self.start_us}|{self.allowance_us}|{self.lead_us}"

    @classmethod
    def decode(cls, text: str) -> DeliveryRecord:
        boot, start, allowance, lead = text.rsplit("|", 3)
        return cls(boot, int(start), int(allowance), int(lead))


def encode_score(score: PlayerScore) -> str:
    return f"{score.correct}|{score.total_us}|{score.last_order}"


def decode_score(player: str, text: str) -> PlayerScore:
    c, total, last = text.split("|")
    return PlayerScore(player, int(c), int(total), int(last))


def order_key(question: int, seq: int) -> int:
    """The arrival key of an answer across an episode (``last_order`` of a score)."""
    return question * ORDER_BASE + seq


def correct_score(response_us: int, seq: int) -> int:
    """Sort key of a correct answer: response time, then arrival (ties are impossible)."""
    return response_us * ORDER_BASE + seq


def decode_correct(player: str, score: float) -> CorrectAnswer:
    s = int(score)
    return CorrectAnswer(player, s // ORDER_BASE, s % ORDER_BASE)


def standing_entry(score: PlayerScore) -> tuple[int, str]:
    """(zset score, member) of a player in the standings index."""
    total = min(score.total_us, STANDING_SPAN - 1)
    return (STANDING_CAP - score.correct) * STANDING_SPAN + total, f"{score.last_order:0{MEMBER_WIDTH}d}|{score.player}"


def decode_standing(member: str, score: float) -> PlayerScore:
    last, _, player = member.partition("|")
    s = int(score)
    return PlayerScore(player, STANDING_CAP - s // STANDING_SPAN, s % STANDING_SPAN, int(last))


def lua_constants() -> dict[str, int]:
    """The numbers the Lua prelude shares with this module."""
    return {"ORDER_BASE": ORDER_BASE, "STANDING_CAP": STANDING_CAP, "STANDING_SPAN": STANDING_SPAN,
            "MEMBER_WIDTH": MEMBER_WIDTH}
