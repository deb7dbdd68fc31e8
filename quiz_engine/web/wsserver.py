"""The node's WebSocket endpoints: handshakes for ``/ws/viewer``, ``/ws/overlay`` and ``/ws/host``.

The front door hands every ``/ws/...`` request here with its transport; the answer is
websockets' own (``ServerProtocol.accept``: 101, or 400/426 for a bad handshake, 404 for an
unknown path). The checks of a valid handshake end in a close code rather than an HTTP
status, because a browser can read only the former: the ``Host`` allow-list and the
``Origin`` (4003), the overlay's display token and the host's credentials (4001; 4009 past
the wrong-token allowance; 1013 while Redis is away) and the per-address connection cap
(4009). Then the socket joins the hub and gets its role's session (``web/sessions.py``),
which sends ``hello`` and the snapshot before anything else.

Most sockets arrive as the first request of a connection, through the front door. A proxy
that keeps its upstream connections alive (nginx with ``keepalive``) may send an upgrade as a
*later* request of a connection uvicorn already serves: uvicorn then hands it to its ``ws``
protocol class, which is :class:`KeptAliveUpgrade` (uvicorn's documented ``ws=`` setting),
and that hands it here the same way.

A keepalive sweep pings sockets that have been silent for a minute and drops those silent
for 90 s (a phone that lost its network without closing), one timer for the whole node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from quiz_engine.clock import mono_us
from quiz_engine.errors import RateLimited, RedisUnavailable
from quiz_engine.hub import Role
from quiz_engine.protocol.codec import MAX_FRAME_BYTES, codec_for_subprotocol, pick_subprotocol
from quiz_engine.protocol.codes import CLOSE_AUTH, CLOSE_FORBIDDEN, CLOSE_POLICY, CLOSE_TRY_AGAIN
from quiz_engine.web.frontdoor import SOCKETS_KEY
from quiz_engine.web.security import (
    SESSION_COOKIE,
    Credentials,
    HostAuth,
    HostCheck,
    check_bearer,
    host_session,
    origin_allowed,
    public_origin,
)
from quiz_engine.web.sessions import ReadOnlySession, RoleSession, SessionNode, ViewerSession
from quiz_engine.web.wsconn import WebSocketConnection

if TYPE_CHECKING:
    from quiz_engine.hub import Hub
    from quiz_engine.limits import ConnCounter
    from quiz_engine.web.frontdoor import Trusted

log = logging.getLogger("quiz_engine.web")
# websockets logs every open and close at INFO: tens of thousands of lines per show
_ws_log = logging.getLogger("quiz_engine.websockets")
_ws_log.setLevel(logging.WARNING)

ROUTES = {"/ws/viewer": Role.VIEWER, "/ws/overlay": Role.OVERLAY, "/ws/host": Role.HOST}
PING_AFTER_S = 60  # silent this long: a protocol ping
DROP_AFTER_S = 90  # silent this long (the ping unanswered): the socket is dropped
SWEEP_S = 15

BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
               b"content-length: 33\r\nconnection: close\r\n\r\nnot a valid WebSocket handshake.\n")


def _select(protocol: ServerProtocol, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    chosen = pick_subprotocol(list(offered))
    return Subprotocol(chosen) if chosen is not None else None


def _respond(proto: ServerProtocol, transport: asyncio.Transport, response: Response) -> None:
    proto.send_response(response)
    for data in proto.data_to_send():
        if data:  # (an empty one is websockets' "end of stream" after a refusal: the caller closes)
            transport.write(data)


def forwarded_client(peer: str, headers: Headers, trusted: Trusted) -> str:
    """The client address: the peer's, or through trusted proxies the right-most address of
    ``X-Forwarded-For`` that is not a trusted proxy itself (uvicorn's rule for HTTP)."""
    if peer not in trusted:
        return peer
    hops = [h.strip() for value in headers.get_all("X-Forwarded-For") for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


def _cookie(headers: Headers, name: str) -> str:
    for value in headers.get_all("Cookie"):
        for part in value.split(";"):
            key, _, val = part.strip().partition("=")
            if key == name:
                return val.strip()
    return ""


class SocketNode(SessionNode, HostAuth, Protocol):
    """All the socket layer uses of its node: the sessions' part, host authentication, the
    hub and the per-address connection count."""

    hub: Hub
    ip_conns: ConnCounter

    def check_overlay_token(self, token: str) -> bool: ...


class KeptAliveUpgrade(asyncio.Protocol):
    """uvicorn's ``ws`` protocol class: an upgrade on a kept-alive connection, handed to the
    node's socket layer found in the lifespan state (uvicorn passes it as ``app_state``)."""

    def __init__(self, app_state: dict[str, Any] | None = None, **_: Any) -> None:
        self.sockets: SocketServer | None = (app_state or {}).get(SOCKETS_KEY)
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.conn: asyncio.Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.conn is not None:  # only if a server version set this protocol after ours
            self.conn.data_received(data)
            return
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.transport is None:
            return
        head, rest = self.buffer[: end + 4], self.buffer[end + 4 :]
        self.buffer = b""
        if self.sockets is None:
            self.transport.write(BAD_REQUEST)
            self.transport.close()
            return
        self.sockets.accept(self.transport, head, rest)
        self.conn = self.transport.get_protocol()  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None and self.conn is not self:
            self.conn.connection_lost(exc)


class SocketServer:
    """Owns the node's WebSocket handshakes and the keepalive sweep."""

    def __init__(self, runner: SocketNode, host_check: HostCheck, trusted: Trusted, fast: bool = True) -> None:
        self.runner = runner
        self.settings = runner.settings
        self.host_check = host_check
        self.trusted = trusted
        self.fast = fast  # the small-frame fast path (off: every frame through websockets' parser)
        self.public = public_origin(self.settings.public_url)
        self._sweeper: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="ws-keepalive")

    async def stop(self) -> None:
        for task in [self._sweeper, *self._pending]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- the handshake ---------------------------------------------------------------------------
    def accept(self, transport: asyncio.Transport, head: bytes, rest: bytes) -> None:
        """Answer the handshake in ``head`` on ``transport`` (the front door's bytes after it: ``rest``)."""
        proto = ServerProtocol(select_subprotocol=_select, max_size=MAX_FRAME_BYTES, logger=_ws_log)
        proto.receive_data(head)
        events = proto.events_received()
        request = events[0] if events else None
        if not isinstance(request, Request):  # not a parseable HTTP request: websockets sends nothing
            transport.write(BAD_REQUEST)
            transport.close()
            return
        path, _, query = request.path.partition("?")
        role = ROUTES.get(path)
        response = proto.reject(404, "no such WebSocket endpoint\n") if role is None else proto.accept(request)
        if response.status_code != 101 or role is None:
            _respond(proto, transport, response)
            transport.close()
            return
        peer = transport.get_extra_info("peername")
        ip = forwarded_client(str(peer[0]) if isinstance(peer, tuple) and peer else "?", request.headers, self.trusted)
        conn = WebSocketConnection(transport, proto, role, codec_for_subprotocol(proto.subprotocol), ip,
                                   max_buffer=self.settings.max_buffer_bytes, fast=self.fast)
        transport.set_protocol(conn)
        _respond(proto, transport, response)
        headers = request.headers
        if not self.host_check(headers.get("Host", "")):
            conn.shut(CLOSE_FORBIDDEN, "host not allowed", abort=False)
        elif not origin_allowed(headers.get("Origin"), headers.get("Host", ""), self.settings.allowed_origins,
                                self.public):
            conn.shut(CLOSE_FORBIDDEN, "origin not allowed", abort=False)
        elif role is Role.OVERLAY and not self.runner.check_overlay_token(parse_qs(query).get("token", [""])[0]):
            conn.shut(CLOSE_AUTH, "wrong display token", abort=False)
        elif role is Role.HOST:
            transport.pause_reading()  # until the credentials are checked (Redis)
            cred = Credentials(headers.get("Authorization", ""), _cookie(headers, SESSION_COOKIE), ip)
            task = asyncio.get_running_loop().create_task(self._host(conn, cred, rest))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        else:
            self._open(conn, rest)

    async def _host(self, conn: WebSocketConnection, cred: Credentials, rest: bytes) -> None:
        try:
            try:
                ok = await check_bearer(cred, self.runner) or await host_session(cred, self.runner) is not None
            finally:
                conn.pause(False)  # read again: the session's frames, or the close reply to a refusal
        except RateLimited:
            conn.shut(CLOSE_POLICY, "too many wrong host tokens; wait a minute", abort=False)
            return
        except RedisUnavailable:
            conn.shut(CLOSE_TRY_AGAIN, "service unavailable, try again", abort=False)
            return
        if not ok:
            conn.shut(CLOSE_AUTH, "host token required", abort=False)
            return
        self._open(conn, rest)

    def _open(self, conn: WebSocketConnection, rest: bytes) -> None:
        runner = self.runner
        if conn.closed or conn.transport.is_closing():
            return
        if not runner.ip_conns.acquire(conn.ip):
            conn.shut(CLOSE_POLICY, "too many connections from your network", abort=False)
            return
        conn.owner = self
        runner.hub.add(conn)
        session: RoleSession = (ViewerSession if conn.role is Role.VIEWER else ReadOnlySession)(runner, conn)
        conn.session = session
        session.start()
        if rest:
            conn.data_received(rest)

    def gone(self, conn: WebSocketConnection) -> None:
        """A socket that joined the hub has closed (``connection_lost``)."""
        self.runner.hub.remove(conn)
        self.runner.ip_conns.release(conn.ip)

    # --- keepalive -------------------------------------------------------------------------------
    async def _sweep(self) -> None:
        hub = self.runner.hub
        while True:
            await asyncio.sleep(SWEEP_S)
            now = mono_us()
            for role in Role:
                for conn in list(hub.conns[role]):
                    if not isinstance(conn, WebSocketConnection):
                        continue
                    silent_s = (now - conn.last_rx) / 1e6
                    if silent_s >= DROP_AFTER_S:
                        conn.transport.abort()
                    elif silent_s >= PING_AFTER_S:
                        conn.ping()
