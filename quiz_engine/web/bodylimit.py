"""Bounded request bodies on every HTTP endpoint, before anything reads them.

No endpoint takes more than a small JSON object, so a large body is refused at the ASGI
level: a declared ``Content-Length`` over the limit gets 413 before a byte of it is read,
a chunked body is cut at the limit, and a body that stops arriving gets 408 instead of an
open socket and a buffer. Unauthenticated clients could otherwise make the server hold
hundreds of MB (two concurrent 200-MB logins took it from 107 to 880 MiB).
"""

from __future__ import annotations

import asyncio

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 16 * 1024
BODY_TIMEOUT_S = 10.0  # between two chunks of a body that is still arriving


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 over ``max_bytes`` (declared or counted), 408 when a body stalls."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, timeout_s: float = BODY_TIMEOUT_S) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _reply(send, 413, "request_too_large", f"request body over {self.max_bytes} bytes")
            return
        seen = 0
        done = False
        started = False

        async def limited_receive() -> Message:
            nonlocal seen, done
            if done:  # the body is in: later receives wait for a disconnect, unbounded
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout_s)
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
                done = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reply(send, 413, "request_too_large", f"request body over {self.max_bytes} bytes")
        except _TooSlow:
            if not started:
                await _reply(send, 408, "request_timeout", "the request body stopped arriving")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reply(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"error": code, "message": message})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
