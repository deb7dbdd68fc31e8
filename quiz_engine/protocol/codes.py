"""Codes that travel on the wire: close codes, error codes and answer rejection reasons.

Close codes tell a client whether to reconnect (see docs/protocol.md): ``FINAL_CODES``
mean "stop, fix the cause first", ``PAUSE_CODES`` "come back after a pause",
``RECONNECT_CODES`` "come back (with backoff)".
"""

from __future__ import annotations

from typing import Final

# --- WebSocket close codes -------------------------------------------------------------
CLOSE_NORMAL: Final = 1000
CLOSE_GOING_AWAY: Final = 1001  # server shutting down / redeploy: reconnect
CLOSE_PROTOCOL: Final = 1002
CLOSE_UNSUPPORTED: Final = 1003
CLOSE_TOO_BIG: Final = 1009  # frame over the size limit
CLOSE_INTERNAL: Final = 1011  # unexpected server error: reconnect
CLOSE_RESTART: Final = 1012  # service restart: reconnect
CLOSE_TRY_AGAIN: Final = 1013  # temporarily overloaded / Redis down: reconnect later
CLOSE_AUTH: Final = 4001  # missing or invalid token: do not reconnect with the same token
CLOSE_FORBIDDEN: Final = 4003  # origin not allowed / role may not do this
CLOSE_SLOW_CONSUMER: Final = 4008  # client did not read its socket fast enough: reconnect
CLOSE_POLICY: Final = 4009  # too many protocol errors or rate limit exceeded
CLOSE_REPLACED: Final = 4010  # the same player opened a newer connection

CLOSE_BAD_DATA: Final = 1007  # a text frame that is not UTF-8

# What a client does after each close code; the pages' socket.js holds the same two sets
# (tests/test_protocol_codes.py compares them). Anything not listed: reconnect with backoff.
FINAL_CODES: Final = frozenset(
    {CLOSE_NORMAL, CLOSE_PROTOCOL, CLOSE_UNSUPPORTED, CLOSE_BAD_DATA, CLOSE_TOO_BIG, CLOSE_AUTH, CLOSE_FORBIDDEN,
     CLOSE_REPLACED}
)
PAUSE_CODES: Final = frozenset({CLOSE_POLICY})  # throttled: come back after a pause only
RECONNECT_CODES: Final = frozenset(
    {CLOSE_GOING_AWAY, CLOSE_INTERNAL, CLOSE_RESTART, CLOSE_TRY_AGAIN, CLOSE_SLOW_CONSUMER, 1006}
)

# --- error codes (``error`` frames) ----------------------------------------------------
E_BAD_FRAME: Final = "bad_frame"  # not JSON/msgpack or not an object
E_UNKNOWN_TYPE: Final = "unknown_type"
E_BAD_FIELD: Final = "bad_field"  # missing or wrong-typed field
E_NOT_JOINED: Final = "not_joined"  # answer before join/resume
E_ALREADY_JOINED: Final = "already_joined"
E_BAD_TOKEN: Final = "bad_token"
E_RATE_LIMITED: Final = "rate_limited"
E_UNAVAILABLE: Final = "unavailable"  # Redis unreachable: try again

# --- answer rejection reasons (``ack`` frames with ok=false) ---------------------------
R_LATE: Final = "late"  # arrived after deadline + grace by Redis's clock
R_DUPLICATE: Final = "duplicate"  # this player already answered this question
R_NOT_OPEN: Final = "not_open"  # no question open (or not yet released to viewers)
R_WRONG_QUESTION: Final = "wrong_question"  # names a question that is not the open one
R_INVALID_OPTION: Final = "invalid_option"  # option index out of range
R_DISQUALIFIED: Final = "disqualified"
R_TRY_AGAIN: Final = "try_again"  # Redis unreachable; nothing was stored

REJECT_REASONS: Final = (
    R_LATE,
    R_DUPLICATE,
    R_NOT_OPEN,
    R_WRONG_QUESTION,
    R_INVALID_OPTION,
    R_DISQUALIFIED,
    R_TRY_AGAIN,
)
