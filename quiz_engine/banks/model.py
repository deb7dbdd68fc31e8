"""Immutable question-bank model shared by the loader, the sheet importer and the server.

Pure data: no I/O, no asyncio/redis/starlette, so the game core and tests can use it freely.
Validation lives in :mod:`quiz_engine.banks.loader`; objects built here are assumed valid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from quiz_engine.errors import BankProblem, NotFound

LETTERS = "ABCDEF"
MIN_OPTIONS = 2
MAX_OPTIONS = len(LETTERS)
DEFAULT_TIME_LIMIT = 15.0
MIN_TIME_LIMIT = 5.0
MAX_TIME_LIMIT = 120.0
LANGUAGES = ("vi", "en")
DEFAULT_EPISODE_ID = "main"

# Ids end up in URLs and Redis keys (inside `{…}` hash tags), so keep them to safe characters.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def nfc(text: str) -> str:
    """NFC-normalize and strip, so that visually equal Vietnamese text is byte-equal."""
    return unicodedata.normalize("NFC", text).strip()


def match_key(text: str) -> str:
    """Key for duplicate detection: NFC, case-insensitive, whitespace-collapsed."""
    return unicodedata.normalize("NFC", " ".join(nfc(text).casefold().split()))


def letter_for(index: int) -> str:
    """Option letter for a 0-based index (0 -> "A")."""
    return LETTERS[index]


def index_for(letter: str) -> int | None:
    """0-based index for an option letter (case-insensitive), or None if it is not A..F."""
    cleaned = letter.strip().upper()
    if len(cleaned) != 1 or cleaned not in LETTERS:
        return None
    return LETTERS.index(cleaned)


def is_valid_id(value: str) -> bool:
    """True for ids safe to use in URLs and Redis keys."""
    return bool(ID_PATTERN.match(value))


def slugify(text: str) -> str:
    """ASCII id from a title ("Tập 1: Thể chế" -> "tap-1-the-che"), for sheet episode names."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    return slug[:64].rstrip("-")


@dataclass(frozen=True)
class Question:
    """One multiple-choice question; ``answer`` is the 0-based index of the correct option."""

    id: str
    text: str
    options: tuple[str, ...]
    answer: int
    time_limit: float = DEFAULT_TIME_LIMIT
    source: str = ""

    @property
    def answer_letter(self) -> str:
        """The correct option as the letter shown on screen."""
        return letter_for(self.answer)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the answer included: never send it to viewers before close)."""
        return {
            "id": self.id,
            "text": self.text,
            "options": list(self.options),
            "answer": self.answer,
            "time_limit": self.time_limit,
            "source": self.source,
        }


@dataclass(frozen=True)
class EpisodeDef:
    """An ordered selection of a bank's questions played in one show."""

    id: str
    title: str
    question_ids: tuple[str, ...]
    date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return {
            "id": self.id,
            "title": self.title,
            "question_ids": list(self.question_ids),
            "date": self.date,
        }


def default_episodes(title: str, questions: tuple[Question, ...]) -> tuple[EpisodeDef, ...]:
    """The single episode a bank gets when its file defines none: every question, in order."""
    return (EpisodeDef(DEFAULT_EPISODE_ID, title, tuple(q.id for q in questions)),)


@dataclass(frozen=True)
class Branding:
    """The organiser's logo and colours on the overlay: a bank's ``[branding]`` table, validated
    by :mod:`quiz_engine.banks.branding` (colours exactly ``#rrggbb``, the logo a checked image)."""

    primary: str | None = None  # "#rrggbb", lower case: the cards' band (panels derive from it)
    accent: str | None = None  # "#rrggbb": question number, option letters, timer
    logo: str | None = None  # as written in the bank: a file beside it, or a data: URL
    logo_url: str | None = None  # the logo as a data:image/…;base64 URL (what the overlay shows)

    def public(self) -> dict[str, str]:
        """What the overlay is sent (only the set values)."""
        out = {key: value for key in ("primary", "accent") if (value := getattr(self, key))}
        if self.logo_url:
            out["logo"] = self.logo_url
        return out


@dataclass(frozen=True)
class Bank:
    """A validated question bank: questions plus the episodes that use them.

    ``warnings`` are what validation noticed but does not refuse (e.g. a question too long to
    fit the overlay's lower third: :mod:`quiz_engine.banks.fit`)."""

    id: str
    title: str
    language: str
    questions: tuple[Question, ...]
    episodes: tuple[EpisodeDef, ...]
    branding: Branding | None = None
    warnings: tuple[BankProblem, ...] = field(default=(), compare=False)
    _questions_by_id: dict[str, Question] = field(init=False, repr=False, compare=False, hash=False)
    _episodes_by_id: dict[str, EpisodeDef] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Frozen dataclass: build the lookup indexes once, bypassing the frozen guard.
        object.__setattr__(self, "_questions_by_id", {q.id: q for q in self.questions})
        object.__setattr__(self, "_episodes_by_id", {e.id: e for e in self.episodes})

    def question(self, qid: str) -> Question:
        """The question with id ``qid``; raises :class:`NotFound`."""
        try:
            return self._questions_by_id[qid]
        except KeyError:
            raise NotFound(f"question {qid!r} not in bank {self.id!r}") from None

    def episode(self, episode_id: str) -> EpisodeDef:
        """The episode with id ``episode_id``; raises :class:`NotFound`."""
        try:
            return self._episodes_by_id[episode_id]
        except KeyError:
            raise NotFound(f"episode {episode_id!r} not in bank {self.id!r}") from None

    def episode_questions(self, episode_id: str) -> list[Question]:
        """The episode's questions in play order; raises :class:`NotFound`."""
        return [self.question(qid) for qid in self.episode(episode_id).question_ids]

    @property
    def has_default_episodes(self) -> bool:
        """True when the episodes are exactly the implicit "main" one (nothing to write out)."""
        return self.episodes == default_episodes(self.title, self.questions)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of everything, answers included (server/admin use only)."""
        return {
            "id": self.id,
            "title": self.title,
            "language": self.language,
            "questions": [q.to_dict() for q in self.questions],
            "episodes": [e.to_dict() for e in self.episodes],
        }
