"""Logging: plain text for people, JSON lines for log shippers; tokens always redacted.

Log records may carry ``episode``, ``question``, ``player``, ``command``, ``seq`` as
``extra``; the JSON format emits them as fields. Query-string tokens (the overlay's
display token) are replaced by ``***`` in every message, access logs included.
"""

from __future__ import annotations

import json
import logging
import re
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
