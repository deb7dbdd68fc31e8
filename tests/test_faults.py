"""Faults during a live show, on real processes killed for real.

- a server node SIGKILLed mid-question and restarted on the same port;
- a graceful deploy (SIGTERM) with a second node taking over, no host action;
- Redis SIGKILLed mid-question and restarted on its AOF; Redis restarted between questions;
- an answer whose reply from Redis is lost (a TCP proxy drops it) and is retried;
- dead consumers (raw sockets that never read) while large frames are broadcast;
- a client that misses a frame and resyncs from a snapshot.

Tests that kill Redis run their own ``EmbeddedRedis``, never the session one. Every
process a test starts is stopped in a ``finally``. Timings are never asserted tightly
(the machine is shared): the assertions are about what was stored and sent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import psutil
import redis as redis_lib
import websockets

from quiz_engine.redis_server import EmbeddedRedis, free_port
from quiz_engine.store.keys import EpisodeKeys
from tests.client import Client
from tests.conftest import ServerProc, start_server

EP = "fault.e"
KEYS = EpisodeKeys(EP)


def write_bank(tmp: Path, limits: list[float], text_bytes: int = 0, bank: str = "fault") -> Path:
    """A bank with one episode ``e`` whose questions have these time limits (answer always B)."""
    lines = [f'[bank]\nid = "{bank}"\ntitle = "Fault bank"\nlanguage = "en"\n',
             '[[episodes]]\nid = "e"\ntitle = "Faults"\nquestions = [' +
             ", ".join(f'"q{i}"' for i in range(len(limits))) + "]\n"]
    for i, limit in enumerate(limits):
        filler = (" " + "Thủ tục hành chính một cửa liên thông" * (text_bytes // 30 + 1))[:text_bytes]
        lines.append(f'[[questions]]\nid = "q{i}"\ntext = "Question {i}?{filler}"\n'
                     f'options = ["A{i}", "B{i}", "C{i}", "D{i}"]\nanswer = "B"\ntime_limit = {limit}\n')
    path = tmp / f"{bank}.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def stored_answers(redis_url: str, q: int, keys: EpisodeKeys = KEYS) -> dict[str, tuple[int, int]]:
    """player -> (option, response µs) as stored by the answer script."""
    r = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        raw = r.hgetall(keys.answers(q))
    finally:
        r.close()
    return {p: (int(v.split("|")[0]), int(v.split("|")[1])) for p, v in raw.items()}


def audit_answers(redis_url: str, q: int) -> list[str]:
    """Players with an accepted-answer entry for question q in the audit stream (with repeats)."""
    r = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        return [f["p"] for _, f in r.xrange(KEYS.audit) if f.get("e") == "ans" and f.get("q") == str(q)]
    finally:
        r.close()


def count_n(redis_url: str, q: int) -> int:
    r = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        return int(r.hget(KEYS.counts(q), "n") or 0)
    finally:
        r.close()


def assert_acks_kept(redis_url: str, q: int, acked: dict[str, dict[str, Any]]) -> None:
    """0 acknowledged answers lost, 0 counted twice."""
    stored = stored_answers(redis_url, q)
    lost = [p for p, ack in acked.items() if stored.get(p, (None, None))[0] != ack["option"]]
    assert not lost, f"acknowledged answers lost: {lost}"
    for p, ack in acked.items():
        assert round(stored[p][1] / 1000, 1) == ack["time_ms"], (p, stored[p], ack)
    in_audit = audit_answers(redis_url, q)
    assert len(in_audit) == len(set(in_audit)) == len(stored) == count_n(redis_url, q)


def host_get(server: ServerProc, path: str) -> httpx.Response:
    with server.host() as host:
        return host.get(path)


class Viewer:
    """A viewer that reconnects by itself (backoff with jitter) and resumes, as docs/protocol.md says.

    ``urls`` are tried in turn (a second node behind a load balancer). Every frame of every
    connection is kept in ``frames``; ``ready`` is set once the current connection has
    joined/resumed and received its snapshot.
    """

    RECONNECT: ClassVar[frozenset[int]] = frozenset({1001, 1006, 1011, 1012, 1013, 4008})

    def __init__(self, urls: list[str], name: str) -> None:
        self.urls, self.name = urls, name
        self.token: str | None = None
        self.player: str | None = None
        self.ws: Any = None
        self.generation = 0
        self.ready = asyncio.Event()
        self.frames: list[tuple[int, dict[str, Any]]] = []  # (connection generation, frame)
        self.resume_snapshots: list[dict[str, Any]] = []
        self.close_codes: list[int | None] = []
        self.stopped = False
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        delay, i = 0.1, 0
        while not self.stopped:
            url = self.urls[i % len(self.urls)]
            i += 1
            try:
                async with websockets.connect(url, open_timeout=5, max_size=2**22, ping_interval=None) as ws:
                    self.generation += 1
                    gen, joined = self.generation, False
                    self.ws = ws
                    if self.token:
                        await ws.send(json.dumps({"type": "resume", "token": self.token}))
                    else:
                        await ws.send(json.dumps({"type": "join", "name": self.name}))
                    async for raw in ws:
                        frame = json.loads(raw)
                        self.frames.append((gen, frame))
                        if frame["type"] == "welcome":
                            self.player, self.token, joined = frame["player"], frame["token"], True
                        elif frame["type"] == "snapshot" and joined and not self.ready.is_set():
                            self.resume_snapshots.append(frame)
                            self.ready.set()
                            delay = 0.1
                        elif frame["type"] == "error" and frame["code"] == "bad_token":
                            self.token = None
                self.close_codes.append(ws.close_code)
                if ws.close_code not in self.RECONNECT:
                    return
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
                if isinstance(exc, websockets.ConnectionClosed):
                    self.close_codes.append(code or 1006)
            finally:
                self.ws = None
                self.ready.clear()
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    async def wait_ready(self, timeout: float = 30, after: int = 0) -> None:
        """Until a connection newer than generation ``after`` has joined/resumed."""
        end = time.monotonic() + timeout
        while not (self.ready.is_set() and self.generation > after):
            if time.monotonic() > end:
                raise TimeoutError(f"{self.name} not back (generation {self.generation}, codes {self.close_codes})")
            await asyncio.sleep(0.02)

    async def wait_frame(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 20,
                         start: int = 0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for _, frame in self.frames[start:]:
                if pred(frame):
                    return frame
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{self.name}: no matching frame; got {[f['type'] for _, f in self.frames][-20:]}")

    async def answer(self, q: int, option: int, timeout: float = 30) -> dict[str, Any]:
        """Send until a definitive ack arrives; a lost connection or try_again means send again."""
        end = time.monotonic() + timeout
        attempt = 0
        while time.monotonic() < end:
            await asyncio.wait_for(self.ready.wait(), max(0.1, end - time.monotonic()))
            attempt += 1
            ref = f"{self.name}-{q}-{attempt}"
            start, gen, ws = len(self.frames), self.generation, self.ws
            try:
                await ws.send(json.dumps({"type": "answer", "question": q, "option": option, "ref": ref}))
            except (AttributeError, websockets.ConnectionClosed):
                await asyncio.sleep(0.05)
                continue
            while time.monotonic() < end and self.generation == gen and self.ws is ws:
                ack = next((f for _, f in self.frames[start:] if f["type"] == "ack" and f.get("ref") == ref), None)
                if ack is not None:
                    if ack["ok"] or ack["reason"] != "try_again":
                        return ack
                    await asyncio.sleep(0.2)
                    break
                await asyncio.sleep(0.02)
        raise TimeoutError(f"{self.name}: no ack for question {q}")

    async def stop(self) -> None:
        self.stopped = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task


async def stop_all(viewers: list[Viewer]) -> None:
    await asyncio.gather(*(v.stop() for v in viewers))


# --- server node killed ------------------------------------------------------------------


async def test_node_sigkill_mid_question_and_restart(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    bank = write_bank(tmp_path, [14, 30])
    port = free_port()
    server = make_server("--bank", str(bank), "--load", "fault/e", "--grace-ms", "300", port=port)
    n = 20
    viewers = [Viewer([f"{server.ws}/ws/viewer"], f"v{i:02d}") for i in range(n)]
    try:
        await asyncio.gather(*(v.wait_ready() for v in viewers))
        assert server.cmd("open", expect=0).status_code == 200
        questions = await asyncio.gather(*(v.wait_frame(lambda f: f["type"] == "question") for v in viewers))
        deadline = questions[0]["deadline"]
        opened = time.monotonic()
        # half answer before the crash, all acknowledged
        acked: dict[str, dict[str, Any]] = {}
        first = await asyncio.gather(*(v.answer(0, i % 4) for i, v in enumerate(viewers[: n // 2])))
        for v, ack in zip(viewers[: n // 2], first, strict=True):
            assert ack["ok"], ack
            assert v.player
            acked[v.player] = ack
        # some answers are in flight at the moment of the crash: their fate is unknown to the client
        in_flight = viewers[n // 2 : n // 2 + 4]
        for v in in_flight:
            with contextlib.suppress(Exception):
                await v.ws.send(json.dumps({"type": "answer", "question": 0, "option": 1, "ref": "flight"}))
        server.stop(signal.SIGKILL)
        assert server.proc.returncode == -signal.SIGKILL
        killed_at = time.monotonic()
        restarted = make_server("--bank", str(bank), "--load", "fault/e", "--grace-ms", "300", port=port)
        await asyncio.gather(*(v.wait_ready(40, after=1) for v in viewers))
        back_after = time.monotonic() - killed_at
        # every viewer lands in the same open question, same deadline, with its own answer
        for v in viewers:
            snap = v.resume_snapshots[-1]
            assert snap["phase"] == "question" and snap["index"] == 0, snap
            assert snap["deadline"] == deadline and snap["question"]["deadline"] == deadline
            if v.player in acked:
                a = acked[v.player]
                assert snap["you"] == {"option": a["option"], "time_ms": a["time_ms"]}, (snap["you"], a)
            elif v not in in_flight:
                assert snap["you"] is None
        # the other half answer on the restarted node; the clock still runs from the first delivery
        second = await asyncio.gather(*(v.answer(0, 1) for v in viewers[n // 2 :]))
        for v, ack in zip(viewers[n // 2 :], second, strict=True):
            assert v.player
            if v in in_flight and not ack["ok"]:
                assert ack["reason"] == "duplicate" and ack["option"] == 1  # the in-flight one was stored
                continue
            assert ack["ok"], ack
            assert ack["time_ms"] >= (killed_at - opened) * 1000 - 500, ack  # not restarted at reconnect
            acked[v.player] = ack
        # the question still closes by itself, on time, on the restarted node
        closed = await viewers[0].wait_frame(lambda f: f["type"] == "closed", timeout=40)
        assert deadline + 300 <= closed["now"] <= deadline + 300 + 10_000
        assert_acks_kept(restarted.redis_url, 0, acked)
        assert len(stored_answers(restarted.redis_url, 0)) == n
        verify = host_get(restarted, "/api/host/verify").json()
        assert verify["ok"], verify
        print(f"\n[faults] node SIGKILL: {n} viewers back in {back_after:.1f} s; "
              f"{len(acked)} acknowledged answers, 0 lost, 0 doubled; closed {closed['now'] - deadline} ms "
              "after the deadline")
    finally:
        await stop_all(viewers)


async def test_graceful_sigterm_second_node_takes_over(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    bank = write_bank(tmp_path, [10, 30])
    a = make_server("--bank", str(bank), "--load", "fault/e", "--grace-ms", "300")
    b = make_server("--bank", str(bank), "--grace-ms", "300")
    viewers = [Viewer([f"{a.ws}/ws/viewer", f"{b.ws}/ws/viewer"], f"g{i:02d}") for i in range(10)]
    try:
        await asyncio.gather(*(v.wait_ready() for v in viewers))
        assert a.cmd("open", expect=0).status_code == 200
        q = await viewers[0].wait_frame(lambda f: f["type"] == "question")
        acked = {}
        for v in viewers[:5]:
            ack = await v.answer(0, 1)
            assert ack["ok"]
            acked[v.player] = ack
        a.stop(signal.SIGTERM)
        assert a.proc.returncode == 0
        await asyncio.gather(*(v.wait_ready(30, after=1) for v in viewers))
        for v in viewers:
            assert v.close_codes[0] == 1012, v.close_codes  # "server restarting": reconnect
            snap = v.resume_snapshots[-1]
            assert snap["phase"] == "question" and snap["deadline"] == q["deadline"]
        for v in viewers[5:]:
            ack = await v.answer(0, 2)
            assert ack["ok"], ack
            acked[v.player] = ack
        # no host action: node B's timer closes the question
        closed = await viewers[-1].wait_frame(lambda f: f["type"] == "closed", timeout=30)
        assert closed["now"] >= q["deadline"] + 300
        assert_acks_kept(b.redis_url, 0, acked)
        # and the show goes on through B
        assert b.cmd("reveal").status_code == 200
        assert b.cmd("open", expect=1).status_code == 200
        await viewers[3].wait_frame(lambda f: f["type"] == "question" and f["index"] == 1)
        assert (await viewers[3].answer(1, 1))["ok"]
        assert host_get(b, "/api/host/verify").json()["ok"]
    finally:
        await stop_all(viewers)


# --- Redis killed --------------------------------------------------------------------------


@contextlib.contextmanager
def own_redis(tmp: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(httpx.HTTPError):
            if pred():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_redis_sigkill_mid_question(tmp_path: Path) -> None:
    bank = write_bank(tmp_path, [120, 30])
    with own_redis(tmp_path) as rds:
        server = start_server(rds.url, tmp_path, "--bank", str(bank), "--load", "fault/e")
        clients: list[Client] = []
        try:
            for i in range(10):
                c = await Client.connect(f"{server.ws}/ws/viewer")
                await c.join(f"r{i}")
                clients.append(c)
            assert server.cmd("open", expect=0).status_code == 200
            for c in clients:
                await c.expect("question")
            acked = {}
            for c in clients[:5]:
                ack = await c.answer(0, 1)
                assert ack["ok"]
                acked[c.player] = ack

            panel = httpx.Client(base_url=server.base, timeout=15)  # the host panel: a session cookie
            csrf = panel.post("/api/host/login", json={"token": server.host_token}).json()["csrf"]
            rds.kill()  # SIGKILL; the AOF was written (not necessarily fsynced) before each reply
            down_at = time.monotonic()
            # the panel's cookie-authenticated calls get 503 (try again), never a 500
            assert panel.get("/api/host/state").status_code == 503
            assert panel.get("/api/host/session").status_code == 503
            assert panel.post("/api/host/close", headers={"x-csrf-token": csrf}).status_code == 503
            assert panel.get("/api/host/reports/results.xlsx", params={"episode": EP}).status_code == 503
            assert panel.post("/api/host/login", json={"token": server.host_token}).status_code == 503
            panel.close()
            # while Redis is down: a clear "try again", never a false acknowledgement
            for c in clients[5:]:
                ack = await c.answer(0, 2)
                assert (ack["ok"], ack["reason"]) == (False, "try_again"), ack
            await clients[0].send({"type": "ping", "t": 42})
            assert (await clients[0].expect("pong"))["t"] == 42
            newcomer = await Client.connect(f"{server.ws}/ws/viewer")
            await newcomer.expect("snapshot")
            await newcomer.send({"type": "join", "name": "Late"})
            assert (await newcomer.expect("error"))["code"] == "unavailable"
            assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
            ready = httpx.get(f"{server.base}/readyz", timeout=10)
            assert ready.status_code == 503 and ready.json()["ok"] is False
            assert server.cmd("close").status_code == 503
            state = host_get(server, "/api/host/state").json()
            assert state["redis_ok"] is False and state["phase"] == "question"
            await asyncio.sleep(1.0)
            assert server.proc.poll() is None

            rds.start()  # same directory, same port: replays the AOF
            wait_until(lambda: httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200, 20, "/readyz")
            outage_s = time.monotonic() - down_at
            assert_acks_kept(rds.url, 0, acked)  # 0 acknowledged answers lost
            assert set(stored_answers(rds.url, 0)) == set(acked)  # try_again answers were not stored
            wait_until(lambda: bool(host_get(server, "/api/host/state").json()["incidents"]), 20, "incident")
            state = host_get(server, "/api/host/state").json()
            incident = state["incidents"][0]
            assert incident["episode"] == EP and incident["question"] == 0 and incident["phase"] == "question"
            assert incident["try_again"] >= 5 and incident["end"] >= incident["start"]
            assert state["redis_ok"] is True
            # the viewers told "try again" do so, on the same sockets
            for c in clients[5:]:
                ack = await c.answer(0, 2)
                assert ack["ok"], ack
            # the host voids the question and plays it again
            assert server.cmd("close").status_code == 200
            assert server.cmd("void", reason="Redis outage").status_code == 200
            assert server.cmd("rerun").status_code == 200
            assert server.cmd("open", expect=0).status_code == 200
            for c in clients:
                q = await c.expect("question", index=0)
                assert q["deadline"] > incident["end"]
                assert (await c.answer(0, 1))["ok"]
            verify = host_get(server, "/api/host/verify").json()
            assert verify["ok"], verify
            print(f"\n[faults] Redis SIGKILL: outage {outage_s:.1f} s, {len(acked)} acknowledged answers kept, "
                  f"5 try_again (not stored), incident recorded, void + rerun ok")
            await newcomer.close()
        finally:
            for c in clients:
                await c.close()
            server.stop()


async def test_redis_restart_between_questions(tmp_path: Path) -> None:
    bank = write_bank(tmp_path, [120, 120])
    with own_redis(tmp_path) as rds:
        server = start_server(rds.url, tmp_path, "--bank", str(bank), "--load", "fault/e")
        clients: list[Client] = []
        try:
            for i in range(4):
                c = await Client.connect(f"{server.ws}/ws/viewer")
                await c.join(f"b{i}")
                clients.append(c)
            assert server.cmd("open", expect=0).status_code == 200
            acked = {}
            for c in clients:
                await c.expect("question")
                acked[c.player] = await c.answer(0, 1)
            assert server.cmd("close").status_code == 200
            assert server.cmd("reveal").status_code == 200
            for c in clients:
                await c.expect("reveal")
            rds.kill()
            await asyncio.sleep(1.5)
            rds.start()
            wait_until(lambda: httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200, 20, "/readyz")
            state = host_get(server, "/api/host/state").json()
            assert state["phase"] == "revealed" and state["next_question"]["index"] == 1
            assert server.cmd("open", expect=1).status_code == 200
            for c in clients:  # the same sockets: nobody had to reconnect
                await c.expect("question", index=1)
                assert (await c.answer(1, 1))["ok"]
            assert_acks_kept(rds.url, 0, acked)
            assert server.cmd("close").status_code == 200
            assert server.cmd("finish").status_code == 200
            verify = host_get(server, "/api/host/verify").json()
            assert verify["ok"], verify
        finally:
            for c in clients:
                await c.close()
            server.stop()


# --- a lost Redis reply, retried ---------------------------------------------------------------


class DroppingProxy:
    """A TCP proxy in front of Redis (in its own thread and event loop) that, when armed,
    lets one answer-script pipeline reach Redis and then cuts the connection instead of
    passing the reply back: the script ran, the server never hears about it."""

    def __init__(self, upstream_port: int, sha: str) -> None:
        self.upstream_port, self.sha = upstream_port, sha.encode()
        self.armed = False
        self.dropped = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop).result(5)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        drop = asyncio.Event()

        async def client_to_redis() -> None:
            while data := await reader.read(65536):
                if self.armed and b"EVALSHA" in data.upper() and self.sha in data:
                    self.armed = False
                    drop.set()
                up_w.write(data)
                await up_w.drain()

        async def redis_to_client() -> None:
            while data := await up_r.read(65536):
                if drop.is_set():
                    self.dropped += 1  # the script ran; its reply never reaches the server
                    break
                writer.write(data)
                await writer.drain()

        tasks = [asyncio.create_task(client_to_redis()), asyncio.create_task(redis_to_client())]
        with contextlib.suppress(Exception):
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        for w in (writer, up_w):
            with contextlib.suppress(Exception):
                w.transport.abort()


async def test_lost_redis_reply_is_retried_idempotently(fresh_redis: str, tmp_path: Path) -> None:
    from quiz_engine.store import scripts

    sha = hashlib.sha1(scripts.source("answer").encode()).hexdigest()  # the answer script as registered
    upstream = int(fresh_redis.rsplit(":", 1)[1].split("/")[0])
    proxy = DroppingProxy(upstream, sha)
    proxy.start()
    server = start_server(f"redis://127.0.0.1:{proxy.port}/0", tmp_path, "--load", "test/ep1")
    try:
        a = await Client.connect(f"{server.ws}/ws/viewer")
        await a.join("Retry")
        assert server.cmd("open").status_code == 200
        await a.expect("question")
        await asyncio.sleep(0.3)
        proxy.armed = True
        ack = await a.answer(0, 1)
        assert proxy.dropped == 1, "the proxy never dropped a reply"
        assert ack["ok"] and ack["option"] == 1, ack
        stored = stored_answers(fresh_redis, 0, EpisodeKeys("test.ep1"))
        assert list(stored) == [a.player]
        assert round(stored[a.player][1] / 1000, 1) == ack["time_ms"]  # the original time, not the retry's
        r = redis_lib.Redis.from_url(fresh_redis, decode_responses=True)
        entries = [f for _, f in r.xrange(EpisodeKeys("test.ep1").audit) if f.get("e") == "ans"]
        r.close()
        assert len(entries) == 1 and int(entries[0]["r"]) == stored[a.player][1]
        assert (await a.answer(0, 2))["reason"] == "duplicate"
        assert host_get(server, "/api/host/verify").json()["ok"]
        await a.close()
    finally:
        server.stop()
        proxy.stop()


# --- slow and dead consumers --------------------------------------------------------------------


def dead_socket(port: int) -> socket.socket:
    """Completes the WebSocket handshake, then never reads again (tiny receive buffer)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def metric(server: ServerProc, name: str) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=10).text
    match = re.search(rf"^{name}(?:\{{[^}}]*\}})? ([0-9.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_dead_consumers_are_cut_off_and_do_not_slow_the_rest(
    make_server: Callable[..., ServerProc], tmp_path: Path
) -> None:
    frame_kb, rounds = 64, 12
    bank = write_bank(tmp_path, [120] * rounds, text_bytes=frame_kb * 1024)
    server = make_server("--bank", str(bank), "--load", "fault/e")
    proc = psutil.Process(server.proc.pid)
    n_live, n_dead = 24, 1  # 4% of the audience never reads
    live = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(n_live)]
    for i, c in enumerate(live):
        await c.join(f"live{i}")
    dead = [dead_socket(server.port) for _ in range(n_dead)]
    try:
        await asyncio.sleep(0.5)
        rss_before = proc.memory_info().rss
        latencies, sent_to_dead = [], 0
        t_start = time.monotonic()
        for q in range(rounds):
            t0 = time.monotonic()
            assert server.cmd("open", expect=q).status_code == 200
            frames = await asyncio.gather(*(c.expect("question", index=q, timeout=20) for c in live))
            latencies.append(time.monotonic() - t0)
            assert all(len(f["text"].encode()) > frame_kb * 1000 for f in frames)
            sent_to_dead += len(json.dumps(frames[0], ensure_ascii=False).encode())
            assert server.cmd("close").status_code == 200
            await asyncio.gather(*(c.expect("closed", index=q, timeout=20) for c in live))
        rss_after = proc.memory_info().rss
        t_rounds = time.monotonic() - t_start
        assert sent_to_dead > 2 * (256 + 64 + 128) * 1024  # queue + transport + kernel, twice over
        assert metric(server, "quiz_slow_consumer_disconnects_total") == n_dead
        conns = metric(server, "quiz_connections")
        assert conns == n_live, conns
        # the dead sockets were closed by the server: draining them ends in EOF or a reset
        for s in dead:
            s.settimeout(10)
            received = 0
            with contextlib.suppress(ConnectionResetError):
                while chunk := s.recv(65536):
                    received += len(chunk)
            assert received < sent_to_dead  # their backlog was discarded, not kept in memory
        growth_mb = (rss_after - rss_before) / 2**20
        assert growth_mb < 64, growth_mb
        print(f"\n[faults] dead consumers: {n_dead}/{n_live + n_dead} cut off; question frame {frame_kb} KiB "
              f"to {n_live} live viewers: max {max(latencies) * 1000:.0f} ms command→last viewer "
              f"(median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms); RSS {rss_before / 2**20:.1f} → "
              f"{rss_after / 2**20:.1f} MiB; {rounds} rounds in {t_rounds:.1f} s")
    finally:
        for s in dead:
            s.close()
        for c in live:
            await c.close()


