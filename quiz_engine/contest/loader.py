"""Read and validate an online contest file (TOML) against the bank it draws from.

Like the bank loader, it collects *every* problem before raising :class:`BankError`, each with
the file, where (``[contest]``, ``round 2 (w2)``, ``pool 1 (the-che)``) and the key, worded in
the contest's language. Pure: no asyncio, redis or starlette.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from quiz_engine.banks.model import Bank, is_valid_id, nfc
from quiz_engine.contest.messages import messages
from quiz_engine.contest.model import (
    ALWAYS_REQUIRED,
    DEFAULT_REQUIRED,
    ENTRY_FIELDS,
    IDENTITY_FIELDS,
    MAX_ATTEMPT_SECONDS,
    MAX_ATTEMPTS_PER_ROUND,
    MAX_QUESTION_SECONDS,
    MAX_QUESTIONS_PER_ATTEMPT,
    MAX_ROUNDS,
    MIN_ATTEMPT_SECONDS,
    MIN_QUESTION_SECONDS,
    ZONE,
    Contest,
    Counts,
    Pool,
    Prediction,
    Reveal,
    Round,
    weekly_rounds,
)
from quiz_engine.errors import BankError, BankProblem, NotFound

TOP_KEYS = ("contest", "rounds", "pools", "prediction")
CONTEST_KEYS = ("id", "title", "bank", "language", "opens", "closes", "rounds", "attempts", "counts",
                "time_per_question", "time_per_attempt", "required", "identity", "reveal",
                "participation_threshold")
ROUND_KEYS = ("id", "title", "opens", "closes")
POOL_KEYS = ("id", "title", "questions", "episodes", "draw")
PREDICTION_KEYS = ("text", "max")
MAX_FILE_KB = 512
MAX_OPEN_DAYS = 366
MIN_SECONDS_PER_QUESTION_IN_ATTEMPT = 5

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")

BankLookup = Callable[[str], Bank]


class _Out:
    def __init__(self, file: str, lang: str) -> None:
        self.file = file
        self.T = messages(lang)
        self.problems: list[BankProblem] = []

    def add(self, where: str, key: str, msg: str, /, **params: Any) -> None:
        self.problems.append(BankProblem(self.file, where, key, self.T(msg, **params)))

    def fail(self, msg: str, /, where: str = "", **params: Any) -> BankError:
        self.add(where, "", msg, **params)
        return BankError(self.problems)


def _show(when: dt.datetime) -> str:
    return when.astimezone(ZONE).strftime("%d/%m/%Y %H:%M")


class _Table:
    """One TOML table being read: typed getters that report what is wrong and keep going."""

    def __init__(self, data: dict[str, Any], out: _Out, where: str, allowed: tuple[str, ...]) -> None:
        self.data, self.out, self.where = data, out, where
        for key in data:
            if key not in allowed:
                out.add(where, key, "unknown_key", key=key, allowed=", ".join(allowed))

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key)
        if value is None:
            if required:
                self.out.add(self.where, key, "missing_key", key=key)
            return ""
        if not isinstance(value, str):
            self.out.add(self.where, key, "not_string", key=key, type=type(value).__name__)
            return ""
        text = nfc(value)
        if required and not text:
            self.out.add(self.where, key, "empty_key", key=key)
        return text

    def ident(self, key: str = "id") -> str:
        value = self.text(key)
        if value and not is_valid_id(value):
            self.out.add(self.where, key, "bad_id", value=value)
            return ""
        return value

    def integer(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.out.add(self.where, key, "not_integer", key=key, value=value)
                return None
        if not low <= value <= high:
            self.out.add(self.where, key, "out_of_range", key=key, value=value, min=low, max=high)
            return None
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str | None:
        value = self.data.get(key, default)
        if not isinstance(value, str) or value.strip().lower() not in choices:
            self.out.add(self.where, key, "not_choice", key=key, value=value, choices=", ".join(choices))
            return None
        return value.strip().lower()

    def when(self, key: str) -> dt.datetime | None:
        """A date-time: TOML's own (with or without an offset) or text; local means Asia/Ho_Chi_Minh."""
        value = self.data.get(key)
        if value is None:
            self.out.add(self.where, key, "missing_key", key=key)
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                self.out.add(self.where, key, "bad_datetime", key=key, value=value)
                return None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            self.out.add(self.where, key, "date_without_time", key=key, example=f"{value.isoformat()}T07:30:00")
            return None
        if not isinstance(value, dt.datetime):
            self.out.add(self.where, key, "bad_datetime", key=key, value=value)
            return None
        return value.replace(tzinfo=ZONE) if value.tzinfo is None else value.astimezone(ZONE)

    def names(self, key: str, default: tuple[str, ...]) -> tuple[str, ...] | None:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.out.add(self.where, key, "not_list", key=key)
            return None
        return tuple(dict.fromkeys(v.strip() for v in value))


