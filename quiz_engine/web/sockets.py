"""WebSocket endpoints: viewers (join, answer), overlay (read-only) and host (live view).

Each endpoint is a thin loop: decode, parse, hand to the runner, send the reply. A bad
frame gets an ``error`` frame with a code; a client that keeps sending bad frames or
floods is closed with 4009. Nothing a client sends can raise out of the loop.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.errors import AuthError, ProtocolError, RateLimited, RedisUnavailable
from quiz_engine.hub import Conn, Role
from quiz_engine.limits import TokenBucket
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codec import codec_for_subprotocol, pick_subprotocol
from quiz_engine.protocol.codes import (
    CLOSE_AUTH,
    CLOSE_FORBIDDEN,
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
from quiz_engine.runner import Runner
from quiz_engine.web.security import check_bearer, host_session, origin_allowed, public_origin

log = logging.getLogger("quiz_engine.web")

MAX_ERRORS = 20
RATE_EXCESS_CLOSE = 60

# keys of the receive messages the viewer hook hands to the endpoint loop (see ViewerSession)
DEFERRED = "quiz.deferred"
RAW = "quiz.raw"
ARRIVAL = "quiz.arrival"
Deferred = tuple[str, Any, Any]


def _payload(message: Message) -> bytes | str:
    data = message.get("bytes")
    if data is not None:
        return bytes(data)
    return str(message.get("text") or "")


def _release(runner: Runner, conn: Conn) -> None:
    runner.hub.remove(conn)
    runner.ip_conns.release(conn.ip)


def client_ip(ws: WebSocket) -> str:
    return ws.client.host if ws.client else "?"


async def _refuse(ws: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with ``code``: a browser cannot read the HTTP status of a refused
    handshake, only a close code, so a page can tell "wrong token" (4001) from "origin
    refused" (4003) and stop reconnecting. Nothing is sent before the close."""
    await ws.accept()
    await ws.close(code, reason)


async def _accept(ws: WebSocket, runner: Runner, role: Role) -> Conn | None:
    if not origin_allowed(ws, runner.settings.allowed_origins, public_origin(runner.settings.public_url)):
        await _refuse(ws, CLOSE_FORBIDDEN, "origin not allowed")
        return None
    subprotocol = pick_subprotocol(list(ws.scope.get("subprotocols", [])))
    ip = client_ip(ws)
    await ws.accept(subprotocol=subprotocol)
    if not runner.ip_conns.acquire(ip):
        await ws.close(CLOSE_POLICY, "too many connections from your network")
        return None
    conn = Conn(ws, role, codec_for_subprotocol(subprotocol), ip, runner.settings.max_buffer_bytes)
    runner.hub.add(conn)
    conn.send(runner.hello(role))
    try:
        snap = await runner.snapshot(conn)
    except RedisUnavailable:
        await conn.close(CLOSE_TRY_AGAIN, "service unavailable, try again")
        _release(runner, conn)
        return None
    conn.send(snap)
    return conn


class ViewerSession:
    """One viewer socket's frames: answers and pings handled synchronously, the rest awaited.

    ``on_frame`` runs inside uvicorn's parser callback (see ``wsproto``) or, under another
    ASGI server, from the receive loop. Whatever needs Redis before its reply (join, resume,
    sync) or a close is returned as a *deferred* message for the endpoint's loop; until the
    loop has finished it, later frames wait behind it, so a client sees replies in order.
    """

    __slots__ = ("bucket", "busy", "conn", "errors", "queued", "runner")

    def __init__(self, runner: Runner, conn: Conn) -> None:
        self.runner = runner
        self.conn = conn
        self.bucket = TokenBucket(runner.settings.messages_per_s, runner.settings.message_burst)
        self.errors = 0
        self.busy = False  # a deferred frame is queued for the loop or running there
        self.queued = 0  # frames queued raw behind it, not yet handled by the loop

    def on_frame(self, data: bytes | str) -> dict[str, Any] | None:
        arrival = mono_us()  # the answer's arrival time: taken before any decoding
        if self.busy or self.queued:
            self.queued += 1
            return {"type": "websocket.receive", RAW: data, ARRIVAL: arrival}
        try:
            deferred = self.handle(data, arrival)
        except Exception:  # never raise into uvicorn's parser callback
            log.exception("viewer frame failed")
            deferred = ("close", CLOSE_INTERNAL, "internal error")
        if deferred is None:
            return None
        self.busy = True
        return {"type": "websocket.receive", DEFERRED: deferred}

    def handle(self, data: bytes | str, arrival: int) -> Deferred | None:
        conn, runner = self.conn, self.runner
        if not self.bucket.take():
            conn.send(F.error(E_RATE_LIMITED, "too many messages; slow down"))
            if self.bucket.excess > RATE_EXCESS_CLOSE:
                return ("close", CLOSE_POLICY, "rate limit exceeded")
            return None
        ref = None
        try:
            decoded = conn.codec.decode(data)
            raw_ref = decoded.get("ref")
            ref = raw_ref if isinstance(raw_ref, str) and len(raw_ref) <= 32 else None
            frame = parse_client_frame(decoded, runner.required_fields)
            if isinstance(frame, Answer):
                runner.answer_soon(conn, frame, arrival, lambda ack: self._acked(ack, arrival))
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
            self.errors += 1
            metrics.PROTOCOL_ERRORS.labels(exc.code).inc()
            conn.send(F.error(exc.code, str(exc), ref))
            if self.errors > MAX_ERRORS:
                return ("close", CLOSE_POLICY, "too many bad frames")
        return None

    def _acked(self, ack: dict[str, Any], arrival: int) -> None:
        self.conn.send(ack)
        metrics.ACK_LATENCY.observe((mono_us() - arrival) / 1e6)

    async def run(self, deferred: Deferred) -> bool:
        """Finish a deferred frame; False once the socket is closed."""
        conn, runner = self.conn, self.runner
        self.busy = True
        try:
            kind, arg, ref = deferred
            if kind == "close":
                await conn.close(arg, ref)
                return False
            try:
                if kind == "join":
                    try:
                        welcome = await runner.join(conn, arg)
                    except AuthError:
                        conn.send(F.error(E_BAD_TOKEN, "resume token is not valid; join again", ref))
                        return True
                    conn.send({**welcome, "ref": ref})
                conn.send(await runner.snapshot(conn))
            except RedisUnavailable:
                conn.send(F.error(E_UNAVAILABLE, "service temporarily unavailable; try again", ref))
            return True
        finally:
            self.busy = False


