"""The fan-out writer: one frame's bytes to many idle sockets, on several cores.

One ``send(2)`` per socket is the floor of a fan-out, and on a plain TCP socket the system
call is nearly all of it (18-23 µs per socket on loopback on the 2-core benchmark machine,
whichever event loop). A large broadcast therefore hands the sockets whose transport has
nothing queued to ``threads`` threads (the loop's own and helpers) that ``os.write`` the
bytes to the file descriptors: the GIL is released in the system call, so the kernel work
runs on several cores (≈ 13 µs per socket with two threads there).

The time of each write is noted by the thread that made it; the hub hands the times of a
step to its callback at once (``Delivery.on_written``: one tight loop, not a call per socket).

What makes it safe, and what the writer asserts or guarantees:

- it runs on the event loop's thread, which does nothing else until every helper is done,
  so no transport is touched by the loop meanwhile;
- each socket appears once (asserted), and only sockets with an empty transport buffer are
  written directly, so bytes cannot overtake queued ones: the caller checks each socket in
  the same loop turn (``Conn.idle``), this spot-checks it;
- the descriptors are plain TCP sockets (no TLS: the caller decides from public
  ``get_extra_info``), and ``SIGPIPE`` is ignored (Python's default), so a dead peer is an
  ``EPIPE`` error, not a signal;
- the threads claim blocks of indexes under a lock (no reliance on a GIL-atomic iterator),
  so a thread the OS has descheduled leaves its share to the others;
- any failure on one socket (a full kernel buffer, a dead peer, anything else) is recorded
  for that socket only: its bytes then go through ``transport.write``, which buffers them or
  reports the error exactly as for any other write; the rest of the broadcast goes on.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

log = logging.getLogger("quiz_engine.fanout")

THREADED_MIN = 64  # fewer sockets than this: not worth waking a helper thread
BLOCK = 32  # indexes a thread claims at a time


class Writable(Protocol):
    """What the writer needs of a socket: its descriptor and its transport's public API."""

    fd: int

    def buffered(self) -> int: ...

    def write_rest(self, data: bytes) -> None: ...


class _Claims:
    """Blocks of ``range(n)`` handed out under a lock."""

    __slots__ = ("lock", "n", "next")

    def __init__(self, n: int) -> None:
        self.lock = threading.Lock()
        self.n = n
        self.next = 0

    def take(self) -> range:
        with self.lock:
            start = self.next
            self.next = min(self.n, start + BLOCK)
        return range(start, self.next)


def _write_fds(fds: Sequence[int], datas: Sequence[bytes], sent: list[int], times: list[int], claims: _Claims,
               short: list[int]) -> None:
    write, mono = os.write, time.monotonic_ns
    while block := claims.take():
        for i in block:
            data = datas[i]
            try:
                n = write(fds[i], data)
            except BaseException:  # noqa: BLE001 - EAGAIN, EPIPE, a closed fd...: transport.write decides
                n = -1
            times[i] = mono()
            if n != len(data):
                sent[i] = n
                short.append(i)  # list.append is atomic: the few sockets the transport must finish


class FanoutWriter:
    """Owned by the hub; ``write`` is called from the event loop's thread only."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="fanout") if self.threads > 1 else None
        self._owner: int | None = None  # the thread that writes (the event loop's), set on first use
        if hasattr(signal, "SIGPIPE"):
            assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN, "SIGPIPE must be ignored for direct writes"

    def _run(self, n: int, part: Callable[..., None], *args: Any) -> None:
        """``part(*args)`` on this thread and the helpers, returning when every one is done."""
        me = threading.get_ident()
        if self._owner is None:
            self._owner = me
        assert me == self._owner, "the fan-out writer is used from one thread (the event loop's)"
        pool = self._pool if n >= THREADED_MIN else None
        helpers = [pool.submit(part, *args) for _ in range(self.threads - 1)] if pool is not None else []
        try:
            part(*args)
        finally:
            for helper in helpers:
                helper.result()  # blocks the loop: it must not touch these sockets until all are done

    def write(self, socks: Sequence[Writable], datas: Sequence[bytes]) -> list[int]:
        """Write ``datas[i]`` to idle socket ``socks[i]``; what could not be written directly goes
        through the transport. Returns when each write happened (monotonic ns)."""
        n = len(socks)
        if not n:
            return []
        fds = [s.fd for s in socks]
        assert min(fds) >= 0 and len(set(fds)) == n, "each socket once, each a plain descriptor"
        assert not socks[0].buffered() and not socks[-1].buffered(), "only sockets with nothing queued"
        sent, times, short = [0] * n, [0] * n, list[int]()
        self._run(n, _write_fds, fds, datas, sent, times, _Claims(n), short)
        for i in short:  # the rest (or all) through the transport: it buffers or fails
            _finish(socks[i], datas[i], sent[i])
        return times

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def _finish(sock: Writable, data: bytes, sent: int) -> None:
    """What a direct write left (or all of it, after an error) through the transport."""
    try:
        sock.write_rest(data[max(sent, 0):])
    except Exception:
        log.debug("transport write after a short direct write failed", exc_info=True)
