"""The front door: every new connection waits here until its first request head has arrived.

uvicorn's HTTP protocols wait for a request head as long as the client likes, and count a
connection against no limit until the application accepts it; a client trickling one header
byte every few seconds (slowloris) holds a file descriptor for ever, and a few thousand of
them exhaust the process. This protocol sits in front of uvicorn's: it buffers bytes until the
blank line that ends the head, then hands the transport and the buffered bytes to uvicorn's
protocol (``transport.set_protocol``) and is out of the path, so a viewer's frames never pass
through it. Until then it enforces, on public asyncio APIs only:

- a deadline for the head (``QUIZ_HEADER_TIMEOUT``, default 10 s from the connect): 408;
- a size cap for the head (64 KiB; the parsers behind have tighter limits of their own): 431;
- caps on *slow* connections — still without a head a second after the connect — per node
  and per client address: past them a connection is answered 503 the moment it turns slow.
  A crowd connecting at once (a QR code on screen, an office behind one NAT address, a busy
  event loop that has not read the heads yet) is never refused by these caps; only
  connections that hold a descriptor without sending count. Trusted proxies are exempt
  from the per-address cap (every viewer arrives from them).

A complete head for ``GET /ws/...`` goes to the node's own WebSocket layer instead
(``web/wsserver.py``, found in the lifespan's state), so viewer sockets never pass through
uvicorn's or Starlette's WebSocket code. Later requests on a kept-alive HTTP connection are
uvicorn's (its keep-alive timeout); the pages and API are a handful of requests per client.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any, Protocol, cast

from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string

from quiz_engine import metrics
from quiz_engine.config import Settings
from quiz_engine.logs import Summarised

MAX_HEAD_BYTES = 64 * 1024
END_OF_HEAD = b"\r\n\r\n"

_log = logging.getLogger("quiz_engine.web")
_refused = Summarised(_log, "refused connections at the front door (no request head in time, too large, or too many)")


def _response(status: str, text: str) -> bytes:
    body = text.encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + body


REQUEST_TIMEOUT = _response("408 Request Timeout", "the request head did not arrive in time\n")
HEAD_TOO_LARGE = _response("431 Request Header Fields Too Large", "request head over 64 KiB\n")
BUSY = _response("503 Service Unavailable", "too many connections waiting to send a request; retry shortly\n")


class Trusted:
    """Is an address one of the trusted proxies (addresses or networks, or ``*``)?"""

    def __init__(self, proxies: tuple[str, ...]) -> None:
        self.everyone = "*" in proxies
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies if p != "*"]

    def __contains__(self, host: str) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


SLOW_AFTER_S = 1.0


class Door:
    """What every connection of one node shares: the limits and the slow connections."""

    def __init__(
        self, *, timeout_s: float, max_pending: int, max_pending_per_ip: int, trusted: tuple[str, ...] = ()
    ) -> None:
        self.timeout_s = timeout_s
        self.slow_after_s = min(SLOW_AFTER_S, timeout_s)
        self.max_pending = max_pending
        self.max_pending_per_ip = max_pending_per_ip
        self.trusted = Trusted(trusted)
        self.pending = 0
        self.per_ip: Counter[str] = Counter()

    def admit(self, ip: str) -> bool:
        if self.pending >= self.max_pending:
            return False
        if ip not in self.trusted and self.per_ip[ip] >= self.max_pending_per_ip:
            return False
        self.pending += 1
        self.per_ip[ip] += 1
        return True

    def leave(self, ip: str) -> None:
        self.pending -= 1
        left = self.per_ip[ip] - 1
        if left > 0:
            self.per_ip[ip] = left
        else:
            del self.per_ip[ip]


class Protocols:
    """The protocol factory given to uvicorn as ``http``: uvicorn calls it with the keyword
    arguments of its own HTTP protocol class (``http_protocol_class``). Picklable (``serve
    --workers`` sends the config to each worker); the Door is built in the worker."""

    def __init__(self, settings: Settings, inner: str = "auto") -> None:
        self.inner = inner
        self.limits = (settings.header_timeout_s, settings.max_pending, settings.max_pending_per_ip,
                       settings.trusted_proxies)
        self.door: Door | None = None
        self.inner_class: Callable[..., asyncio.Protocol] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"inner": self.inner, "limits": self.limits, "door": None, "inner_class": None}

    def __call__(self, **kwargs: Any) -> asyncio.Protocol:
        if self.door is None or self.inner_class is None:
            timeout_s, max_pending, per_ip, trusted = self.limits
            self.door = Door(timeout_s=timeout_s, max_pending=max_pending, max_pending_per_ip=per_ip, trusted=trusted)
            self.inner_class = import_from_string(HTTP_PROTOCOLS.get(self.inner, self.inner))
        inner = self.inner_class
        # the lifespan's state (ASGI lifespan-state): where the app put its WebSocket endpoints
        state = kwargs.get("app_state")
        sockets = state.get(SOCKETS_KEY) if isinstance(state, dict) else None
        return FrontDoor(self.door, lambda: inner(**kwargs), sockets)


class Sockets(Protocol):
    """Where WebSocket requests go (``web/wsserver.SocketServer``)."""

    def accept(self, transport: asyncio.Transport, head: bytes, rest: bytes) -> None: ...


SOCKETS_KEY = "quiz.sockets"


def is_websocket_path(head: bytes | bytearray) -> bool:
    """A request for one of the node's WebSocket endpoints (``GET /ws/...``)."""
    line = bytes(head[: head.find(b"\r\n")])
    parts = line.split(b" ")
    return len(parts) == 3 and (parts[1] == b"/ws" or parts[1].startswith(b"/ws/"))


