"""Local connections and encode-once fan-out.

A broadcast frame is encoded once per codec (and framed once as WebSocket bytes); each
socket then costs one ``transport.write`` of the same buffer, with no await, so the
slowest consumer never holds up the rest. A socket whose unsent buffer grows past
``max_buffer`` is cut off with close code 4008 (slow consumer) instead of growing memory.

The fast path writes straight to uvicorn's sans-I/O WebSocket protocol (server frames
are unmasked, so the framed bytes are identical for every socket). Under any other ASGI
server the connection falls back to a small per-socket queue drained by a writer task.

**Fan-out threads.** One ``send(2)`` per socket is the floor of a fan-out, and on a plain
TCP socket the system call is nearly all of it (18-23 µs per socket on loopback on the
2-core benchmark machine, whichever event loop). A large broadcast therefore hands the
sockets whose transport has nothing queued to ``fanout_threads`` threads (the loop's own
and helpers, taking sockets from one shared queue) that ``os.write`` the frame to the file
descriptor: the GIL is released in the system call, so the kernel work runs on several
cores (≈ 13 µs per socket with two threads there). It is safe because the event loop
thread does nothing else meanwhile (it is one of the writers and waits for the others), a
socket is only written directly when its transport's buffer is empty (so bytes cannot
overtake queued ones), and whatever a direct write could not send (a full kernel buffer,
an error) goes to ``transport.write`` afterwards, which buffers it or reports the error
exactly as before. Only the standard plain-TCP transports of asyncio and uvloop qualify
(never TLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any

from starlette.websockets import WebSocket

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.protocol.codec import Codec, Prepared, ws_frame
from quiz_engine.protocol.codes import CLOSE_SLOW_CONSUMER

log = logging.getLogger("quiz_engine.hub")

DEFAULT_MAX_BUFFER = 256 * 1024
FANOUT_SLICE_US = 50_000  # write for this long, then yield to the event loop (pings, answers, timers)
FANOUT_STEP = 500  # sockets per threaded write between clock checks
THREADED_MIN = 64  # fewer sockets than this: not worth waking a helper thread
# transports whose file descriptor carries the WebSocket bytes as they are (plain TCP, no TLS)
PLAIN_TRANSPORTS = {"_SelectorSocketTransport", "TCPTransport"}


class Role(StrEnum):
    VIEWER = "viewer"
    OVERLAY = "overlay"
    HOST = "host"


class Conn:
    """One WebSocket as the hub sees it: a role, a codec and a non-blocking ``push``."""

    __slots__ = (
        "_proto",
        "_queue",
        "_wake",
        "_writer",
        "closed",
        "codec",
        "fd",
        "ip",
        "joined_us",
        "max_buffer",
        "on_slow",
        "player",
        "role",
        "ws",
    )

    def __init__(self, ws: WebSocket, role: Role, codec: Codec, ip: str, max_buffer: int = DEFAULT_MAX_BUFFER) -> None:
        self.ws = ws
        self.role = role
        self.codec = codec
        self.ip = ip
        self.player: str | None = None
        self.closed = False
        self.max_buffer = max_buffer
        self.on_slow: Callable[[Conn], None] | None = None
        self.joined_us = 0  # when ``player`` was set (mono µs): allowances only for sockets joined before a fan-out
        proto = _server_protocol(getattr(ws, "_send", None))
        fast = (
            proto is not None
            and hasattr(proto, "transport")
            and hasattr(proto, "conn")
            and not getattr(proto.conn, "extensions", [])
        )
        self._proto: Any = proto if fast else None
        self.fd = _plain_fd(proto.transport) if fast else -1  # for threaded fan-out writes, else -1
        # the queue, event and writer task exist only on the fallback path (memory per socket)
        self._queue: deque[bytes] | None = None
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        if not fast:
            self._queue, self._wake = deque(), asyncio.Event()
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    @property
    def protocol(self) -> Any:
        """The ASGI server's protocol object on the fast path, else None."""
        return self._proto

    @property
    def fast(self) -> bool:
        return self._proto is not None

    def push(self, prepared: Prepared) -> bool:
        """Queue one frame for this socket without awaiting; False if the socket is gone."""
        if self.closed:
            return False
        if self._proto is not None:
            return self._write(prepared.wire(self.codec))
        assert self._queue is not None and self._wake is not None
        if sum(len(b) for b in self._queue) > self.max_buffer:
            self.cut_off()
            return False
        self._queue.append(prepared.payload(self.codec))
        self._wake.set()
        return True

    def send(self, frame: dict[str, Any]) -> bool:
        """A personal frame (ack, welcome, snapshot...): encoded for this socket only."""
        if self._proto is not None and not self.closed:
            codec = self.codec
            return self._write(ws_frame(codec.encode(frame), codec.binary))
        return self.push(Prepared(frame))

    def _write(self, data: bytes) -> bool:
        """Fast path: one framed buffer to the transport (or the open write batch)."""
        proto = self._proto
        transport = proto.transport
        if proto.close_sent or transport.is_closing():
            self.closed = True
            return False
        if transport.get_write_buffer_size() > self.max_buffer:
            self.cut_off()
            return False
        batch = _open_batch
        if batch is not None and self.fd >= 0:
            batch.add(self, data)
        else:
            transport.write(data)
        return True

    def cut_off(self) -> None:
        """Drop a slow consumer at once (its backlog is discarded, not flushed)."""
        if self.closed:
            return
        self.closed = True
        log.info("slow consumer cut off", extra={"role": self.role.value, "player": self.player})
        if self.on_slow is not None:
            self.on_slow(self)
        proto = self._proto
        if proto is not None:
            with contextlib.suppress(Exception):
                proto.conn.send_close(CLOSE_SLOW_CONSUMER, "slow consumer")
                proto.close_sent = True
            proto.transport.abort()
        else:
            if self._queue is not None:
                self._queue.clear()
            asyncio.get_running_loop().create_task(self._close(CLOSE_SLOW_CONSUMER, "slow consumer"))

    async def close(self, code: int, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        if self._writer is not None:
            self._writer.cancel()
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    async def _drain(self) -> None:
        assert self._queue is not None and self._wake is not None
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    data = self._queue.popleft()
                    if self.codec.binary:
                        await self.ws.send_bytes(data)
                    else:
                        await self.ws.send_text(data.decode())
        except Exception:  # noqa: BLE001 - the socket is gone; the receive loop will notice
            self.closed = True

    def stop(self) -> None:
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()


def _plain_fd(transport: Any) -> int:
    """The socket's file descriptor if ``transport`` is a plain TCP one (see the module doc)."""
    if type(transport).__name__ not in PLAIN_TRANSPORTS or transport.get_extra_info("sslcontext") is not None:
        return -1
    sock = transport.get_extra_info("socket")
    try:
        return int(sock.fileno()) if sock is not None else -1
    except (OSError, ValueError):
        return -1


def _idle(conn: Conn) -> bool:
    """A socket the fan-out threads may write to directly: plain TCP, open, nothing queued."""
    proto = conn._proto
    return (
        conn.fd >= 0
        and not conn.closed
        and not proto.close_sent
        and not proto.transport.is_closing()
        and not proto.transport.get_write_buffer_size()
    )


def _write_fds(fds: list[int], datas: list[bytes], sent: list[int], times: list[int], todo: Iterator[int]) -> None:
    """Write ``datas[i]`` to ``fds[i]`` for each i taken from ``todo``: bytes written (or -1) and
    when, into ``sent`` and ``times``. Several threads share one ``todo`` iterator (each
    ``next`` is atomic under the GIL), so a thread the OS has descheduled leaves its share
    to the others instead of holding up the loop until it runs again."""
    write, clock = os.write, mono_us
    for i in todo:
        try:
            sent[i] = write(fds[i], datas[i])
        except OSError:  # full kernel buffer (EAGAIN) or a dead peer: transport.write decides
            sent[i] = -1
        times[i] = clock()


def _server_protocol(send: Any) -> Any:
    """The ASGI server's protocol object behind a WebSocket's ``send``, if reachable.

    Starlette wraps the ASGI ``send`` in a closure (its exception handling), so the bound
    method of uvicorn's protocol sits one or more closures down, in a free variable named
    ``send``. Follow those; None (the queued fallback) if the chain looks different.
    """
    for _ in range(8):
        proto = getattr(send, "__self__", None)
        if proto is not None:
            return proto
        code, cells = getattr(send, "__code__", None), getattr(send, "__closure__", None)
        if code is None or not cells or "send" not in code.co_freevars:
            return None
        try:
            send = cells[code.co_freevars.index("send")].cell_contents
        except (ValueError, IndexError):
            return None
    return None


class WriteBatch:
    """Frames pushed while a batch is open (``Hub.batched``), written together when it closes.

    A Redis batch completes up to 500 answers at once; their acks then go out through the
    fan-out threads like a broadcast instead of one ``send(2)`` at a time on the loop. Two
    frames for one socket are joined, so they keep their order.
    """

    __slots__ = ("conns", "datas", "index")

    def __init__(self) -> None:
        self.conns: list[Conn] = []
        self.datas: list[bytes] = []
        self.index: dict[Conn, int] = {}

    def add(self, conn: Conn, data: bytes) -> None:
        i = self.index.get(conn)
        if i is None:
            self.index[conn] = len(self.conns)
            self.conns.append(conn)
            self.datas.append(data)
        else:
            self.datas[i] += data


_open_batch: WriteBatch | None = None  # the event loop's open batch (one thread: a plain global)


class Hub:
    """The sockets connected to this node, by role."""

    def __init__(self, fanout_threads: int = 1) -> None:
        self.conns: dict[Role, set[Conn]] = {r: set() for r in Role}
        self.fanout_threads = max(1, fanout_threads)
        self._pool = (ThreadPoolExecutor(self.fanout_threads - 1, thread_name_prefix="fanout")
                      if self.fanout_threads > 1 else None)
        self.slow_disconnects = 0
        self.closed = 0  # sockets removed so far (each leaves garbage for the collector)
        self.last_fanout_us = 0
        self.last_fanout_n = 0

    def add(self, conn: Conn) -> None:
        conn.on_slow = self._slow
        self.conns[conn.role].add(conn)
        metrics.CONNECTED.labels(conn.role.value).inc()

    def remove(self, conn: Conn) -> None:
        self.closed += 1
        if conn in self.conns[conn.role]:
            self.conns[conn.role].discard(conn)
            metrics.CONNECTED.labels(conn.role.value).dec()
        conn.stop()

    def _slow(self, conn: Conn) -> None:
        self.slow_disconnects += 1
        metrics.SLOW_CONSUMERS.inc()
        if conn in self.conns[conn.role]:
            self.conns[conn.role].discard(conn)
            metrics.CONNECTED.labels(conn.role.value).dec()

    def count(self, role: Role) -> int:
        return len(self.conns[role])

    def counts(self) -> dict[str, int]:
        return {r.value: len(c) for r, c in self.conns.items()}

    async def broadcast(
        self,
        roles: Iterable[Role],
        prepared: Prepared,
        on_write: Callable[[Conn, int], None] | None = None,
    ) -> int:
        """Write one prepared frame to every local socket of ``roles``.

        ``on_write(conn, mono_us)`` runs right after each write (the question's send time
        for that socket). Yields to the loop after each FANOUT_SLICE_US of writing, so
        a large fan-out never holds the loop for much longer than that: pings, answers
        and timers get their turn (the issue's bound: no pause over 100 ms while a
        question is open).
        """
        start = slice_start = mono_us()
        written = 0
        roles = tuple(roles)
        for role in roles:
            targets = list(self.conns[role])
            for i in range(0, len(targets), FANOUT_STEP):
                written += self._write_chunk(targets[i : i + FANOUT_STEP], prepared, on_write)
                if i + FANOUT_STEP < len(targets) and mono_us() - slice_start >= FANOUT_SLICE_US:
                    await asyncio.sleep(0)
                    slice_start = mono_us()
        self.last_fanout_us = mono_us() - start
        self.last_fanout_n = written
        label = roles[0].value if len(roles) == 1 else "mixed"
        metrics.FANOUT.labels(label).observe(self.last_fanout_us / 1e6)
        if written:
            metrics.FANOUT_PER_CONN.labels(label).set(self.last_fanout_us / written)
        return written

    def _write_chunk(
        self, chunk: list[Conn], prepared: Prepared, on_write: Callable[[Conn, int], None] | None
    ) -> int:
        """One step of a broadcast: idle sockets written directly (over the fan-out threads when
        the step is large enough), the others through ``push``."""
        direct: list[Conn] = []
        datas: list[bytes] = []
        written = 0
        for conn in chunk:
            if _idle(conn):
                direct.append(conn)
                datas.append(prepared.wire(conn.codec))
            elif conn.push(prepared):
                written += 1
                if on_write is not None:
                    on_write(conn, mono_us())
        times = self._write_direct(direct, datas)
        if on_write is not None:
            for conn, t in zip(direct, times, strict=True):
                on_write(conn, t)
        return written + len(direct)

    def _write_direct(self, conns: list[Conn], datas: list[bytes]) -> list[int]:
        """Write ``datas[i]`` to idle socket ``conns[i]`` (each socket once) from the fan-out
        threads; what a thread could not write goes through the transport. Returns when each
        write happened (mono µs)."""
        n = len(conns)
        fds = [conn.fd for conn in conns]
        sent, times = [0] * n, [0] * n
        todo = iter(range(n))
        pool = self._pool if n >= THREADED_MIN else None  # a few sockets: not worth waking a helper
        helpers = [pool.submit(_write_fds, fds, datas, sent, times, todo)
                   for _ in range(self.fanout_threads - 1)] if pool is not None else []
        _write_fds(fds, datas, sent, times, todo)
        for helper in helpers:
            helper.result()  # blocks the loop: it must not touch these sockets until all are done
        for conn, data, count in zip(conns, datas, sent, strict=True):
            if count != len(data):  # the rest (or all) through the transport: it buffers or fails
                conn._proto.transport.write(data[max(count, 0):])
        return times

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Gather the frames pushed inside the block and write them together at its end."""
        global _open_batch
        if _open_batch is not None:  # nested: the outer batch writes them
            yield
            return
        batch = _open_batch = WriteBatch()
        try:
            yield
        finally:
            _open_batch = None
            idle: list[int] = []
            for i, conn in enumerate(batch.conns):
                if _idle(conn):
                    idle.append(i)
                elif not conn.closed:
                    conn._write(batch.datas[i])  # bytes queued: in order behind them (or gone, or cut off)
            self._write_direct([batch.conns[i] for i in idle], [batch.datas[i] for i in idle])

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)

    async def close_all(self, code: int, reason: str) -> None:
        for role in Role:
            for conn in list(self.conns[role]):
                await conn.close(code, reason)
