"""A TCP proxy for tests that can cut the network without closing anything.

``NetProxy(port)`` listens on a free loopback port and forwards every connection to
``127.0.0.1:port``. ``blackhole()`` stops forwarding bytes in both directions while every
socket stays open, as when a phone's radio loses the network: nothing is closed, nothing
gets through, and neither end is told. New connections are accepted (the kernel does that)
but not forwarded until ``restore()``. Bytes held back meanwhile are delivered after
``restore()``, as TCP would once its retransmissions get through.

Runs an asyncio loop in a daemon thread, so sync tests (Playwright) can drive it::

    with NetProxy(server.port) as proxy:
        page.goto(proxy.base + "/")
        proxy.blackhole()
        ...
        proxy.restore()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any


class NetProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.loop = asyncio.new_event_loop()
        self.flowing = asyncio.Event()
        self.connections = 0  # accepted so far (a test can see a reconnect)
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="netproxy", daemon=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port: int = sock.getsockname()[1]
        self._sock = sock

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> NetProxy:
        self._thread.start()
        self._call(self._start)
        return self

    def blackhole(self) -> None:
        """Stop forwarding in both directions; every socket stays open."""
        self._call(self._set_flowing, False)

    def restore(self) -> None:
        """Forward again, held-back bytes first."""
        self._call(self._set_flowing, True)

    @property
    def is_cut(self) -> bool:
        return not self.flowing.is_set()

    def close(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._call(self._stop)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> NetProxy:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def run() -> Any:
            result = fn(*args)
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    # ------------------------------------------------------------------ the loop's side
    async def _start(self) -> None:
        self.flowing.set()
        self._server = await asyncio.start_server(self._accept, sock=self._sock)

    def _set_flowing(self, on: bool) -> None:
        if on:
            self.flowing.set()
        else:
            self.flowing.clear()

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(client_w)
        try:
            await self.flowing.wait()  # a cut network: the connection never reaches the server
            try:
                server_r, server_w = await asyncio.open_connection(*self.target)
            except OSError:
                client_w.close()
                return
            self._writers.add(server_w)
            self._spawn(self._pump(server_r, client_w))
            await self._pump(client_r, server_w)
        finally:
            self._writers.discard(client_w)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                await self.flowing.wait()  # held back while cut, delivered after restore()
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                if writer.can_write_eof():
                    writer.write_eof()
            self._writers.discard(writer)
            writer.close()