class FrontDoor(asyncio.Protocol):
    __slots__ = ("buffer", "door", "inner", "ip", "slow", "sockets", "timer", "transport")

    def __init__(self, door: Door, inner: Callable[[], asyncio.Protocol], sockets: Sockets | None = None) -> None:
        self.door = door
        self.inner = inner
        self.sockets = sockets
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.ip = ""
        self.slow = False  # counted in the door's caps

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peer = self.transport.get_extra_info("peername")
        self.ip = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        self.timer = asyncio.get_running_loop().call_later(self.door.slow_after_s, self._turned_slow)

    def _turned_slow(self) -> None:
        if not self.door.admit(self.ip):
            self._refuse("busy", BUSY)
            return
        self.slow = True
        wait = self.door.timeout_s - self.door.slow_after_s
        self.timer = asyncio.get_running_loop().call_later(wait, self._expire)

    def data_received(self, data: bytes) -> None:
        if self.timer is None:  # already refused
            return
        start = max(0, len(self.buffer) - 3)
        self.buffer += data
        if self.buffer.find(END_OF_HEAD, start) >= 0:
            self._hand_over()
        elif len(self.buffer) > MAX_HEAD_BYTES:
            self._refuse("too_large", HEAD_TOO_LARGE)

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself; connection_lost settles the count

    def connection_lost(self, exc: Exception | None) -> None:
        self._settle()

    def _settle(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.slow:
            self.slow = False
            self.door.leave(self.ip)

    def _expire(self) -> None:
        self._refuse("timeout", REQUEST_TIMEOUT)

    def _refuse(self, reason: str, response: bytes) -> None:
        metrics.FRONT_DOOR_REFUSED.labels(reason).inc()
        _refused(self.ip)
        self._settle()
        assert self.transport is not None
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()

    def _hand_over(self) -> None:
        self._settle()
        transport = self.transport
        assert transport is not None
        data, self.buffer = bytes(self.buffer), bytearray()
        if self.sockets is not None and is_websocket_path(data):
            end = data.find(END_OF_HEAD) + len(END_OF_HEAD)
            self.sockets.accept(transport, data[:end], data[end:])  # it sets its own protocol
            return
        protocol = self.inner()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        protocol.data_received(data)
