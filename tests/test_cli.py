"""The command line: embedded Redis with AOF persistence across restarts, verify, results."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from quiz_engine.redis_server import EmbeddedRedis, free_port
from quiz_engine.store.keys import EpisodeKeys
from tests.client import Client
from tests.conftest import HOST_TOKEN, ROOT, TEST_BANK

CLI = [sys.executable, "-m", "quiz_engine"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


class Embedded:
    """``quiz-engine serve`` on the embedded Redis (no REDIS_URL), as a newcomer runs it."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.log = data_dir.parent / f"serve-{self.port}.log"
        env_args = ["serve", "--port", str(self.port), "--data-dir", str(data_dir), "--bank", str(TEST_BANK),
                    "--load", "test/ep1", "--host-token", HOST_TOKEN, "--log-level", "warning"]
        self.proc = subprocess.Popen([*CLI, *env_args], stdout=open(self.log, "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
                                     cwd=ROOT, env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            if "ready" in self.log.read_text():
                try:
                    if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        raise AssertionError(self.log.read_text())

    def cmd(self, command: str, **body: object) -> httpx.Response:
        return httpx.post(f"http://127.0.0.1:{self.port}/api/host/{command}", json=body,
                          headers={"authorization": f"Bearer {HOST_TOKEN}"})

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)


def test_help_for_every_command() -> None:
    for args in (["--help"], ["serve", "--help"], ["results", "--help"], ["verify", "--help"], ["audit", "--help"],
                 ["bank", "--help"], ["bank", "validate", "--help"]):
        out = run(*args)
        assert out.returncode == 0 and "usage:" in out.stdout, (args, out.stderr)


def test_clear_error_when_redis_unreachable() -> None:
    out = run("serve", "--redis-url", f"redis://127.0.0.1:{free_port()}/0", "--port", str(free_port()),
              "--bank", str(TEST_BANK))
    assert out.returncode != 0
    assert "cannot reach Redis" in out.stdout + out.stderr


def test_bank_validate_reports_problems(tmp_path: Path) -> None:
    assert run("bank", "validate", str(TEST_BANK)).returncode == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[bank]\nid="b"\ntitle="B"\nlanguage="en"\n[[questions]]\nid="q1"\ntext=""\n'
                   'options=["x","x"]\nanswer="Z"\n', encoding="utf-8")
    out = run("bank", "validate", str(bad))
    assert out.returncode == 1
    assert "question 1" in out.stdout and "[text]" in out.stdout and "[answer]" in out.stdout


