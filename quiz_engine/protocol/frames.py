"""Client frame parsing and validation; every field checked, unknown fields ignored.

Parsing returns small typed objects so the server never touches raw client dicts. Any
client-supplied time is ignored on purpose: the server is the only clock that decides.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

from quiz_engine.errors import ProtocolError
from quiz_engine.protocol.codes import E_BAD_FIELD, E_UNKNOWN_TYPE

MAX_NAME_CHARS: Final = 32
MAX_TEXT_CHARS: Final = 80
MAX_PHONE_CHARS: Final = 20
MAX_REF_CHARS: Final = 32
MAX_TOKEN_CHARS: Final = 200
PROFILE_FIELDS: Final = ("name", "full_name", "unit", "phone")

# Zero-width, bidi controls, BOM and other invisible format characters (Unicode "Cf"),
# plus control characters ("Cc"): stripped so names cannot spoof or hide text.
_PHONE_RE: Final = re.compile(r"^\+?[0-9][0-9 .\-]{5,18}[0-9]$")
# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE, U+FFFF): one
# of them in a name would make every .xlsx export unreadable, so a join carrying one is refused
XML_FORBIDDEN_RE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Categorised as letters (Lo) or a symbol, yet rendered empty: Hangul fillers and the braille blank
BLANK_LOOKING: Final = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# fields shown to people as "who this is": must contain something visible (docs/protocol.md, join)
_NEEDS_VISIBLE: Final = ("name", "full_name")


@dataclass(frozen=True)
class Join:
    profile: dict[str, str]
    ref: str | None
    src: str | None = None  # the join link's source tag (?src=), kept only if the show lists it


@dataclass(frozen=True)
class Resume:
    token: str
    ref: str | None


@dataclass(frozen=True)
class Answer:
    question: int
    option: int
    ref: str | None


@dataclass(frozen=True)
class Ping:
    t: float | None  # echoed back untouched; never used for any decision


@dataclass(frozen=True)
class Sync:
    ref: str | None


ClientFrame = Join | Resume | Answer | Ping | Sync


def clean_text(value: str, max_chars: int) -> str:
    """NFC-normalize, drop invisible/control characters, collapse spaces, cap length."""
    value = unicodedata.normalize("NFC", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in ("Cf", "Cc"))
    value = " ".join(value.split())
    return value[:max_chars].strip()


def has_visible(value: str) -> bool:
    """True if ``value`` has a letter or digit that renders (Unicode L* or N*, minus the fillers).

    A name made only of fillers, combining marks or symbols like U+FFFC looks blank on
    screen, so it could stand in for anyone; it is refused at join.
    """
    return any(unicodedata.category(ch)[0] in "LN" and ch not in BLANK_LOOKING for ch in value)


MAX_SRC_CHARS = 32


def _int(frame: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = frame.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProtocolError(E_BAD_FIELD, f"'{key}' must be an integer")
    if not lo <= value <= hi:
        raise ProtocolError(E_BAD_FIELD, f"'{key}' must be between {lo} and {hi}")
    return value


def _opt_str(frame: dict[str, Any], key: str, max_chars: int) -> str | None:
    value = frame.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProtocolError(E_BAD_FIELD, f"'{key}' must be a string")
    if len(value) > max_chars:
        raise ProtocolError(E_BAD_FIELD, f"'{key}' longer than {max_chars} characters")
    return value


def parse_profile(frame: dict[str, Any], required: tuple[str, ...]) -> dict[str, str]:
    """Validate join fields; ``required`` names the show's mandatory fields."""
    caps = {"name": MAX_NAME_CHARS, "full_name": MAX_TEXT_CHARS, "unit": MAX_TEXT_CHARS,
            "phone": MAX_PHONE_CHARS}
    profile: dict[str, str] = {}
    for key in PROFILE_FIELDS:
        raw = frame.get(key)
        if raw is None or raw == "":
            if key in required or key == "name":
                raise ProtocolError(E_BAD_FIELD, f"'{key}' is required")
            continue
        if not isinstance(raw, str):
            raise ProtocolError(E_BAD_FIELD, f"'{key}' must be a string")
        if len(raw) > caps[key] * 4:
            raise ProtocolError(E_BAD_FIELD, f"'{key}' is too long (max {caps[key]} characters)")
        if bad := XML_FORBIDDEN_RE.search(raw):
            raise ProtocolError(E_BAD_FIELD, f"'{key}' contains a character that is not allowed "
                                             f"(U+{ord(bad.group()):04X})")
        value = clean_text(raw, caps[key])
        if not value:
            raise ProtocolError(E_BAD_FIELD, f"'{key}' is empty after removing invisible characters")
        if key in _NEEDS_VISIBLE and not has_visible(value):
            raise ProtocolError(E_BAD_FIELD, f"'{key}' needs at least one visible letter or digit")
        if key == "phone" and not _PHONE_RE.match(value):
            raise ProtocolError(E_BAD_FIELD, "'phone' must be digits, optionally with +, spaces or dashes")
        profile[key] = value
    return profile


def parse_client_frame(frame: dict[str, Any], required: tuple[str, ...] = ()) -> ClientFrame:
    """Turn a decoded viewer frame into a typed command or raise ProtocolError."""
    kind = frame.get("type")
    ref = _opt_str(frame, "ref", MAX_REF_CHARS)
    if kind == "answer":
        return Answer(question=_int(frame, "question", 0, 999), option=_int(frame, "option", 0, 99), ref=ref)
    if kind == "ping":
        t = frame.get("t")
        return Ping(t=float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) and abs(t) < 1e15 else None)
    if kind == "join":
        return Join(profile=parse_profile(frame, required), ref=ref, src=_opt_str(frame, "src", MAX_SRC_CHARS))
    if kind == "resume":
        token = _opt_str(frame, "token", MAX_TOKEN_CHARS)
        if not token:
            raise ProtocolError(E_BAD_FIELD, "'token' is required")
        return Resume(token=token, ref=ref)
    if kind == "sync":
        return Sync(ref=ref)
    if not isinstance(kind, str):
        raise ProtocolError(E_BAD_FIELD, "'type' must be a string")
    raise ProtocolError(E_UNKNOWN_TYPE, f"unknown frame type '{kind[:32]}'")
