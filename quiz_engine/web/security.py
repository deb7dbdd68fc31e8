"""Request-level security: host authentication (bearer token, or a Redis-backed session
cookie + CSRF header), WebSocket origin checks and the Content-Security-Policy."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request

from quiz_engine.errors import AuthError, RateLimited
from quiz_engine.tokens import csrf_token, same

if TYPE_CHECKING:
    from quiz_engine.limits import AuthGuard
    from quiz_engine.runner import Runner
    from quiz_engine.store.redis_store import Store

SESSION_COOKIE = "qe_host"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 12 * 3600

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class HostAuth(Protocol):
    """What checking a host credential needs of the node."""

    host_token: str
    auth_guard: AuthGuard
    store: Store


async def new_session(runner: Runner) -> tuple[str, str]:
    """(cookie value, csrf token) for a freshly logged-in host; the session lives in Redis
    so any node accepts it and logout revokes it everywhere (a replayed cookie is refused)."""
    session = secrets.token_urlsafe(32)
    await runner.store.start_session(session, SESSION_TTL_S)
    return session, csrf_token(runner.secret, session)


async def end_session(runner: Runner, session: str) -> None:
    await runner.store.end_session(session)


def peer(conn: HTTPConnection) -> str:
    """The client address the per-address limits count (the trusted proxy's forwarded one)."""
    return conn.client.host if conn.client else "?"


class Credentials(NamedTuple):
    """What a host request or host socket handshake presents: the same checks for both."""

    authorization: str  # the Authorization header ("" if none)
    session: str  # the session cookie's value ("" if none)
    ip: str  # the client address the failure allowance counts

    @classmethod
    def of(cls, conn: HTTPConnection) -> Credentials:
        return cls(conn.headers.get("authorization", ""), conn.cookies.get(SESSION_COOKIE, ""), peer(conn))


async def host_session(cred: Credentials, runner: HostAuth) -> str | None:
    """The session id of a logged-in host panel, or None. A cookie that names no live session
    counts as a wrong credential for the address (see :class:`~quiz_engine.limits.AuthGuard`)."""
    value = cred.session
    if not value:
        return None
    await runner.auth_guard.pace(cred.ip)
    if len(value) <= 100 and await runner.store.session_exists(value):
        return value
    if not runner.auth_guard.failed(cred.ip):
        raise RateLimited("too many wrong host tokens from your address; wait a minute")
    return None


async def check_bearer(cred: Credentials, runner: HostAuth) -> bool | None:
    """True/False for a right/wrong ``Authorization: Bearer`` token, None if there is none.
    A wrong one spends the address's allowance; past it this raises RateLimited."""
    auth = cred.authorization
    if not auth.lower().startswith("bearer "):
        return None
    await runner.auth_guard.pace(cred.ip)
    if same(auth[7:].strip(), runner.host_token):
        return True
    if not runner.auth_guard.failed(cred.ip):
        raise RateLimited("too many wrong host tokens from your address; wait a minute")
    return False


async def authenticate_host(request: Request, runner: Runner, *, mutating: bool) -> str:
    """Return who is acting ("bearer" or "session"); raise AuthError otherwise.

    Bearer requests (curl, Stream Deck) carry the token on each call and need no CSRF
    defence; cookie sessions must echo the CSRF token in a header on every POST, which a
    cross-site form cannot do (and SameSite=Strict keeps the cookie off cross-site posts).
    """
    cred = Credentials.of(request)
    bearer = await check_bearer(cred, runner)
    if bearer is not None:
        if bearer:
            return "bearer"
        raise AuthError("wrong host token")
    session = await host_session(cred, runner)
    if session is None:
        raise AuthError("host token required (Authorization: Bearer …) or log in")
    if mutating and not same(request.headers.get(CSRF_HEADER, ""), csrf_token(runner.secret, session)):
        raise AuthError("missing or wrong CSRF token")
    return "session"


class HostCheck:
    """Which ``Host`` headers this server answers to (DNS rebinding: a hostile page whose name
    resolves to this server must not be served, nor pass the same-host origin check).

    Always: the public URL's host, localhost and IP literals (a LAN show by address); plus
    this machine's own name and ``--allowed-host`` names; ``*`` allows any. Ports are ignored.
    """

    def __init__(self, allowed: tuple[str, ...], public_url: str | None) -> None:
        self.any = "*" in allowed
        names = {n.lower().rstrip(".") for n in allowed if n != "*"}
        names |= {"localhost", socket.gethostname().lower()}
        if public_url and urlsplit(public_url).hostname:
            names.add(str(urlsplit(public_url).hostname).lower())
        self.names = frozenset(names)

    def __call__(self, host: str) -> bool:
        if self.any:
            return True
        name = host.lower()
        if name.startswith("["):  # [v6]:port
            name = name[1 : name.find("]")] if "]" in name else name
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]
        name = name.rstrip(".")
        if name in self.names or name.endswith(".localhost"):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True


def public_origin(public_url: str | None) -> tuple[str, ...]:
    """The origin (scheme://host[:port]) of the public URL: always allowed, since the pages
    are served from there even when a proxy rewrites the Host header."""
    if not public_url:
        return ()
    parts = urlsplit(public_url)
    return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme and parts.netloc else ()


def origin_allowed(origin: str | None, host: str, allowed: tuple[str, ...], public: tuple[str, ...] = ()) -> bool:
    """WebSocket handshakes: the Origin must be this host, the public URL's, or be listed
    (``--allowed-origin``; the list adds origins, as docs/protocol.md says).

    Clients that send no Origin (native apps, scripts) are allowed; browsers always send one.
    Comparison is exact (scheme, host and port), so look-alikes such as
    ``http://quiz.example.com.evil.net`` never match.
    """
    if origin is None:
        return True
    if origin in public:
        return True
    if allowed and (origin in allowed or "*" in allowed):
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == host
