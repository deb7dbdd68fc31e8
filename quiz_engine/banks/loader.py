"""Read, validate and write question banks in their TOML format.

Validation collects *every* problem before raising, because banks are written by hand and a
secretariat fixing one error per run would never finish. Pure: no asyncio, redis or starlette.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from quiz_engine.banks.branding import dump_branding, parse_branding
from quiz_engine.banks.fit import fit_warning
from quiz_engine.banks.messages import Messages, messages
from quiz_engine.banks.model import (
    LANGUAGES,
    LETTERS,
    MAX_OPTIONS,
    MAX_TIME_LIMIT,
    MIN_OPTIONS,
    MIN_TIME_LIMIT,
    Bank,
    EpisodeDef,
    Question,
    default_episodes,
    index_for,
    is_valid_id,
    letter_for,
    match_key,
    nfc,
)
from quiz_engine.errors import BankError, BankProblem

TOP_KEYS = ("bank", "branding", "episodes", "questions")
BANK_KEYS = ("id", "title", "language", "require_source")
QUESTION_KEYS = ("id", "text", "options", "answer", "time_limit", "source")
EPISODE_KEYS = ("id", "title", "date", "questions")

_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class _Collector:
    """Accumulates problems for one file so every check can keep going after a failure.

    Messages come from :mod:`quiz_engine.banks.messages` by key, in the collector's language.
    """

    def __init__(self, file: str, lang: str | None = None) -> None:
        self.file = file
        self.T: Messages = messages(lang)
        self.problems: list[BankProblem] = []

    def add(self, location: str, field: str, msg: str, /, **params: Any) -> None:
        self.problems.append(BankProblem(self.file, location, field, self.T(msg, **params)))

    def question(self, number: int, qid: str) -> str:
        return self.T("loc_question", n=number, id=qid) if qid else self.T("loc_question_bare", n=number)

    def episode(self, number: int, eid: str) -> str:
        return self.T("loc_episode", n=number, id=eid) if eid else self.T("loc_episode_bare", n=number)


def _unknown_keys(table: dict[str, Any], allowed: tuple[str, ...], out: _Collector, location: str) -> None:
    for key in table:
        if key not in allowed:
            out.add(location, key, "unknown_key", key=key, allowed=", ".join(allowed))


def _text(
    table: dict[str, Any],
    key: str,
    out: _Collector,
    location: str,
    *,
    required: bool = True,
) -> str:
    """A string field, NFC-normalized; reports missing/empty/non-string values."""
    value = table.get(key)
    if value is None:
        if required:
            out.add(location, key, "missing_key", key=key)
        return ""
    if not isinstance(value, str):
        out.add(location, key, "not_string", key=key, type=type(value).__name__)
        return ""
    text = nfc(value)
    if required and not text:
        out.add(location, key, "empty_key", key=key)
    return text


def _identifier(table: dict[str, Any], out: _Collector, location: str) -> str:
    ident = _text(table, "id", out, location)
    if ident and not is_valid_id(ident):
        out.add(location, "id", "bad_id_toml", value=ident)
    return ident


def _parse_time_limit(value: object, out: _Collector, location: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.add(location, "time_limit", "time_not_number_toml", value=value)
        return None
    seconds = float(value)
    if not MIN_TIME_LIMIT <= seconds <= MAX_TIME_LIMIT:
        out.add(location, "time_limit", "time_out_of_range_toml", value=value, min=f"{MIN_TIME_LIMIT:g}",
                max=f"{MAX_TIME_LIMIT:g}")
        return None
    return seconds


def _parse_options(value: object, out: _Collector, location: str) -> list[str] | None:
    if value is None:
        out.add(location, "options", "missing_options")
        return None
    if not isinstance(value, list):
        out.add(location, "options", "options_not_list")
        return None
    options: list[str] = []
    seen: dict[str, int] = {}
    ok = True
    for i, raw in enumerate(value):
        label = letter_for(i) if i < MAX_OPTIONS else str(i + 1)
        if not isinstance(raw, str):
            out.add(location, "options", "option_not_string", label=label, value=raw)
            ok = False
            continue
        option = nfc(raw)
        if not option:
            out.add(location, "options", "option_empty", label=label)
            ok = False
        else:
            key = match_key(option)
            if key in seen:
                out.add(location, "options", "option_duplicate_toml", label=label, value=option,
                        other=letter_for(seen[key]))
                ok = False
            else:
                seen[key] = i
        options.append(option)
    if len(value) < MIN_OPTIONS:
        out.add(location, "options", "too_few_options_toml", min=MIN_OPTIONS, n=len(value))
        ok = False
    elif len(value) > MAX_OPTIONS:
        out.add(location, "options", "too_many_options", max=MAX_OPTIONS, n=len(value))
        ok = False
    return options if ok else None


def _parse_answer(value: object, n_options: int | None, out: _Collector, location: str) -> int | None:
    if value is None:
        out.add(location, "answer", "missing_answer")
        return None
    if not isinstance(value, str) or index_for(value) is None:
        out.add(location, "answer", "answer_not_letter", value=value)
        return None
    index = index_for(value)
    assert index is not None
    if n_options is not None and index >= n_options:
        last = LETTERS[n_options - 1]
        out.add(location, "answer", "answer_out_of_range", value=value.strip().upper(), last=last)
        return None
    return index


def _parse_question(table: object, number: int, require_source: bool, out: _Collector) -> Question | None:
    if not isinstance(table, dict):
        out.add(out.question(number, ""), "", "question_not_table")
        return None
    raw_id = table.get("id")
    location = out.question(number, nfc(raw_id) if isinstance(raw_id, str) else "")
    before = len(out.problems)
    _unknown_keys(table, QUESTION_KEYS, out, location)
    qid = _identifier(table, out, location)
    text = _text(table, "text", out, location)
    options = _parse_options(table.get("options"), out, location)
    answer = _parse_answer(
        table.get("answer"),
        len(options) if options is not None else None,
        out,
        location,
    )
    time_limit = _parse_time_limit(table.get("time_limit"), out, location)
    source = _text(table, "source", out, location, required=require_source)
    if len(out.problems) > before or options is None or answer is None:
        return None
    if time_limit is None:
        return Question(qid, text, tuple(options), answer, source=source)
    return Question(qid, text, tuple(options), answer, time_limit, source)


def _parse_date(value: object, out: _Collector, location: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    out.add(location, "date", "bad_date_toml", value=value)
    return None


def _parse_episodes(raw: object, question_numbers: dict[str, int], out: _Collector) -> list[EpisodeDef]:
    if not isinstance(raw, list):
        out.add("", "episodes", "episodes_not_array")
        return []
    episodes: list[EpisodeDef] = []
    episode_ids: dict[str, int] = {}
    owner: dict[str, str] = {}  # question id -> episode id that uses it
    for number, table in enumerate(raw, start=1):
        if not isinstance(table, dict):
            out.add(out.episode(number, ""), "", "episode_not_table")
            continue
        raw_id = table.get("id")
        location = out.episode(number, nfc(raw_id) if isinstance(raw_id, str) else "")
        before = len(out.problems)
        _unknown_keys(table, EPISODE_KEYS, out, location)
        eid = _identifier(table, out, location)
        if eid in episode_ids:
            out.add(location, "id", "duplicate_episode_id", value=eid, other=episode_ids[eid])
        elif eid:
            episode_ids[eid] = number
        title = _text(table, "title", out, location, required=False) or eid
        date = _parse_date(table.get("date"), out, location)
        qids = table.get("questions")
        ids: list[str] = []
        if not isinstance(qids, list) or not all(isinstance(q, str) for q in qids):
            out.add(location, "questions", "questions_not_list")
        elif not qids:
            out.add(location, "questions", "episode_empty")
        else:
            for qid in (nfc(q) for q in qids):
                if qid not in question_numbers:
                    out.add(location, "questions", "unknown_question", value=qid)
                elif qid in ids:
                    out.add(location, "questions", "listed_twice", value=qid)
                elif qid in owner:
                    out.add(location, "questions", "already_used", value=qid, episode=owner[qid])
                ids.append(qid)
                owner.setdefault(qid, eid)
        if len(out.problems) == before:
            episodes.append(EpisodeDef(eid, title, tuple(ids), date))
    return episodes


def _toml_problem(file: str, error: tomllib.TOMLDecodeError, T: Messages) -> BankProblem:
    message = str(error)
    match = _TOML_POSITION.search(message)
    location = T("loc_line", line=match.group(1)) if match else ""
    return BankProblem(file, location, "", T("toml_syntax", error=message))


def parse_bank(text: str, file: str = "<string>", lang: str | None = None) -> Bank:
    """Parse and validate bank TOML; raises :class:`BankError` listing every problem.

    ``lang`` (``vi``/``en``, default English) is the language of the problem messages.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise BankError([_toml_problem(file, error, messages(lang))]) from None
    out = _Collector(file, lang)
    _unknown_keys(doc, TOP_KEYS, out, "")

    meta = doc.get("bank")
    if not isinstance(meta, dict):
        out.add("bank", "", "missing_bank_table")
        meta = {}
    else:
        _unknown_keys(meta, BANK_KEYS, out, "bank")
    bank_id = _identifier(meta, out, "bank") if meta else ""
    title = _text(meta, "title", out, "bank") if meta else ""
    language = meta.get("language") if meta else None
    if meta and language not in LANGUAGES:
        out.add("bank", "language", "bad_language_toml", choices=", ".join(LANGUAGES), value=language)
    require_source = meta.get("require_source", False)
    if not isinstance(require_source, bool):
        out.add("bank", "require_source", "require_source_bool")
        require_source = False

    raw_questions = doc.get("questions")
    questions: list[Question] = []
    numbers: dict[str, int] = {}
    if not isinstance(raw_questions, list) or not raw_questions:
        out.add("", "questions", "no_questions")
        raw_questions = []
    texts: dict[str, int] = {}
    for number, table in enumerate(raw_questions, start=1):
        question = _parse_question(table, number, require_source, out)
        if not isinstance(table, dict):
            continue
        raw_id = table.get("id")
        qid = nfc(raw_id) if isinstance(raw_id, str) else ""
        location = out.question(number, qid)
        if qid and qid in numbers:
            out.add(location, "id", "duplicate_question_id", value=qid, other=numbers[qid])
        elif qid:
            numbers[qid] = number
        raw_text = table.get("text")
        if isinstance(raw_text, str) and nfc(raw_text):
            key = match_key(raw_text)
            if key in texts:
                out.add(location, "text", "same_text", other=texts[key])
            else:
                texts[key] = number
        if question is not None:
            questions.append(question)

    episodes: list[EpisodeDef] = []
    if "episodes" in doc:
        episodes = _parse_episodes(doc["episodes"], numbers, out)
        if not episodes and not out.problems:
            out.add("", "episodes", "episodes_empty")

    # the organiser's logo and colours (banks/branding.py): the logo file sits beside the bank
    base_dir = Path(file).parent if file and not file.startswith("<") else None
    branding, issues = parse_branding(doc.get("branding"), base_dir, out.T.lang)
    out.problems.extend(BankProblem(file, "branding", key, message) for key, message in issues)

    if out.problems:
        raise BankError(out.problems)
    assert isinstance(language, str)
    frozen = tuple(questions)
    # not refused, but said: a question too long for the overlay's lower third (banks/fit.py)
    warnings = tuple(BankProblem(file, out.question(number, q.id), "text", message)
                     for number, q in enumerate(frozen, start=1)
                     if (message := fit_warning(q.text, q.options, out.T.lang)))
    return Bank(
        bank_id,
        title,
        language,
        frozen,
        tuple(episodes) if episodes else default_episodes(title, frozen),
        branding,
        warnings,
    )


