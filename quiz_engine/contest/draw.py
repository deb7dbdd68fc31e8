"""Each attempt's own questions: drawn from the pools, in its own order, options shuffled. Pure.

The draw is a function of the contest secret and (contest, round, person, attempt number)
alone, so ``verify`` re-derives every attempt's questions from the audit; it uses its own
HMAC stream (not :mod:`random`, whose algorithms may change between Python versions), so a
contest audited years later still re-derives. Shuffled options mean "the answer is C" cannot
be passed on between colleagues taking the contest side by side.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TypeVar

from quiz_engine.banks.model import Bank
from quiz_engine.contest.model import Contest

T = TypeVar("T")


class _Stream:
    """Uniform integers from HMAC-SHA256(seed, counter)."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0

    def below(self, n: int) -> int:
        self.counter += 1
        block = hmac.new(self.seed, self.counter.to_bytes(8, "big"), hashlib.sha256).digest()
        return int.from_bytes(block, "big") % n  # 256 bits against n ≤ a few hundred: no visible bias

    def shuffle(self, items: list[T]) -> None:
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


@dataclass(frozen=True)
class Item:
    """One question of an attempt: ``order[i]`` is the bank option shown in place ``i``."""

    question: str
    order: tuple[int, ...]
    answer: int  # the place (0-based) where the correct option is shown

    def bank_option(self, shown: int) -> int:
        return self.order[shown]


@dataclass(frozen=True)
class Draw:
    items: tuple[Item, ...]

    def pack(self) -> str:
        """``q01:2031,q17:10`` — what the audit and the attempt record keep."""
        return ",".join(f"{i.question}:{''.join(map(str, i.order))}" for i in self.items)

    @property
    def key(self) -> str:
        """The correct place of each question, one digit each (what the answer script compares)."""
        return "".join(str(i.answer) for i in self.items)


def seed(secret: str, contest: str, round_id: str, person: str, attempt: int) -> bytes:
    message = f"qe-contest-draw|{contest}|{round_id}|{person}|{attempt}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def draw(contest: Contest, bank: Bank, seed_bytes: bytes) -> Draw:
    """The attempt's questions: ``pool.draw`` from each pool, all in one shuffled order, each
    question's options in a shuffled order."""
    stream = _Stream(seed_bytes)
    picked: list[str] = []
    for pool in contest.pools:
        ids = list(pool.question_ids)
        stream.shuffle(ids)
        picked.extend(ids[: pool.draw])
    stream.shuffle(picked)
    items = []
    for qid in picked:
        question = bank.question(qid)
        order = list(range(len(question.options)))
        stream.shuffle(order)
        items.append(Item(qid, tuple(order), order.index(question.answer)))
    return Draw(tuple(items))


def unpack(packed: str, bank: Bank) -> Draw:
    """The draw an audit or attempt record keeps, with each question's correct place."""
    items = []
    for part in packed.split(",") if packed else []:
        qid, _, digits = part.partition(":")
        order = tuple(int(d) for d in digits)
        items.append(Item(qid, order, order.index(bank.question(qid).answer)))
    return Draw(tuple(items))
