"""A lean asyncio viewer swarm for capacity runs (used by ``loadtest.bench``).

One ``asyncio.Protocol`` per socket with a minimal RFC 6455 client (handshake, unfragmented
frames, masked sends, pong), no task per socket, no keepalive timers: a client process
drives ~5,000 sockets on a fraction of a core, so the measurement is the server's, not the
client's. Receipt times are taken in ``data_received``, before decoding.

A ``Group`` is the sockets of one process. ``worker_main`` runs a group in a child process
and obeys commands sent over a ``multiprocessing`` pipe (connect, join, arm, wait, collect).

Client frames are masked with the all-zero key (valid per RFC 6455 §5.3; the server cannot
tell, and it saves the client an XOR per byte).
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import msgpack
import orjson

from loadtest.people import profile as make_profile

HANDSHAKE_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
MSGPACK_SUBPROTOCOL = "quiz.v1.msgpack"


def raise_nofile() -> tuple[int, int]:
    """Raise this process's RLIMIT_NOFILE soft limit to the hard limit; return (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def source_ip(i: int, n_ips: int) -> str:
    """Loopback source address for socket ``i``: spreads sockets over 127.0.0.2 … so the
    server's per-address limits (connections, joins) see many networks, as in a real show."""
    k = i % n_ips
    return f"127.0.{k // 250}.{2 + k % 250}"


class Conn(asyncio.Protocol):
    __slots__ = (
        "_request",
        "ack_ms",
        "ack_t",
        "binary",
        "buf",
        "close_code",
        "group",
        "i",
        "joined",
        "ok",
        "open",
        "player",
        "ready",
        "reason",
        "recv_t",
        "sent_t",
        "server_ms",
        "transport",
        "waiter",
        "welcome_err",
    )

    def __init__(self, group: Group, i: int, binary: bool, path: str, port: int) -> None:
        self.group, self.i, self.binary = group, i, binary
        self.buf = b""
        self.open = False
        self.transport: asyncio.Transport | None = None
        self.ready = False  # hello + snapshot received
        self.joined = False
        self.player = ""
        self.waiter: asyncio.Future[Any] | None = None
        self.close_code: int | None = None
        self.welcome_err = ""
        self._reset_question()
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n"
            + (f"Sec-WebSocket-Protocol: {MSGPACK_SUBPROTOCOL}\r\n" if binary else "")
            + "\r\n"
        ).encode()

    def _reset_question(self) -> None:
        self.recv_t = 0.0  # question receipt (time.time())
        self.server_ms = 0.0  # the frame's "now"
        self.sent_t = 0.0
        self.ack_t = 0.0
        self.ok: bool | None = None
        self.reason = ""
        self.ack_ms = -1.0  # server-measured response time in the ack

    # --- asyncio.Protocol ------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self._request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        self.transport = None
        self.group.on_lost(self)
        self._wake(False)

    def data_received(self, data: bytes) -> None:
        t = time.time()
        buf = self.buf + data if self.buf else data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if b" 101 " not in buf[:16]:
                self.close_code = -int(buf[9:12] or b"0")
                if self.transport is not None:
                    self.transport.abort()
                return
            self.open = True
            buf = buf[end + 4:]
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, ln = buf[pos], buf[pos + 1] & 0x7F
            hl = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln, hl = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if n - pos < hl + ln:
                break
            payload = buf[pos + hl:pos + hl + ln]
            pos += hl + ln
            op = b0 & 0x0F
            if op == 1 or op == 2:
                self.group.on_frame(self, payload, op == 2, t)
            elif op == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            elif op == 9:
                self._send_raw(0x8A, payload)
        self.buf = buf[pos:] if pos < n else b""

    # --- sending ---------------------------------------------------------------------
    def _send_raw(self, head: int, payload: bytes) -> None:
        if self.transport is None:
            return
        n = len(payload)
        hdr = bytes((head, 0x80 | n)) if n < 126 else bytes((head, 0xFE)) + n.to_bytes(2, "big")
        self.transport.write(hdr + b"\x00\x00\x00\x00" + payload)

    def send(self, frame: dict[str, Any]) -> None:
        if self.binary:
            self._send_raw(0x82, msgpack.packb(frame))
        else:
            self._send_raw(0x81, orjson.dumps(frame))

    def _wake(self, value: Any) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(value)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Plan:
    """What each socket does with the next question."""

    question: int
    correct: int
    options: int = 4
    mode: str = "window"  # window: answer at release + U(0, window); flood: on receipt; silent: never
    window_s: float = 3.0
    correct_share: float = 0.6
    min_think_s: float = 1.0  # a correct answer never leaves sooner than this after receipt
    chosen: bool = False  # this group's one socket answers correctly at once (the constructed winner)
    seed: int = 0


