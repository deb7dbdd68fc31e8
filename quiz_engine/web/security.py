"""Request-level security: host authentication (bearer token or session cookie + CSRF),
WebSocket origin checks and the Content-Security-Policy for the pages."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from quiz_engine.errors import AuthError
from quiz_engine.tokens import check_session_token, csrf_token, same, session_token

SESSION_COOKIE = "qe_host"
CSRF_HEADER = "x-csrf-token"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def new_session(secret: str) -> tuple[str, str]:
    """(cookie value, csrf token) for a freshly logged-in host."""
    session = session_token(secret, secrets.token_urlsafe(18))
    return session, csrf_token(secret, session)


def host_session(conn: HTTPConnection, secret: str) -> str | None:
    value = conn.cookies.get(SESSION_COOKIE, "")
    return value if value and check_session_token(secret, value) else None


def authenticate_host(request: Request, host_token: str, secret: str, *, mutating: bool) -> str:
    """Return who is acting ("bearer" or "session"); raise AuthError otherwise.

    Bearer requests (curl, Stream Deck) carry the token on each call and need no CSRF
    defence; cookie sessions must echo the CSRF token in a header on every POST, which a
    cross-site form cannot do.
    """
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        if same(auth[7:].strip(), host_token):
            return "bearer"
        raise AuthError("wrong host token")
    session = host_session(request, secret)
    if session is None:
        raise AuthError("host token required (Authorization: Bearer …) or log in")
    if mutating and not same(request.headers.get(CSRF_HEADER, ""), csrf_token(secret, session)):
        raise AuthError("missing or wrong CSRF token")
    return "session"


def origin_allowed(conn: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    """WebSocket handshakes: the Origin must be listed, or (with no list) be this host.

    Clients that send no Origin (native apps, scripts) are allowed; browsers always send one.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    if allowed:
        return origin in allowed or "*" in allowed
    if origin == "null":
        return False
    host = conn.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host