def _rounds(raw: object, c: _Table, out: _Out, opens: dt.datetime | None,
            closes: dt.datetime | None) -> tuple[Round, ...]:
    if opens is None or closes is None or opens >= closes:
        return ()
    if raw is None or raw == "weekly":
        title = "Tuần {n}" if out.T.lang == "vi" else "Week {n}"
        rounds = weekly_rounds(opens, closes, title)
    elif isinstance(raw, list) and raw and all(isinstance(r, dict) for r in raw):
        built: list[Round] = []
        seen: dict[str, int] = {}
        for n, table in enumerate(raw, start=1):
            rid = table.get("id") if isinstance(table.get("id"), str) else ""
            where = out.T("loc_round", n=n, id=rid) if rid else out.T("loc_round_bare", n=n)
            t = _Table(table, out, where, ROUND_KEYS)
            ident, title_text = t.ident(), t.text("title")
            start, end = t.when("opens"), t.when("closes")
            if ident in seen:
                out.add(where, "id", "duplicate_round", value=ident, other=seen[ident])
            elif ident:
                seen[ident] = n
            if start is None or end is None:
                continue
            if end <= start:
                out.add(where, "closes", "round_empty", opens=_show(start), closes=_show(end))
                continue
            if start < opens or end > closes:
                out.add(where, "opens", "round_outside", opens=_show(start), closes=_show(end),
                        c_opens=_show(opens), c_closes=_show(closes))
            if built and start < built[-1].closes:
                out.add(where, "opens", "round_overlap", opens=_show(start), other=len(built),
                        closes=_show(built[-1].closes))
            built.append(Round(ident, title_text, start, end))
        rounds = tuple(built)
    else:
        out.add(c.where, "rounds", "rounds_kind")
        return ()
    if len(rounds) > MAX_ROUNDS:
        out.add(c.where, "rounds", "too_many_rounds", n=len(rounds), limit=MAX_ROUNDS)
    return rounds


def _pools(raw: object, out: _Out, bank: Bank | None) -> tuple[Pool, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(p, dict) for p in raw):
        out.add("", "pools", "no_pools")
        return ()
    pools: list[Pool] = []
    seen_ids: dict[str, int] = {}
    owner: dict[str, int] = {}  # question id -> pool number
    for n, table in enumerate(raw, start=1):
        pid = table.get("id") if isinstance(table.get("id"), str) else ""
        where = out.T("loc_pool", n=n, id=pid) if pid else out.T("loc_pool_bare", n=n)
        t = _Table(table, out, where, POOL_KEYS)
        ident, title = t.ident(), t.text("title", required=False)
        if ident in seen_ids:
            out.add(where, "id", "duplicate_pool", value=ident, other=seen_ids[ident])
        elif ident:
            seen_ids[ident] = n
        questions, episodes = t.names("questions", ()), t.names("episodes", ())
        if questions is None or episodes is None:
            continue
        if bool(questions) == bool(episodes):
            out.add(where, "questions", "pool_source")
            continue
        ids: list[str] = []
        unknown = 0
        if bank is not None:
            for qid in questions:
                try:
                    bank.question(qid)
                    ids.append(qid)
                except NotFound:
                    out.add(where, "questions", "unknown_question", value=qid, bank=bank.id)
                    unknown += 1
            for eid in episodes:
                try:
                    ids.extend(bank.episode(eid).question_ids)
                except NotFound:
                    out.add(where, "episodes", "unknown_episode", value=eid, bank=bank.id,
                            available=", ".join(e.id for e in bank.episodes))
                    unknown += 1
        ids = list(dict.fromkeys(ids))
        for qid in ids:
            if qid in owner:
                out.add(where, "questions", "question_in_two_pools", value=qid, other=owner[qid])
            else:
                owner[qid] = n
        draw = t.integer("draw", None, 1, MAX_QUESTIONS_PER_ATTEMPT)
        if "draw" not in table:
            out.add(where, "draw", "missing_key", key="draw")
        if draw is not None and bank is not None and not unknown and draw > len(ids):
            out.add(where, "draw", "draw_too_many", draw=draw, n=len(ids))
        if draw is not None:
            pools.append(Pool(ident, title or ident, tuple(ids), draw))
    total = sum(p.draw for p in pools)
    if total > MAX_QUESTIONS_PER_ATTEMPT:
        out.add("", "pools", "too_many_questions", n=total, limit=MAX_QUESTIONS_PER_ATTEMPT)
    return tuple(pools)


