"""One error tree for the whole engine.

Everything the engine raises on purpose derives from :class:`QuizError`, so callers can
catch one type and still tell the cases apart:

- :class:`ConfigError` — bad settings or command-line arguments; the process cannot start.
- :class:`RedisUnavailable` — Redis cannot be reached or started; callers answer "try again".
- :class:`BankError` — a question bank or spreadsheet is invalid; carries every problem found.
- :class:`PhaseError` — a host command that does not fit the current phase (HTTP 409).
- :class:`ProtocolError` — a client frame that cannot be decoded or is malformed; carries a
  wire error code from :mod:`quiz_engine.protocol.codes`.
- :class:`AuthError` — a missing, wrong or forged token.
- :class:`RateLimited` — too many wrong host tokens from one address (HTTP 429).
- :class:`NotFound` — an episode, question or player id that does not exist.
- :class:`EntryError` — an online contest's entry field refused (which field, why).
- :class:`AttemptRefused` — an online contest attempt that cannot start (closed, limit, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


class QuizError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(QuizError):
    """Invalid configuration; the message names the setting."""


class RedisUnavailable(QuizError):
    """Redis could not be reached or started."""


@dataclass(frozen=True)
class BankProblem:
    """One problem in a bank or sheet: where it is and what is wrong."""

    file: str
    location: str  # e.g. "question 3" or "row 7, column C"
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class BankError(QuizError):
    """A question bank (or sheet) failed validation; ``problems`` lists every issue."""

    def __init__(self, problems: list[BankProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems) or "invalid bank")


class PhaseError(QuizError):
    """A command that is not allowed in the current phase."""

    def __init__(self, phase: str, command: str, reason: str | None = None, code: str = "phase") -> None:
        self.phase = phase
        self.command = command
        self.code = code  # machine-readable: phase, stale, no_more_questions, ...
        self.reason = reason or f"'{command}' is not allowed in phase '{phase}'"
        super().__init__(self.reason)


class ProtocolError(QuizError):
    """A client frame that is malformed; ``code`` is the wire error code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class AuthError(QuizError):
    """Missing, wrong or forged credentials."""


class RateLimited(AuthError):
    """Too many wrong credentials from one address in a minute."""


class NotFound(QuizError):
    """An id that does not exist."""


class EntryError(QuizError):
    """A field a contest participant typed is refused; ``field`` and ``reason`` are for the page."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(message)


class AttemptRefused(QuizError):
    """A contest attempt cannot start: ``reason`` closed | limit | in_progress (with ``attempt``) | ..."""

    def __init__(self, reason: str, message: str, attempt: str = "") -> None:
        self.reason, self.attempt = reason, attempt
        super().__init__(message)
