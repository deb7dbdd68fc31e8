"""What each role may say on its socket: viewers join and answer, overlay and host only read.

A session gets whole messages from its connection (``web/wsconn.py``), synchronously, right
where they are read. What it can answer on the spot it answers there (answers go into the
Redis batch with a callback for the ack, pings are ponged, bad frames get an ``error``);
what needs Redis before its reply (join, resume, sync) or a close is *deferred*: it runs in
a task, and until that task is done later messages wait behind it in arrival order, so a
client sees its replies in order. Nothing a client sends can raise out of a session: a bad
frame gets an ``error`` frame with a code, and a client that keeps sending bad frames or
floods is closed with 4009.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.errors import AuthError, ProtocolError, RedisUnavailable
from quiz_engine.limits import TokenBucket
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codes import (
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN,
    E_ALREADY_JOINED,
    E_BAD_FIELD,
    E_BAD_TOKEN,
    E_RATE_LIMITED,
    E_UNAVAILABLE,
)
from quiz_engine.protocol.frames import Answer, Join, Ping, Resume, Sync, parse_client_frame

if TYPE_CHECKING:
    from quiz_engine.clock import NodeClock
    from quiz_engine.config import Settings
    from quiz_engine.hub import Role
    from quiz_engine.limits import PerIp
    from quiz_engine.live.answers import AnswerDesk
    from quiz_engine.live.viewers import ViewerDesk
    from quiz_engine.web.wsconn import WebSocketConnection

log = logging.getLogger("quiz_engine.web")

MAX_ERRORS = 20
RATE_EXCESS_CLOSE = 60
PAUSE_AT = 64  # messages waiting behind a deferred one before the socket stops reading

Deferred = tuple[str, Any, Any]


class SessionNode(Protocol):
    """All a socket session uses of its node (the runner provides it)."""

    settings: Settings
    clock: NodeClock
    ip_joins: PerIp
    viewers: ViewerDesk
    answers: AnswerDesk

    @property
    def required_fields(self) -> tuple[str, ...]: ...

    def hello(self, role: Role) -> dict[str, Any]: ...  # (kind, argument, ref): "join", "sync", "hello", "close"


class RoleSession:
    """The ordering and the rate limit every role shares; ``handle`` is the role's own."""

    __slots__ = ("bucket", "busy", "conn", "errors", "queue", "runner")

    def __init__(self, runner: SessionNode, conn: WebSocketConnection) -> None:
        self.runner = runner
        self.conn = conn
        self.bucket = TokenBucket(runner.settings.messages_per_s, runner.settings.message_burst)
        self.errors = 0
        self.busy = False  # a deferred message is running in its task
        self.queue: deque[tuple[bytes | str, int]] | None = None  # messages behind it (created when needed)

    def start(self) -> None:
        """The handshake is done: hello and the snapshot, before anything the client sends."""
        self.conn.send(self.runner.hello(self.conn.role))
        self._defer(("hello", None, None))

    def on_message(self, payload: bytes | str, arrival_us: int) -> None:
        if self.busy:
            if self.queue is None:
                self.queue = deque()
            self.queue.append((payload, arrival_us))
            if len(self.queue) == PAUSE_AT:
                self.conn.pause(True)
            return
        try:
            deferred = self.handle(payload, arrival_us)
        except Exception:  # never raise into the transport's callback
            log.exception("%s frame failed", self.conn.role.value)
            deferred = ("close", CLOSE_INTERNAL, "internal error")
        if deferred is not None:
            self._defer(deferred)

    def on_close(self) -> None:
        self.queue = None

    def handle(self, data: bytes | str, arrival: int) -> Deferred | None:
        raise NotImplementedError

    def _over_limit(self, tell: bool) -> Deferred | None:
        """A message past the rate limit: dropped (with an ``error`` if ``tell``), or the
        socket closed once the client keeps going far past it."""
        if tell:
            self.conn.send(F.error(E_RATE_LIMITED, "too many messages; slow down"))
        if self.bucket.excess > RATE_EXCESS_CLOSE:
            return ("close", CLOSE_POLICY, "rate limit exceeded")
        return None

    def _bad(self, exc: ProtocolError, ref: str | None) -> Deferred | None:
        self.errors += 1
        metrics.PROTOCOL_ERRORS.labels(exc.code).inc()
        self.conn.send(F.error(exc.code, str(exc), ref))
        if self.errors > MAX_ERRORS:
            return ("close", CLOSE_POLICY, "too many bad frames")
        return None

    # --- deferred messages -----------------------------------------------------------------------
    def _defer(self, deferred: Deferred) -> None:
        self.busy = True
        task = asyncio.get_running_loop().create_task(self._work(deferred))
        _running.add(task)
        task.add_done_callback(_running.discard)

    async def _work(self, deferred: Deferred | None) -> None:
        """Run a deferred message, then the messages that waited behind it, in order."""
        try:
            while deferred is not None:
                if not await self.run(deferred):
                    self.queue = None
                    return
                deferred = None
                while deferred is None and self.queue:
                    payload, arrival = self.queue.popleft()
                    if len(self.queue) == PAUSE_AT - 1:
                        self.conn.pause(False)
                    deferred = self.handle(payload, arrival)
        except Exception:
            log.exception("%s socket failed", self.conn.role.value)
            await self.conn.close(CLOSE_INTERNAL, "internal error")
        finally:
            self.busy = False

    async def run(self, deferred: Deferred) -> bool:
        """Finish a deferred message; False once the socket is closed."""
        conn, runner = self.conn, self.runner
        kind, arg, ref = deferred
        if kind == "close":
            await conn.close(arg, ref)
            return False
        try:
            if kind == "hello":
                try:
                    conn.send(await runner.viewers.snapshot(conn))
                except RedisUnavailable:
                    await conn.close(CLOSE_TRY_AGAIN, "service unavailable, try again")
                    return False
                return True
            if kind == "join":
                try:
                    welcome = await runner.viewers.join(conn, arg)
                except AuthError:
                    conn.send(F.error(E_BAD_TOKEN, "resume token is not valid; join again", ref))
                    return True
                conn.send({**welcome, "ref": ref})
            conn.send(await runner.viewers.snapshot(conn))
        except RedisUnavailable:
            conn.send(F.error(E_UNAVAILABLE, "service temporarily unavailable; try again", ref))
        return True


