"""The question banks a server can load episodes from."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from quiz_engine.banks.loader import discover_banks, load_bank
from quiz_engine.banks.model import Bank, Question
from quiz_engine.errors import NotFound
from quiz_engine.store.records import QuestionSpec

log = logging.getLogger(__name__)


def episode_key(bank: str, episode: str) -> str:
    """The Redis id of one bank episode (also its hash tag)."""
    return f"{bank}.{episode}"


def question_spec(q: Question) -> QuestionSpec:
    """What only the host and the scripts see: the answer, the option count, the time limit."""
    return QuestionSpec(q.answer, len(q.options), int(q.time_limit * 1000))


def question_public(q: Question) -> dict[str, Any]:
    """What viewers and the overlay may see once the question is open (never the answer)."""
    return {"id": q.id, "text": q.text, "options": list(q.options), "time_limit": q.time_limit}


def episode_meta(bank: Bank, episode_id: str) -> dict[str, Any]:
    """What Redis keeps about an episode beside its questions (titles, sources, ids)."""
    ep = bank.episode(episode_id)
    questions = bank.episode_questions(episode_id)
    return {
        "bank": bank.id,
        "episode": ep.id,
        "title": ep.title,
        "bank_title": bank.title,
        "language": bank.language,
        "date": ep.date,
        "sources": [q.source for q in questions],
        "ids": [q.id for q in questions],
        "branding": bank.branding.public() if bank.branding else None,  # the overlay's logo and colours
    }


class BankLibrary:
    def __init__(self, paths: list[Path]) -> None:
        self.banks: dict[str, Bank] = {}
        self.files: dict[str, Path] = {}
        for path in paths:
            files = discover_banks(path) if path.is_dir() else [path]
            for file in files:
                bank = load_bank(file)
                for warning in bank.warnings:  # e.g. a question too long for the overlay
                    log.warning("bank warning: %s", warning)
                self.banks[bank.id] = bank
                self.files[bank.id] = file

    def bank(self, bank_id: str) -> Bank:
        try:
            return self.banks[bank_id]
        except KeyError:
            raise NotFound(f"no bank '{bank_id}' (known: {', '.join(sorted(self.banks)) or 'none'})") from None

    def listing(self) -> list[dict[str, Any]]:
        return [
            {
                "id": b.id,
                "title": b.title,
                "language": b.language,
                "file": str(self.files[b.id]),
                "episodes": [
                    {"id": e.id, "title": e.title, "date": e.date, "questions": len(e.question_ids),
                     "key": episode_key(b.id, e.id)}
                    for e in b.episodes
                ],
            }
            for b in self.banks.values()
        ]