async def _raw_viewer(port: int, received: bytearray, stop: asyncio.Event) -> None:
    """A viewer socket that only reads, keeping every byte after the handshake."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                chunk = await asyncio.wait_for(reader.read(1 << 16), 0.2)
                if not chunk:
                    break
                received += chunk
    finally:
        writer.close()


def _server_frames(data: bytes) -> list[dict[str, Any]]:
    """Unmasked server text frames, whole, in order; fails on a torn or interleaved frame."""
    frames, i = [], 0
    while i < len(data):
        assert data[i] == 0x81, (i, data[i : i + 4])  # FIN + text, one frame per message
        n, head = data[i + 1] & 0x7F, i + 2
        if n == 126:
            n, head = int.from_bytes(data[head : head + 2], "big"), head + 2
        elif n == 127:
            n, head = int.from_bytes(data[head : head + 8], "big"), head + 8
        assert head + n <= len(data), "a frame was cut short"
        frames.append(json.loads(data[head : head + n]))
        i = head + n
    return frames


async def test_threaded_fanout_keeps_every_frame_whole_and_in_order(
    make_server: Callable[..., ServerProc], tmp_path: Path
) -> None:
    """600 sockets, so broadcasts take the threaded direct-write path (hub.py): 560 readers get
    every question frame whole and in order, while 40 that never read fill their kernel buffers
    (partial and refused direct writes, the rest through the transport) until they are cut off."""
    frame_kb, rounds, n_live, n_dead = 32, 8, 560, 40
    bank = write_bank(tmp_path, [120] * rounds, text_bytes=frame_kb * 1024)
    server = make_server("--bank", str(bank), "--load", "fault/e",
                         env={"QUIZ_FANOUT_THREADS": "2", "QUIZ_MAX_BUFFER": "65536"})
    stop = asyncio.Event()
    received = [bytearray() for _ in range(n_live)]
    readers = [asyncio.create_task(_raw_viewer(server.port, buf, stop)) for buf in received]
    dead = [dead_socket(server.port) for _ in range(n_dead)]
    try:
        for _ in range(200):
            if metric(server, "quiz_connections") >= n_live + n_dead:
                break
            await asyncio.sleep(0.05)
        for q in range(rounds):
            assert server.cmd("open", expect=q).status_code == 200
            await asyncio.sleep(0.3)
            assert server.cmd("close").status_code == 200
        await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*readers)
        for buf in received:
            frames = _server_frames(bytes(buf))
            questions = [f["index"] for f in frames if f["type"] == "question"]
            assert questions == list(range(rounds)), questions
            seqs = [f["seq"] for f in frames if "seq" in f]
            assert seqs == sorted(seqs), seqs
        assert metric(server, "quiz_slow_consumer_disconnects_total") == n_dead
        assert metric(server, "quiz_fanout_seconds_count") >= rounds
    finally:
        stop.set()
        for s in dead:
            s.close()


# --- dropped frames --------------------------------------------------------------------------------


async def test_missed_frame_is_noticed_by_seq_and_resynced(server: ServerProc) -> None:
    v = await Client.connect(f"{server.ws}/ws/viewer")
    await v.join("Gap")
    phases = ("lobby", "question", "closed", "reveal", "leaderboard", "finished")
    state = host_get(server, "/api/host/state").json()
    last_seq = state["seq"]
    assert server.cmd("open").status_code == 200
    q = await v.expect("question")
    assert q["seq"] == last_seq + 1
    last_seq = q["seq"]
    assert (await v.answer(0, 1))["ok"]
    assert server.cmd("close").status_code == 200
    assert server.cmd("reveal").status_code == 200
    dropped = resynced = 0
    while True:
        frame = await v._queue.get()
        if frame["type"] not in phases:
            continue
        if frame["type"] == "closed" and not dropped:
            dropped += 1  # the network ate this one
            continue
        if frame["seq"] > last_seq + 1:  # a gap: ask for a snapshot
            await v.send({"type": "sync", "ref": "gap"})
            snap = await v.expect("snapshot")
            assert snap["seq"] == frame["seq"] and snap["phase"] == "revealed"
            assert snap["result"]["correct"] == frame["correct"] == 1
            assert snap["you"]["option"] == 1
            resynced += 1
            break
        last_seq = frame["seq"]
    assert (dropped, resynced) == (1, 1)
    await v.close()