_running: set[asyncio.Task[None]] = set()  # deferred work in flight (a task needs a strong reference)


class ViewerSession(RoleSession):
    """Answers and pings on the spot; join, resume and sync deferred."""

    __slots__ = ()

    def handle(self, data: bytes | str, arrival: int) -> Deferred | None:
        conn, runner = self.conn, self.runner
        if not self.bucket.take():
            return self._over_limit(tell=True)
        ref = None
        try:
            decoded = conn.codec.decode(data)
            raw_ref = decoded.get("ref")
            ref = raw_ref if isinstance(raw_ref, str) and len(raw_ref) <= 32 else None
            frame = parse_client_frame(decoded, runner.required_fields)
            if isinstance(frame, Answer):
                runner.answers.answer_soon(conn, frame, arrival, self._acked(arrival))
            elif isinstance(frame, Ping):
                conn.send(F.pong(frame.t, runner.clock.now_ms()))
            elif isinstance(frame, (Join, Resume)):
                if conn.player is not None:
                    raise ProtocolError(E_ALREADY_JOINED, "this connection has already joined")
                if isinstance(frame, Join) and not runner.ip_joins.take(conn.ip):
                    conn.send(F.error(E_RATE_LIMITED, "too many joins from your network; retry shortly", ref))
                    return None
                return ("join", frame, ref)
            elif isinstance(frame, Sync):
                return ("sync", frame, ref)
        except ProtocolError as exc:
            return self._bad(exc, ref)
        return None

    def _acked(self, arrival: int) -> Callable[[dict[str, Any]], None]:
        conn = self.conn

        def reply(ack: dict[str, Any]) -> None:
            conn.send(ack)
            metrics.ACK_LATENCY.observe((mono_us() - arrival) / 1e6)

        return reply

    def on_close(self) -> None:
        super().on_close()
        self.runner.viewers.forget(self.conn)


class ReadOnlySession(RoleSession):
    """Overlay and host sockets: pings and syncs; everything else is refused (the host acts
    through the HTTP API, where each command is authenticated and CSRF-checked)."""

    __slots__ = ()

    def handle(self, data: bytes | str, arrival: int) -> Deferred | None:
        conn = self.conn
        if not self.bucket.take():
            return self._over_limit(tell=False)
        try:
            frame = parse_client_frame(conn.codec.decode(data))
        except ProtocolError as exc:
            conn.send(F.error(exc.code, str(exc)))
            return None
        if isinstance(frame, Ping):
            conn.send(F.pong(frame.t, self.runner.clock.now_ms()))
        elif isinstance(frame, Sync):
            return ("sync", frame, None)
        else:
            conn.send(F.error(E_BAD_FIELD, f"{conn.role.value} sockets are read-only; use the host API"))
        return None
