"""The fan-out floor of this machine: the cost of the system call alone, without the engine.

    .venv/bin/python -m loadtest.floor --sockets 19500

The issue's fan-out target (16 µs per connection) was set on a machine where writing a
pre-built frame straight to each transport cost ≈ 10 µs. Machines differ (a shared VM's
loopback more than most), so the benchmark report measures that same reference here, next
to the engine, in the same run: a bare event loop holding N loopback sockets (opened by two
client processes that only read) writes one 300-byte WebSocket frame to each of them:

- ``transport``: ``transport.write`` in a loop, on asyncio and on uvloop — the floor for a
  single-threaded server;
- ``threads2``: ``os.write`` to the file descriptors from two threads, which is what the
  engine's fan-out does (hub.py) — the floor for it;
- ``engine``: the engine's own ``Hub.broadcast`` (fan-out threads, the idle check, the wire per
  codec, the delivery allowances noted for every player) over the *same* sockets and readers,
  each socket a ``Conn`` on its transport as ``web/wsconn.py`` makes it. Against ``threads2``
  this is what the engine's code costs per socket, with the load generator's WebSocket
  parsing and everything else the full benchmark runs left out.

Each variant writes six rounds, 1.5 s apart; the result is the median µs per socket. Only
127.0.0.1, bounded in time, every process stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loadtest.swarm import raise_nofile, source_ip

FRAME = b"\x81\x7e\x01\x2c" + b"x" * 300  # one text frame with a 300-byte payload
ROUNDS = 6
VARIANTS = (("transport", "asyncio"), ("transport", "uvloop"), ("threads2", "uvloop"), ("engine", "uvloop"))


def _reader(port: int, start: int, n: int, ready: Any) -> None:
    """A client process: n sockets that read and discard."""
    raise_nofile()

    class Sink(asyncio.Protocol):
        def data_received(self, data: bytes) -> None:
            pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for i in range(start, start + n):
            await loop.create_connection(Sink, "127.0.0.1", port, local_addr=(source_ip(i, 250), 0))
        ready.set()
        await asyncio.sleep(600)

    asyncio.run(main())


def _write_part(fds: list[int]) -> None:
    write = os.write
    for fd in fds:
        write(fd, FRAME)


def _engine_fanout(transports: list[asyncio.Transport]) -> Callable[[int], Awaitable[None]]:
    """One round of the engine's broadcast (a question frame, its allowances) over these transports."""
    from quiz_engine.delivery import Delivery
    from quiz_engine.hub import Conn, Hub, Role
    from quiz_engine.protocol.codec import JSON, Prepared

    class TransportConn(Conn):
        __slots__ = ("transport",)

        def __init__(self, transport: asyncio.Transport) -> None:
            super().__init__(Role.VIEWER, JSON, "127.0.0.1", fd=transport.get_extra_info("socket").fileno())
            self.transport = transport

        def writable(self) -> bool:
            return not self.transport.is_closing()

        def buffered(self) -> int:
            return self.transport.get_write_buffer_size()

        def idle(self) -> bool:  # as WebSocketConnection.idle
            return self.fd >= 0 and not self.closed and not self.transport.get_write_buffer_size()

        def write_rest(self, data: bytes) -> None:
            self.transport.write(data)

    hub = Hub(fanout_threads=2)
    for i, t in enumerate(transports):
        conn = TransportConn(t)
        conn.player = f"p{i}"
        hub.add(conn)
    frame = {"type": "question", "text": "x" * 270}  # framed: 293 bytes, about FRAME's size

    async def one(r: int) -> None:
        delivery = Delivery(("floor", r, 0), 10**9)
        delivery.begin(time.monotonic_ns() // 1000, 0)
        await hub.broadcast((Role.VIEWER,), Prepared(frame), delivery.on_written)
        assert len(delivery.allowance) == len(transports)

    return one


async def _measure(n: int, mode: str) -> float:
    transports: list[asyncio.Transport] = []

    class Server(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            transports.append(transport)  # type: ignore[arg-type]

    loop = asyncio.get_running_loop()
    server = await loop.create_server(Server, "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    ctx = mp.get_context("spawn")
    half = n // 2
    events = [ctx.Event() for _ in range(2)]
    procs = [ctx.Process(target=_reader, args=(port, i * half, half if i == 0 else n - half, events[i]), daemon=True)
             for i in range(2)]
    for p in procs:
        p.start()
    try:
        deadline = time.monotonic() + 120
        while len(transports) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(transports)} of {n} sockets connected")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        fds = [t.get_extra_info("socket").fileno() for t in transports]
        pool = ThreadPoolExecutor(1)
        engine = _engine_fanout(transports) if mode == "engine" else None
        per_conn = []
        for r in range(ROUNDS):
            t0 = time.perf_counter()
            if engine is not None:
                await engine(r)
            elif mode == "transport":
                for t in transports:
                    t.write(FRAME)
            else:
                helper = pool.submit(_write_part, fds[: n // 2])
                _write_part(fds[n // 2 :])
                helper.result()
            per_conn.append((time.perf_counter() - t0) / n * 1e6)
            await asyncio.sleep(1.5)
        pool.shutdown()
        return round(statistics.median(per_conn), 1)
    finally:
        for p in procs:
            p.kill()
            p.join(5)
        for t in transports:
            t.abort()
        server.close()


def _run_variant(n: int, mode: str, loop: str, out: Any) -> None:
    raise_nofile()
    if loop == "uvloop":
        import uvloop

        out.put(uvloop.run(_measure(n, mode)))
    else:
        out.put(asyncio.run(_measure(n, mode)))


def measure(n: int) -> dict[str, float]:
    """Median µs per socket for each variant, each in a fresh process."""
    ctx = mp.get_context("spawn")
    results: dict[str, float] = {}
    for mode, loop in VARIANTS:
        out = ctx.Queue()
        proc = ctx.Process(target=_run_variant, args=(n, mode, loop, out))
        proc.start()
        proc.join(300)
        if proc.is_alive():
            proc.kill()
            raise TimeoutError(f"floor {mode}/{loop} did not finish")
        results[f"{mode}/{loop}"] = out.get(timeout=5)
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sockets", type=int, default=19500)
    args = p.parse_args()
    print(json.dumps({"sockets": args.sockets, "us_per_socket": measure(args.sockets)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