def _read_text(path: Path, T: Messages) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BankError([BankProblem(str(path), "", "", T("file_not_found"))]) from None
    except UnicodeDecodeError as error:
        raise BankError([BankProblem(str(path), "", "", T("not_utf8_text", byte=error.start))]) from None
    except OSError as error:
        raise BankError([BankProblem(str(path), "", "", T("cannot_read_file", error=error.strerror))]) from None


def load_bank(path: str | Path, lang: str | None = None) -> Bank:
    """Read a UTF-8 bank file; raises :class:`BankError` (also for unreadable files).

    ``lang`` is the language of the problem messages (English by default).
    """
    path = Path(path)
    return parse_bank(_read_text(path, messages(lang)), str(path), lang)


def validate_bank_file(path: str | Path, lang: str | None = None) -> list[BankProblem]:
    """Every problem in a bank file, or [] when it is valid."""
    try:
        load_bank(path, lang)
    except BankError as error:
        return list(error.problems)
    return []


def _number(value: float) -> int | float:
    """Write 15.0 as 15 so hand-edited files stay tidy."""
    return int(value) if float(value).is_integer() else value


def dump_bank(bank: Bank) -> str:
    """TOML text for ``bank`` that :func:`parse_bank` reads back to an equal Bank."""
    doc: dict[str, Any] = {"bank": {"id": bank.id, "title": bank.title, "language": bank.language}}
    if bank.branding is not None:
        doc["branding"] = dump_branding(bank.branding)
    if not bank.has_default_episodes:
        episodes: list[dict[str, Any]] = []
        for episode in bank.episodes:
            entry: dict[str, Any] = {"id": episode.id, "title": episode.title}
            if episode.date is not None:
                entry["date"] = episode.date
            entry["questions"] = list(episode.question_ids)
            episodes.append(entry)
        doc["episodes"] = episodes
    questions: list[dict[str, Any]] = []
    for q in bank.questions:
        entry = {
            "id": q.id,
            "text": q.text,
            "options": list(q.options),
            "answer": letter_for(q.answer),
            "time_limit": _number(q.time_limit),
        }
        if q.source:
            entry["source"] = q.source
        questions.append(entry)
    doc["questions"] = questions
    return tomli_w.dumps(doc, indent=2)


def _looks_like_bank(path: Path) -> bool:
    """A .toml file is a bank if it has a [bank] table, or is broken (so validation reports it)."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return True
    except OSError:
        return False
    return "bank" in doc


def discover_banks(directory: str | Path) -> list[Path]:
    """Bank files (``*.toml`` with a [bank] table) directly in ``directory``, sorted by name."""
    root = Path(directory)
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*.toml") if p.is_file() and _looks_like_bank(p))
