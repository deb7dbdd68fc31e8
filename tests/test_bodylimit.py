"""Request bodies are bounded before anything reads them (issue 11, defect 4), on a real server.

Raw sockets, because an ordinary client would not send what an attacker sends: a huge
declared length, an endless chunked body, a body that stops arriving."""

from __future__ import annotations

import socket
import threading
import time

import psutil

from tests.conftest import ServerProc


def _raw(server: ServerProc, head: str, body: bytes = b"", timeout: float = 20) -> tuple[int, bytes]:
    """Send a request head (and body) on a fresh socket; the status and raw reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(head.encode() + body)
        reply = b""
        try:
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
        except TimeoutError:
            return 0, reply
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1") else 0
    return status, reply


def test_declared_oversized_body_is_refused_before_it_is_read(server: ServerProc) -> None:
    head = ("POST /api/host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n")
    started = time.monotonic()
    status, reply = _raw(server, head)  # not one byte of the 200 MB is sent
    assert status == 413, reply
    assert b"connection: close" in reply.lower()
    assert time.monotonic() - started < 5


def test_chunked_body_is_cut_at_the_limit_and_memory_stays_flat(server: ServerProc) -> None:
    proc = psutil.Process(server.proc.pid)
    before = proc.memory_info().rss
    chunk = b"x" * 65536
    results: list[int] = []

    def flood() -> None:
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as s:
            s.sendall(b"POST /api/host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            sent = 0
            try:
                while sent < 50 * 1024 * 1024:  # 50 MB offered per connection, if the server kept reading
                    s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    sent += len(chunk)
            except OSError:
                pass  # the server answered and closed: what we want
            s.settimeout(5)
            try:
                reply = s.recv(4096)
            except OSError:
                reply = b""
            results.append(int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1") else 0)

    threads = [threading.Thread(target=flood) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    grown_mb = (proc.memory_info().rss - before) / 2**20
    assert all(code in (413, 0) for code in results), results
    assert 413 in results, results
    assert grown_mb < 40, grown_mb  # it was 107 -> 880 MiB for two 200-MB bodies


def test_a_body_that_never_arrives_times_out(server: ServerProc) -> None:
    head = ("POST /api/host/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n")
    started = time.monotonic()
    status, reply = _raw(server, head, b'{"token": "', timeout=30)
    assert status == 408, reply
    assert 9 <= time.monotonic() - started < 25


def test_ordinary_requests_still_work(server: ServerProc) -> None:
    with server.host() as host:
        assert host.post("/api/host/open", json={"expect": 0}).status_code == 200
        assert host.get("/api/host/state").status_code == 200
