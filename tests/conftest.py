"""Shared fixtures: a real redis-server for the session and real server processes.

Servers run as ``python -m quiz_engine serve`` child processes on a free loopback port
(the same code path as production, and killable for fault tests). Each test that asks
for a server gets a fresh Redis database (FLUSHALL) so tests never see each other's data.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis

from quiz_engine.redis_server import EmbeddedRedis, free_port
from tests.redis_cluster import LocalCluster

ROOT = Path(__file__).resolve().parents[1]
TEST_BANK = ROOT / "tests" / "banks" / "test-bank.toml"
HOST_TOKEN = "test-host-token-123456"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: EmbeddedRedis) -> str:
    return redis_server.url


@dataclass
class ServerProc:
    port: int
    redis_url: str
    proc: subprocess.Popen[str]
    host_token: str = HOST_TOKEN
    overlay_token: str = ""
    log_path: Path | None = None
    args: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def host(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"authorization": f"Bearer {self.host_token}"}, timeout=10)

    def cmd(self, command: str, **body: object) -> httpx.Response:
        with self.host() as c:
            return c.post(f"/api/host/{command}", json=body)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(redis_url: str, tmp: Path, *extra: str, port: int | None = None,
                 env: dict[str, str] | None = None) -> ServerProc:
    port = port or free_port()
    log_path = tmp / f"server-{port}-{time.monotonic_ns()}.log"
    args = [sys.executable, "-m", "quiz_engine", "serve", "--port", str(port), "--redis-url", redis_url,
            "--host-token", HOST_TOKEN, "--bank", str(TEST_BANK), "--log-level", "warning", *extra]
    out = open(log_path, "w")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    server = ServerProc(port, redis_url, proc, log_path=log_path, args=args)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        match = re.search(r"overlay\?token=(\S+)", server.log())
        if match:
            try:
                if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                    server.overlay_token = match.group(1)
                    return server
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server did not start:\n{server.log()}")


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A local Redis Cluster (three masters), for the multi-node tests."""
    cluster = LocalCluster().start()
    yield cluster
    cluster.stop()


@pytest.fixture
def fresh_redis(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    return redis_url


@pytest.fixture
async def raw(fresh_redis: str) -> AsyncIterator[aioredis.Redis]:
    """A plain client beside the store, to look at or tamper with what it wrote."""
    client = aioredis.Redis.from_url(fresh_redis, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def make_server(fresh_redis: str, tmp_path: Path) -> Iterator[Callable[..., ServerProc]]:
    started: list[ServerProc] = []

    def make(*extra: str, port: int | None = None, env: dict[str, str] | None = None) -> ServerProc:
        server = start_server(fresh_redis, tmp_path, *extra, port=port, env=env)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(signal.SIGKILL)


# every way the node reads client frames (QUIZ_WS_IMPL) on both event loops (QUIZ_LOOP)
SOCKET_IMPLS = [("fast", "uvloop"), ("fast", "asyncio"), ("parser", "uvloop"), ("parser", "asyncio")]


@pytest.fixture(params=SOCKET_IMPLS, ids=["-".join(p) for p in SOCKET_IMPLS])
def socket_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """The environment of one socket implementation: a socket test taking it runs over all."""
    impl, loop = request.param
    return {"QUIZ_WS_IMPL": impl, "QUIZ_LOOP": loop}


@pytest.fixture
def server(make_server: Callable[..., ServerProc]) -> ServerProc:
    """A server with the test bank's episode ep1 loaded, in the lobby."""
    return make_server("--load", "test/ep1")