async def test_embedded_redis_persists_across_restart_and_verify(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Embedded(data)
    viewer = await Client.connect(f"ws://127.0.0.1:{server.port}/ws/viewer")
    await viewer.join("Bền Vững", full_name="Nguyễn Văn Bền", unit="Sở Nội vụ")
    assert server.cmd("open").status_code == 200
    await viewer.expect("question")
    ack = await viewer.answer(0, 1)
    assert ack["ok"]
    assert server.cmd("close").status_code == 200
    # verify while the server runs: the CLI finds the server's embedded Redis
    live = run("verify", "test.ep1", "--data-dir", str(data))
    assert live.returncode == 0, live.stdout + live.stderr
    # graceful stop: viewers are told to reconnect (1012), Redis shuts down cleanly
    assert server.stop() == 0
    closed = await viewer.expect("_closed")
    assert closed["code"] == 1012
    assert not (data / "redis" / "redis.port").exists()
    assert "appendonly" in " ".join(p.name for p in (data / "redis").iterdir())

    again = Embedded(data)
    state = httpx.get(f"http://127.0.0.1:{again.port}/api/host/state",
                      headers={"authorization": f"Bearer {HOST_TOKEN}"}).json()
    assert state["phase"] == "closed" and state["question"]["index"] == 0
    v2 = await Client.connect(f"ws://127.0.0.1:{again.port}/ws/viewer")
    assert viewer.token
    snap = await v2.resume(viewer.token)
    assert snap["you"] == {"option": 1, "time_ms": ack["time_ms"]}
    await v2.close()
    assert again.stop() == 0

    # offline: results, audit and verify start a temporary embedded Redis on the data dir
    results = run("results", "test.ep1", "--data-dir", str(data), "--format", "csv")
    assert results.returncode == 0 and "Nguyễn Văn Bền" in results.stdout and "Sở Nội vụ" in results.stdout
    audit = run("audit", "test.ep1", "1", "--data-dir", str(data))
    assert audit.returncode == 0 and "accepted, correct" in audit.stdout and "Bền Vững" in audit.stdout
    assert run("verify", "test.ep1", "--data-dir", str(data)).returncode == 0

    # tamper with a stored result: verify must notice and exit 1
    redis_dir = EmbeddedRedis(data / "redis")
    redis_dir.start()
    import redis as redis_lib

    client = redis_lib.Redis.from_url(redis_dir.url)
    key = EpisodeKeys("test.ep1").stats
    player = next(iter(client.hkeys(key))).decode()
    client.hset(key, player, "5|1|1")
    client.close()
    redis_dir.stop()
    tampered = run("verify", "test.ep1", "--data-dir", str(data))
    assert tampered.returncode == 1
    assert re.search(r"totals of p[0-9a-f]+: stored", tampered.stdout), tampered.stdout


@pytest.mark.parametrize("args", [["--stream-delay", "500"], ["--grace-ms", "-1"], ["--require", "age"]])
def test_bad_settings_are_refused(args: list[str]) -> None:
    out = run("serve", "--port", str(free_port()), "--bank", str(TEST_BANK), *args)
    assert out.returncode == 2 and "error:" in out.stderr


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--grace-ms", "9000"], {}, "error: --grace-ms must be between 0 and 5000, got 9000"),
        ([], {"QUIZ_GRACE_MS": "abc"}, "error: QUIZ_GRACE_MS='abc' is not a number"),
        (["--workers", "0"], {}, "error: --workers must be between 1 and 256, got 0"),
        # an absent flag leaves the environment's value in force (here: out of range)
        (["--grace-ms", "100"], {"QUIZ_STREAM_DELAY": "500"}, "error: QUIZ_STREAM_DELAY must be between 0 and 120"),
    ],
)
def test_bad_settings_name_their_source(args: list[str], env: dict[str, str], message: str) -> None:
    out = _cli("serve", "--port", str(free_port()), "--bank", str(TEST_BANK), *args, cwd=ROOT, env=env)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def _cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), **env})


async def test_offline_commands_find_the_server_from_any_folder_and_honour_redis_url(
        tmp_path: Path, fresh_redis: str) -> None:
    """The README's order for offline commands: REDIS_URL, else the running server's embedded
    Redis — found from any folder, without the same --data-dir — else the data directory.
    Also: the participation report renders as HTML (it used to crash on a missing --top)."""
    private_tmp = tmp_path / "tmp"  # the registry of running servers lives under $TMPDIR
    private_tmp.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--bank", str(TEST_BANK),
         "--load", "test/ep1", "--host-token", HOST_TOKEN, "--log-level", "warning"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT, cwd=ROOT,  # noqa: SIM115
        env={"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "TMPDIR": str(private_tmp)})
    try:
        deadline = time.monotonic() + 30
        while "ready" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        viewer = await Client.connect(f"ws://127.0.0.1:{port}/ws/viewer")
        await viewer.join("Anywhere")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                          headers={"authorization": f"Bearer {HOST_TOKEN}"}) as host:
            assert host.post("/api/host/open", json={}).status_code == 200
            assert (await viewer.answer(0, 1))["ok"]
            assert host.post("/api/host/close", json={}).status_code == 200
        await viewer.close()
        env = {"TMPDIR": str(private_tmp)}
        found = _cli("verify", "test.ep1", cwd=elsewhere, env=env)
        assert found.returncode == 0, found.stdout + found.stderr
        assert "using the running server's Redis" in found.stderr
        html = _cli("participation", "test.ep1", "--format", "html", "-o", str(tmp_path / "p.html"),
                    cwd=elsewhere, env=env)
        assert html.returncode == 0, html.stderr
        assert "<html" in (tmp_path / "p.html").read_text().lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    # REDIS_URL is honoured by offline commands (here: a Redis without that episode)
    via_url = _cli("verify", "test.ep1", cwd=elsewhere, env={"REDIS_URL": fresh_redis, "TMPDIR": str(private_tmp)})
    assert via_url.returncode == 1 and "does not exist" in via_url.stdout, via_url.stdout + via_url.stderr
    # nothing running, no data here: a clear message, not a stack trace
    nothing = _cli("verify", "test.ep1", cwd=elsewhere, env={"TMPDIR": str(private_tmp)})
    assert nothing.returncode != 0 and "no server is running" in (nothing.stdout + nothing.stderr)
