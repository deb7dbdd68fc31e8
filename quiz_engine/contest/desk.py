"""The online contest's participant desk: entry, attempts, questions, answers.

The rules are the contest's (:mod:`quiz_engine.contest.model`), the draw and ranking pure
(:mod:`~quiz_engine.contest.draw`, :mod:`~quiz_engine.contest.ranking`), every state change one
script in Redis (:mod:`quiz_engine.store.contest`). This is the thin layer between them that
the HTTP API and the CLI call: it checks what a participant typed (with the reason a field is
refused), picks the round by the clock, draws the attempt and shapes what the page is sent.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from quiz_engine.banks.cells import text_problem
from quiz_engine.banks.model import Bank, nfc
from quiz_engine.contest import draw as D
from quiz_engine.contest.model import ZONE, Contest
from quiz_engine.contest.ranking import Result
from quiz_engine.contest.roster import Roster, fold
from quiz_engine.errors import AttemptRefused, EntryError
from quiz_engine.store.contest import Answered, ContestStore, Started, Step

MAX_FIELD = 120
_PHONE = re.compile(r"^0\d{9}$")  # a Vietnamese mobile or landline in national form
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
START_RETRIES = 5


def normalize_phone(text: str) -> str | None:
    digits = re.sub(r"[\s.\-()]", "", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE.match(digits) else None


def clean_entry(contest: Contest, roster: Roster, fields: dict[str, Any]) -> dict[str, str]:
    """The entry form, checked: each required field present, text without tricks, the unit one
    of the roster's codes, the phone a phone. Raises :class:`EntryError` for the first problem."""
    out: dict[str, str] = {}
    for name in contest.required:
        raw = fields.get(name)
        if not isinstance(raw, str) or not nfc(raw):
            raise EntryError(name, "missing", f"{name} is required")
        value = nfc(raw)
        if len(value) > MAX_FIELD:
            raise EntryError(name, "too_long", f"{name} is longer than {MAX_FIELD} characters")
        if (problem := text_problem(value)) is not None:
            raise EntryError(name, problem[0], f"{name} contains a character that is not allowed")
        if value[0] in "=+@" and name != "phone":  # a phone may be written +84…; it is normalised below
            raise EntryError(name, "formula", f"{name} must not start with =, + or @")
        out[name] = value
    unit = roster.unit(out["unit"])
    if unit is None:
        raise EntryError("unit", "unknown_unit", "choose the unit from the list")
    if "phone" in out:
        phone = normalize_phone(out["phone"])
        if phone is None:
            raise EntryError("phone", "bad_phone", "a phone number has 10 digits and starts with 0")
        out["phone"] = phone
    if "email" in out:
        if not _EMAIL.match(out["email"]):
            raise EntryError("email", "bad_email", "not an e-mail address")
        out["email"] = out["email"].lower()
    if "staff_id" in out:
        out["staff_id"] = out["staff_id"].upper().replace(" ", "")
    return out


def identity_key(contest: Contest, entry: dict[str, str]) -> str:
    """Who the person is: their unit and identity fields (the attempts limit counts per key)."""
    return "id|" + entry["unit"] + "|" + "|".join(f"{f}={entry[f]}" for f in contest.identity)


def lookalike_keys(contest: Contest, entry: dict[str, str]) -> list[tuple[str, str]]:
    """Keys another person may share with this one, each a reason to show the pair to the organiser:
    the same phone (or staff id, e-mail) in another unit, the same name in the same unit."""
    out = [(f"{f}|{entry[f]}", f"same_{f}") for f in contest.identity]
    out.append((f"name|{entry['unit']}|{fold(entry['full_name'])}", "same_name_in_unit"))
    return out


@dataclass(frozen=True)
class Question:
    """What the participant's page is sent for the current question (never the answer)."""

    attempt: str
    index: int
    count: int
    text: str
    options: tuple[str, ...]
    delivered_ms: int
    deadline_ms: int  # 0: no limit on this question
    attempt_deadline_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "index": self.index, "count": self.count, "text": self.text,
                "options": list(self.options), "delivered_at": self.delivered_ms, "deadline": self.deadline_ms,
                "attempt_deadline": self.attempt_deadline_ms}


class ContestDesk:
    def __init__(self, contest: Contest, bank: Bank, roster: Roster, store: ContestStore, secret: str) -> None:
        self.contest, self.bank, self.roster, self.store, self.secret = contest, bank, roster, store, secret

    async def enter(self, fields: dict[str, Any]) -> tuple[str, dict[str, str], bool]:
        """(person id, the entry as stored, new) — the same person again for the same identity."""
        entry = clean_entry(self.contest, self.roster, fields)
        entered = await self.store.enter("p" + secrets.token_hex(8), entry, identity_key(self.contest, entry),
                                         lookalike_keys(self.contest, entry))
        return entered.person, entry, entered.new

    async def start(self, person: str, prediction: int | None = None) -> Started:
        c = self.contest
        now = await self.store.now_ms()
        current = c.round_at(dt.datetime.fromtimestamp(now / 1000, ZONE))
        if current is None:
            raise AttemptRefused("closed", "no round is open now")
        if c.prediction is not None and prediction is not None and not 0 <= prediction <= c.prediction.max_value:
            top = c.prediction.max_value
            raise AttemptRefused("bad_prediction", f"the prediction is a whole number from 0 to {top}")
        profile = await self.store.person(person)
        if profile is None:
            raise AttemptRefused("unknown_person", "enter first")
        for _ in range(START_RETRIES):
            n = await self.store.tries(current.id, person) + 1
            drawn = D.draw(c, self.bank, D.seed(self.secret, c.id, current.id, person, n))
            started = await self.store.start(
                person, current.id, n, c.attempts_per_round, drawn.pack(), drawn.key,
                (c.time_per_question or 0) * 1000, (c.time_per_attempt or 0) * 1000,
                int(current.opens.timestamp() * 1000), int(current.closes.timestamp() * 1000), profile["unit"],
                prediction)
            if started.outcome == "stale":  # another start of the same person got in first: read again
                continue
            if started.outcome == "started":
                return started
            if started.outcome == "in_progress":
                raise AttemptRefused("in_progress", "an attempt is already in progress", started.attempt)
            if started.outcome == "limit":
                raise AttemptRefused("limit", f"all {c.attempts_per_round} attempts of this round are used")
            raise AttemptRefused("closed", "no round is open now")
        raise AttemptRefused("busy", "try again")

    async def question(self, aid: str) -> Question | Step:
        """The attempt's current question (its delivery recorded before it is returned), or the
        attempt's result once it is done."""
        step = await self.store.step(aid)
        if step.outcome != "question":
            return step
        attempt = await self.store.attempt(aid)
        item = D.unpack(attempt["draw"], self.bank).items[step.index]
        q = self.bank.question(item.question)
        return Question(aid, step.index, int(attempt["q"]), q.text, tuple(q.options[i] for i in item.order),
                        step.delivered_ms, step.question_deadline_ms, step.attempt_deadline_ms)

    async def answer(self, aid: str, index: int, option: int) -> Answered:
        return await self.store.answer(aid, index, option)

    async def results(self, round_id: str) -> list[Result]:
        return [Result(f.person, f.attempt, f.correct, f.time_ms, f.finished_ms, f.prediction, f.unit)
                for f in await self.store.finished(round_id)]
