"""Logging: plain text for people, JSON lines for log shippers; tokens always redacted.

Log records may carry ``episode``, ``question``, ``player``, ``command``, ``seq`` as
``extra``; the JSON format emits them as fields. Query-string tokens (the overlay's
display token) are replaced by ``***`` in every message, access logs included.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

_TOKEN_RE = re.compile(r"((?:token|csrf)=)[^&\s\"']+", re.IGNORECASE)
_BEARER_RE = re.compile(r"(bearer\s+)\S+", re.IGNORECASE)
_FIELDS = ("episode", "question", "player", "command", "seq", "role", "node")


def redact(text: str) -> str:
    return _BEARER_RE.sub(r"\1***", _TOKEN_RE.sub(r"\1***", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_config(level: str, fmt: str) -> dict[str, Any]:
    """A logging dictConfig for uvicorn and the engine (``fmt``: "text" or "json")."""
    formatter: dict[str, Any] = (
        {"()": "quiz_engine.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "filters": ["redact"],
               "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": "quiz_engine.logs.RedactTokens"}},
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "loggers": {
            "uvicorn": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": ["main"], "level": level.upper(), "propagate": False},
            "quiz_engine": {"handlers": ["main"], "level": level.upper(), "propagate": False},
        },
    }


class Summarised:
    """One short log line per ``period_s`` for a kind of client misbehaviour, with the count
    of the ones not logged: a hostile client can make a node log one line a minute, not one
    traceback per frame (a log flood is an attack on the disk and on whoever reads the logs)."""

    def __init__(self, logger: logging.Logger, message: str, period_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger, self.message, self.period_s, self.clock = logger, message, period_s, clock
        self.next_at = 0.0
        self.suppressed = 0

    def __call__(self, detail: str = "") -> None:
        now = self.clock()
        if now < self.next_at:
            self.suppressed += 1
            return
        more = f" ({self.suppressed} more since the last line)" if self.suppressed else ""
        self.logger.warning("%s%s%s", self.message, f": {detail}" if detail else "", more)
        self.next_at, self.suppressed = now + self.period_s, 0
