"""Local connections and encode-once fan-out.

A broadcast frame is encoded once per codec (and framed once as WebSocket bytes); each
socket then costs one write of the same buffer, with no await, so the slowest consumer never
holds up the rest. A socket whose unsent buffer grows past ``max_buffer`` is cut off with close
code 4008 (slow consumer) instead of growing memory.

A :class:`Conn` is what the hub knows of a socket: a role, a codec, a player, and four
transport primitives the socket layer implements (``web/wsconn.py``). Large writes go through
the hub's one :class:`~quiz_engine.fanout.FanoutWriter` (threaded ``os.write``, its
preconditions asserted there); frames pushed while a write batch is open (``Hub.batched``:
the acks of one Redis batch) are gathered and written the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.fanout import FanoutWriter
from quiz_engine.protocol.codec import Codec, Prepared, ws_frame
from quiz_engine.protocol.codes import CLOSE_SLOW_CONSUMER

log = logging.getLogger("quiz_engine.hub")

DEFAULT_MAX_BUFFER = 256 * 1024
FANOUT_SLICE_US = 50_000  # write for this long, then yield to the event loop (pings, answers, timers)
FANOUT_STEP = 500  # sockets per threaded write between clock checks
OnWritten = Callable[[Sequence["Conn"], Sequence[int]], None]  # (sockets, when each was written: mono ns)


class Role(StrEnum):
    VIEWER = "viewer"
    OVERLAY = "overlay"
    HOST = "host"


class Conn:
    """One socket as the hub sees it. The socket layer subclasses it and implements the
    transport primitives (``writable``, ``buffered``, ``write_rest``, ``shut``)."""

    __slots__ = ("closed", "codec", "fd", "hub", "ip", "joined_us", "max_buffer", "player", "role")

    def __init__(self, role: Role, codec: Codec, ip: str, max_buffer: int = DEFAULT_MAX_BUFFER, fd: int = -1) -> None:
        self.role = role
        self.codec = codec
        self.ip = ip
        self.player: str | None = None
        self.closed = False
        self.max_buffer = max_buffer
        self.fd = fd  # a plain TCP descriptor the fan-out may write to directly, else -1
        self.hub: Hub | None = None
        self.joined_us = 0  # when ``player`` was set (mono µs): allowances only for sockets joined before a fan-out

    # --- transport primitives (the socket layer's) ----------------------------------------
    def writable(self) -> bool:
        """Open for data frames (no close frame sent, transport not closing)."""
        raise NotImplementedError

    def buffered(self) -> int:
        """Bytes queued in the transport, not yet handed to the kernel."""
        raise NotImplementedError

    def write_rest(self, data: bytes) -> None:
        """Queue bytes on the transport (it buffers, or reports the error)."""
        raise NotImplementedError

    def shut(self, code: int, reason: str, abort: bool) -> None:
        """Send a close frame; ``abort`` drops the backlog and the TCP connection at once."""
        raise NotImplementedError

    # --- writing ---------------------------------------------------------------------------
    def idle(self) -> bool:
        """The fan-out threads may write to this socket directly: plain TCP, open, nothing queued."""
        return self.fd >= 0 and not self.closed and self.writable() and not self.buffered()

    def push(self, prepared: Prepared) -> bool:
        """Queue one broadcast frame for this socket without awaiting; False if the socket is gone."""
        return self.write(prepared.wire(self.codec))

    def send(self, frame: dict[str, Any]) -> bool:
        """A personal frame (ack, welcome, snapshot...): encoded for this socket only."""
        codec = self.codec
        return self.write(ws_frame(codec.encode(frame), codec.binary))

    def write(self, data: bytes) -> bool:
        """One framed buffer to the transport (or the hub's open write batch)."""
        if self.closed:
            return False
        if not self.writable():
            self.closed = True
            return False
        if self.buffered() > self.max_buffer:
            self.cut_off()
            return False
        hub = self.hub
        batch = hub.batch if hub is not None else None
        if batch is not None and self.fd >= 0:
            batch.add(self, data)
        else:
            self.write_rest(data)
        return True

    def cut_off(self) -> None:
        """Drop a slow consumer at once (its backlog is discarded, not flushed)."""
        if self.closed:
            return
        self.closed = True
        log.info("slow consumer cut off", extra={"role": self.role.value, "player": self.player})
        if self.hub is not None:
            self.hub.slow(self)
        self.shut(CLOSE_SLOW_CONSUMER, "slow consumer", abort=True)

    async def close(self, code: int, reason: str = "") -> None:
        """Close with ``code`` (the socket layer finishes the closing handshake)."""
        if self.closed:
            return
        self.closed = True
        self.shut(code, reason, abort=False)


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


class Hub:
    """The sockets connected to this node, by role."""

    def __init__(self, fanout_threads: int = 1) -> None:
        self.conns: dict[Role, set[Conn]] = {r: set() for r in Role}
        self.writer = FanoutWriter(fanout_threads)
        self.batch: WriteBatch | None = None  # open while a Redis batch's acks are being pushed
        self.slow_disconnects = 0
        self.closed = 0  # sockets removed so far (each leaves garbage for the collector)
        self.last_fanout_us = 0
        self.last_fanout_n = 0

    def add(self, conn: Conn) -> None:
        conn.hub = self
        self.conns[conn.role].add(conn)
        metrics.CONNECTED.labels(conn.role.value).inc()

    def remove(self, conn: Conn) -> None:
        self.closed += 1
        self._drop(conn)
        conn.closed = True

    def slow(self, conn: Conn) -> None:
        """A socket was cut off as a slow consumer: out of every later fan-out."""
        self.slow_disconnects += 1
        metrics.SLOW_CONSUMERS.inc()
        self._drop(conn)

    def _drop(self, conn: Conn) -> None:
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
        on_written: OnWritten | None = None,
    ) -> int:
        """Write one prepared frame to every local socket of ``roles``.

        ``on_written(conns, times_ns)`` runs after each step of the broadcast, before the loop
        gets its turn: when each socket of the step was written (monotonic ns), the question's
        send time for that socket. Yields to the loop
        after each FANOUT_SLICE_US of writing, so a large fan-out never holds the loop for
        much longer than that: pings, answers and timers get their turn (the issue's bound: no
        pause over 100 ms while a question is open).
        """
        start = slice_start = mono_us()
        written = 0
        roles = tuple(roles)
        for role in roles:
            targets = list(self.conns[role])
            for i in range(0, len(targets), FANOUT_STEP):
                written += self._write_chunk(targets[i : i + FANOUT_STEP], prepared, on_written)
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

    def _write_chunk(self, chunk: list[Conn], prepared: Prepared, on_written: OnWritten | None) -> int:
        """One step of a broadcast: idle sockets written directly (over the fan-out threads when
        the step is large enough), the others through ``push``; then ``on_written`` once."""
        direct: list[Conn] = []
        datas: list[bytes] = []
        pushed: list[Conn] = []
        pushed_at: list[int] = []
        for conn in chunk:
            if conn.idle():
                direct.append(conn)
                datas.append(prepared.wire(conn.codec))
            elif conn.push(prepared):
                pushed.append(conn)
                pushed_at.append(time.monotonic_ns())
        times = self.writer.write(direct, datas)
        if on_written is not None:
            on_written(direct, times)
            if pushed:
                on_written(pushed, pushed_at)
        return len(direct) + len(pushed)

    @contextlib.contextmanager
    def batched(self) -> Iterator[None]:
        """Gather the frames pushed inside the block and write them together at its end."""
        if self.batch is not None:  # nested: the outer batch writes them
            yield
            return
        batch = self.batch = WriteBatch()
        try:
            yield
        finally:
            self.batch = None
            idle: list[int] = []
            for i, conn in enumerate(batch.conns):
                if conn.idle():
                    idle.append(i)
                elif not conn.closed:
                    conn.write(batch.datas[i])  # bytes queued: in order behind them (or gone, or cut off)
            self.writer.write([batch.conns[i] for i in idle], [batch.datas[i] for i in idle])

    def shutdown(self) -> None:
        self.writer.shutdown()

    async def close_all(self, code: int, reason: str) -> None:
        for role in Role:
            for conn in list(self.conns[role]):
                await conn.close(code, reason)