def parse_contest(text: str, file: str, banks: BankLookup) -> Contest:
    """The contest in ``text`` (read from ``file``), its pools checked against its bank."""
    lang_guess = "vi" if re.search(r'language\s*=\s*"vi"', text) else "en"
    out = _Out(file, lang_guess)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_POSITION.search(str(error))
        where = out.T("loc_line", line=found.group(1)) if found else ""
        raise out.fail("toml_syntax", where=where, error=_TOML_POSITION.sub("", str(error)).strip()) from None
    for key in data:
        if key not in TOP_KEYS:
            out.add("", key, "unknown_key", key=key, allowed=", ".join(TOP_KEYS))
    raw = data.get("contest")
    if not isinstance(raw, dict):
        raise out.fail("no_contest_table")
    language = raw.get("language", "vi")
    if language in ("vi", "en"):
        out.T = messages(language)
    c = _Table(raw, out, out.T("loc_contest"), CONTEST_KEYS)
    ident, title, bank_id = c.ident(), c.text("title"), c.ident("bank")
    c.choice("language", "vi", ("vi", "en"))
    bank: Bank | None = None
    if bank_id:
        try:
            bank = banks(bank_id)
        except NotFound as error:
            known = str(error).split("known: ", 1)[-1].rstrip(")")
            out.add(c.where, "bank", "unknown_bank", bank=bank_id, available=known)
    opens, closes = c.when("opens"), c.when("closes")
    if opens is not None and closes is not None:
        if closes <= opens:
            out.add(c.where, "closes", "closes_before_opens", opens=_show(opens), closes=_show(closes))
        elif (closes - opens).days > MAX_OPEN_DAYS:
            out.add(c.where, "closes", "too_long_open", days=(closes - opens).days, limit=MAX_OPEN_DAYS)
    rounds = _rounds(data.get("rounds", raw.get("rounds")), c, out, opens, closes)
    if "rounds" in data and "rounds" in raw:
        out.add(c.where, "rounds", "rounds_kind")
    attempts = c.integer("attempts", 1, 1, MAX_ATTEMPTS_PER_ROUND)
    counts = c.choice("counts", Counts.BEST.value, tuple(x.value for x in Counts))
    per_q = c.integer("time_per_question", None, MIN_QUESTION_SECONDS, MAX_QUESTION_SECONDS)
    per_a = c.integer("time_per_attempt", None, MIN_ATTEMPT_SECONDS, MAX_ATTEMPT_SECONDS)
    if "time_per_question" not in raw and "time_per_attempt" not in raw:
        out.add(c.where, "time_per_question", "no_time_limit")
    reveal = c.choice("reveal", Reveal.AFTER_ROUND.value, tuple(x.value for x in Reveal))
    required = c.names("required", DEFAULT_REQUIRED) or DEFAULT_REQUIRED
    for name in required:
        if name not in ENTRY_FIELDS:
            out.add(c.where, "required", "unknown_field", value=name, fields=", ".join(ENTRY_FIELDS))
    required = tuple(dict.fromkeys((*ALWAYS_REQUIRED, *(f for f in required if f in ENTRY_FIELDS))))
    identity = c.names("identity", tuple(f for f in IDENTITY_FIELDS if f in required)) or ()
    if not identity:
        out.add(c.where, "identity", "no_identity", fields=", ".join(IDENTITY_FIELDS))
    for name in identity:
        if name not in IDENTITY_FIELDS:
            out.add(c.where, "identity", "not_identity", value=name, fields=", ".join(IDENTITY_FIELDS))
        elif name not in required:
            out.add(c.where, "identity", "identity_not_required", value=name)
    threshold = raw.get("participation_threshold", 0.0)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        out.add(c.where, "participation_threshold", "threshold_percent", value=threshold)
        threshold = 0.0
    pools = _pools(data.get("pools"), out, bank)
    prediction = None
    if "prediction" in data:
        p = data["prediction"]
        if not isinstance(p, dict):
            out.add("", "prediction", "not_table", key="prediction")
        else:
            pt = _Table(p, out, out.T("loc_prediction"), PREDICTION_KEYS)
            text_value = pt.text("text")
            top = pt.integer("max", 10_000_000, 1, 1_000_000_000)
            if text_value and top is not None:
                prediction = Prediction(text_value, max_value=top)
    questions = sum(p.draw for p in pools)
    if per_a is not None and per_q is None and questions and per_a < questions * MIN_SECONDS_PER_QUESTION_IN_ATTEMPT:
        out.add(c.where, "time_per_attempt", "attempt_shorter_than_questions", attempt=per_a, n=questions,
                min=MIN_SECONDS_PER_QUESTION_IN_ATTEMPT)
    if out.problems:
        raise BankError(out.problems)
    assert opens is not None and closes is not None and attempts is not None and counts and reveal
    return Contest(
        id=ident, title=title, bank=bank_id, opens=opens, closes=closes, rounds=rounds, pools=pools,
        attempts_per_round=attempts, counts=Counts(counts), time_per_question=per_q, time_per_attempt=per_a,
        required=required, identity=identity, reveal=Reveal(reveal), prediction=prediction,
        participation_threshold=float(threshold), language=language if language in ("vi", "en") else "vi",
    )


def load_contest(path: str | Path, banks: BankLookup) -> Contest:
    """The contest file at ``path``; every problem at once as :class:`BankError`."""
    path = Path(path)
    out = _Out(str(path), "en")
    if not path.is_file():
        raise out.fail("file_not_found")
    size = path.stat().st_size
    if size > MAX_FILE_KB * 1024:
        raise out.fail("file_too_big", size=size // 1024, limit=MAX_FILE_KB)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise out.fail("not_utf8_text", byte=error.start) from None
    return parse_contest(text, str(path), banks)