@dataclass
class Group:
    """The sockets of one client process."""

    port: int
    start: int  # global index of the first socket (for names and source addresses)
    n: int
    binary: bool = False
    n_ips: int = 250
    conns: list[Conn] = field(default_factory=list)
    plan: Plan | None = None
    rng: random.Random = field(default_factory=random.Random)
    errors: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    acks: int = 0
    sent: int = 0
    expected: int = 0  # answers this group will send for the armed question
    received: int = 0  # question frames received (silent mode)
    pongs: list[tuple[float, float]] = field(default_factory=list)  # (sent, rtt) of pings
    _done: asyncio.Event | None = None

    # --- frames ------------------------------------------------------------------------
    def on_frame(self, conn: Conn, payload: bytes, binary: bool, t: float) -> None:
        frame = msgpack.unpackb(payload, raw=False) if binary else orjson.loads(payload)
        kind = frame.get("type")
        if kind == "question":
            if conn.recv_t == 0.0:
                conn.recv_t, conn.server_ms = t, float(frame["now"])
                if self.plan is not None and self.plan.mode == "silent":  # fan-out only: nobody answers
                    self.received += 1
                    if self._done is not None and self.received >= self.expected:
                        self._done.set()
                else:
                    self._schedule(conn, frame, t)
        elif kind == "ack":
            conn.ack_t = t
            conn.ok = bool(frame.get("ok"))
            conn.reason = str(frame.get("reason", ""))
            conn.ack_ms = float(frame.get("time_ms", -1) or -1)
            self.acks += 1
            if self._done is not None and self.acks >= self.expected:
                self._done.set()
        elif kind == "snapshot":
            if not conn.ready:
                conn.ready = True
                conn._wake(True)
        elif kind == "welcome":
            conn.player = frame["player"]
            conn.joined = True
            conn._wake(True)
        elif kind == "error":
            self.errors[str(frame.get("code"))] += 1
            if not conn.joined:
                conn.welcome_err = str(frame.get("code"))
                conn._wake(False)
        elif kind == "pong":
            self.pongs.append((float(frame["t"]), t * 1000 - float(frame["t"])))

    def on_lost(self, conn: Conn) -> None:
        self.lost += 1
        self.errors[f"close {conn.close_code}"] += 1

    def _schedule(self, conn: Conn, frame: dict[str, Any], t: float) -> None:
        plan = self.plan
        if plan is None or not conn.joined or int(frame["index"]) != plan.question:
            return
        if plan.chosen:
            self._answer(conn, plan.correct)
            return
        correct = self.rng.random() < plan.correct_share
        option = plan.correct if correct else self.rng.choice([o for o in range(plan.options) if o != plan.correct])
        if plan.mode == "flood":
            self._answer(conn, option)
            return
        target = float(frame["release_at"]) / 1000 + self.rng.uniform(0.0, plan.window_s)
        if correct:
            target = max(target, t + plan.min_think_s)
        delay = target - time.time()
        if delay <= 0:
            self._answer(conn, option)
        else:
            asyncio.get_running_loop().call_later(delay, self._answer, conn, option)

    def _answer(self, conn: Conn, option: int) -> None:
        assert self.plan is not None
        conn.sent_t = time.time()
        conn.send({"type": "answer", "question": self.plan.question, "option": option})
        self.sent += 1

    # --- commands ------------------------------------------------------------------------
    async def connect(self, concurrency: int = 200, timeout: float = 60.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(concurrency)
        t0 = time.time()
        failed = Counter[str]()

        async def one(i: int) -> None:
            async with sem:
                for attempt in range(3):
                    conn = Conn(self, self.start + i, self.binary, "/ws/viewer", self.port)
                    conn.waiter = loop.create_future()
                    try:
                        await loop.create_connection(lambda c=conn: c, "127.0.0.1", self.port,  # type: ignore[misc]
                                                     local_addr=(source_ip(self.start + i, self.n_ips), 0))
                        if await asyncio.wait_for(conn.waiter, 20):
                            self.conns.append(conn)
                            return
                        failed[f"closed {conn.close_code}"] += 1
                    except (OSError, TimeoutError) as exc:
                        failed[type(exc).__name__] += 1
                        conn.close()
                    await asyncio.sleep(0.2 * (attempt + 1))

        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(self.n))), timeout)
        return {"connected": len(self.conns), "failed": dict(failed), "secs": time.time() - t0}

    async def join(self, concurrency: int = 20, timeout: float = 120.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(concurrency)
        rng = random.Random(self.start)
        t0 = time.time()
        refused = Counter[str]()

        async def one(conn: Conn) -> None:
            prof = make_profile(rng)
            async with sem:
                for attempt in range(8):
                    conn.waiter = loop.create_future()
                    conn.welcome_err = ""
                    conn.send({"type": "join", **prof})
                    try:
                        if await asyncio.wait_for(conn.waiter, 20):
                            return
                    except TimeoutError:
                        refused["timeout"] += 1
                        continue
                    if conn.transport is None:
                        return
                    refused[conn.welcome_err or "?"] += 1
                    await asyncio.sleep(0.2 * 2**attempt)

        await asyncio.wait_for(asyncio.gather(*(one(c) for c in self.conns)), timeout)
        joined = sum(1 for c in self.conns if c.joined)
        return {"joined": joined, "refused": dict(refused), "secs": time.time() - t0}

    def arm(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed * 1_000_003 + self.start)
        self.acks = self.sent = self.received = 0
        self.expected = sum(1 for c in self.conns if c.joined and c.transport is not None)
        self._done = asyncio.Event()
        for c in self.conns:
            c._reset_question()

    async def wait(self, timeout: float) -> bool:
        assert self._done is not None
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
            return True
        except TimeoutError:
            return False

    def collect(self) -> dict[str, Any]:
        qs = [c for c in self.conns if c.recv_t]
        sent = [c for c in self.conns if c.sent_t]
        acked = [c for c in sent if c.ack_t]
        return {
            "connected": sum(1 for c in self.conns if c.transport is not None),
            "joined": sum(1 for c in self.conns if c.joined),
            "received": len(qs),
            "delivery_ms": [c.recv_t * 1000 - c.server_ms for c in qs],
            "recv_first": min((c.recv_t for c in qs), default=0.0),
            "recv_last": max((c.recv_t for c in qs), default=0.0),
            "server_now_ms": min((c.server_ms for c in qs), default=0.0),
            "sent": len(sent),
            "sent_first": min((c.sent_t for c in sent), default=0.0),
            "sent_last": max((c.sent_t for c in sent), default=0.0),
            "acked": len(acked),
            "ack_ok": sum(1 for c in acked if c.ok),
            "ack_last": max((c.ack_t for c in acked), default=0.0),
            "ack_ms": [(c.ack_t - c.sent_t) * 1000 for c in acked],
            "reasons": dict(Counter(c.reason for c in acked if not c.ok)),
            "players": [c.player for c in sent[:1]],
            "response_ms": [c.ack_ms for c in acked if c.ok][:1],
            "errors": dict(self.errors),
            "lost": self.lost,
        }

    def close(self) -> None:
        for c in self.conns:
            c.close()


def client_loop() -> str:
    """The client processes' event loop: uvloop where installed (less of the shared machine's
    CPU goes to the load generator), unless QE_CLIENT_LOOP=asyncio."""
    if os.environ.get("QE_CLIENT_LOOP", "uvloop") == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def worker_main(pipe: Any, port: int, start: int, n: int, binary: bool, n_ips: int) -> None:
    """A client process: one Group, driven by commands on ``pipe``."""
    raise_nofile()
    group = Group(port, start, n, binary, n_ips)
    if client_loop() == "uvloop":
        import uvloop

        uvloop.run(_worker(pipe, group))
    else:
        asyncio.run(_worker(pipe, group))


async def _worker(pipe: Any, group: Group) -> None:
    loop = asyncio.get_running_loop()
    while True:
        cmd, arg = await loop.run_in_executor(None, pipe.recv)
        try:
            if cmd == "connect":
                out: Any = await group.connect(**arg)
            elif cmd == "join":
                out = await group.join(**arg)
            elif cmd == "arm":
                group.arm(Plan(**arg))
                out = True
            elif cmd == "wait":
                out = await group.wait(**arg)
            elif cmd == "collect":
                out = group.collect()
            elif cmd == "stop":
                group.close()
                await asyncio.sleep(0.2)
                pipe.send(("ok", True))
                return
            else:
                out = f"unknown command {cmd}"
            pipe.send(("ok", out))
        except Exception as exc:  # noqa: BLE001 - report to the coordinator
            pipe.send(("error", repr(exc)))
