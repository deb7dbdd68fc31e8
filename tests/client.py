"""A small scripted viewer/overlay client, written from docs/protocol.md."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack
import websockets
from websockets.asyncio.client import ClientConnection


class Client:
    """One WebSocket; records every frame it receives (for leak checks)."""

    def __init__(self, ws: ClientConnection, binary: bool = False) -> None:
        self.ws = ws
        self.binary = binary
        self.frames: list[dict[str, Any]] = []
        self.raw: list[str | bytes] = []
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.player: str | None = None
        self.token: str | None = None
        self.closed_code: int | None = None

    @classmethod
    async def connect(cls, url: str, msgpack_codec: bool = False, **kwargs: Any) -> Client:
        sub = ["quiz.v1.msgpack"] if msgpack_codec else None
        ws = await websockets.connect(url, subprotocols=sub, max_size=2**20, **kwargs)  # type: ignore[arg-type]
        return cls(ws, binary=msgpack_codec)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.raw.append(raw)
                frame = msgpack.unpackb(raw, raw=False) if isinstance(raw, bytes) else json.loads(raw)
                self.frames.append(frame)
                self._queue.put_nowait(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            self.closed_code = self.ws.close_code
            self._queue.put_nowait({"type": "_closed", "code": self.ws.close_code})

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(msgpack.packb(frame) if self.binary else json.dumps(frame))

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def expect(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """The next frame of type ``kind`` (and matching fields), skipping others."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while True:
            left = end - loop.time()
            if left <= 0:
                raise TimeoutError(f"no {kind} frame {match} within {timeout}s; got {[f['type'] for f in self.frames]}")
            frame = await asyncio.wait_for(self._queue.get(), left)
            if frame["type"] == "_closed" and kind != "_closed":
                raise ConnectionError(f"socket closed with code {frame['code']} while waiting for {kind}")
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def join(self, name: str, **fields: Any) -> dict[str, Any]:
        await self.send({"type": "join", "name": name, **fields})
        welcome = await self.expect("welcome")
        self.player, self.token = welcome["player"], welcome["token"]
        await self.expect("snapshot")
        return welcome

    async def resume(self, token: str) -> dict[str, Any]:
        await self.send({"type": "resume", "token": token})
        welcome = await self.expect("welcome")
        self.player, self.token = welcome["player"], welcome["token"]
        return await self.expect("snapshot")

    async def answer(self, question: int, option: int, ref: str | None = None) -> dict[str, Any]:
        await self.send({"type": "answer", "question": question, "option": option, "ref": ref})
        return await self.expect("ack")

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


async def joined(url: str, *names: str) -> list[Client]:
    """One connected, joined viewer per name."""
    clients = [await Client.connect(url) for _ in names]
    for client, name in zip(clients, names, strict=True):
        await client.join(name)
    return clients