async def viewer_endpoint(ws: WebSocket) -> None:
    runner: Runner = ws.app.state.runner
    conn = await _accept(ws, runner, Role.VIEWER)
    if conn is None:
        return
    session = ViewerSession(runner, conn)
    proto = conn.protocol
    if proto is not None and hasattr(proto, "on_frame"):
        proto.on_frame = session.on_frame
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            deferred = message.get(DEFERRED)
            if deferred is None:  # another ASGI server, or a frame that waited behind a deferred one
                if RAW in message:
                    session.queued -= 1
                    deferred = session.handle(message[RAW], message[ARRIVAL])
                else:
                    deferred = session.handle(_payload(message), mono_us())
            if deferred is not None and not await session.run(deferred):
                break
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("viewer socket failed")
    finally:
        if proto is not None and hasattr(proto, "on_frame"):
            proto.on_frame = None
        runner.forget(conn)
        _release(runner, conn)


async def _read_only_loop(ws: WebSocket, runner: Runner, conn: Conn) -> None:
    bucket = TokenBucket(runner.settings.messages_per_s, runner.settings.message_burst)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            data = _payload(message)
            if not bucket.take():
                if bucket.excess > RATE_EXCESS_CLOSE:
                    await conn.close(CLOSE_POLICY, "rate limit exceeded")
                    break
                continue
            try:
                frame = parse_client_frame(conn.codec.decode(data))
            except ProtocolError as exc:
                conn.send(F.error(exc.code, str(exc)))
                continue
            if isinstance(frame, Ping):
                conn.send(F.pong(frame.t, runner.clock.now_ms()))
            elif isinstance(frame, Sync):
                try:
                    conn.send(await runner.snapshot(conn))
                except RedisUnavailable:
                    conn.send(F.error(E_UNAVAILABLE, "service temporarily unavailable; try again"))
            else:
                conn.send(F.error(E_BAD_FIELD, f"{conn.role.value} sockets are read-only; use the host API"))
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("%s socket failed", conn.role.value)
    finally:
        _release(runner, conn)


async def overlay_endpoint(ws: WebSocket) -> None:
    runner: Runner = ws.app.state.runner
    if not runner.check_overlay_token(ws.query_params.get("token", "")):
        await _refuse(ws, CLOSE_AUTH, "wrong display token")
        return
    conn = await _accept(ws, runner, Role.OVERLAY)
    if conn is not None:
        await _read_only_loop(ws, runner, conn)


async def host_endpoint(ws: WebSocket) -> None:
    runner: Runner = ws.app.state.runner
    try:
        ok = await check_bearer(ws, runner) or await host_session(ws, runner) is not None
    except RateLimited:
        await _refuse(ws, CLOSE_POLICY, "too many wrong host tokens; wait a minute")
        return
    except RedisUnavailable:
        await _refuse(ws, CLOSE_TRY_AGAIN, "service unavailable, try again")
        return
    if not ok:
        await _refuse(ws, CLOSE_AUTH, "host token required")
        return
    conn = await _accept(ws, runner, Role.HOST)
    if conn is not None:
        await _read_only_loop(ws, runner, conn)
