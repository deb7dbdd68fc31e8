"""Issue 11, defects 5, 6, 9 and 10: what a connection gets before it is a request, and whose
address and Host header the server believes. Real server, raw sockets on loopback."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import psutil
import pytest

from tests.client import Client
from tests.conftest import ROOT, ServerProc

UPGRADE = (
    "GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


def _answer(port: int, raw: bytes, source: str = "127.0.0.1", timeout: float = 5.0) -> bytes:
    """The first bytes the server sends back (b"" if it closes without a word)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0)) as s:
        with contextlib.suppress(OSError):  # the server may close before reading a huge head
            s.sendall(raw)
        try:
            return s.recv(200)
        except ConnectionResetError:
            return b"<reset>"


def _open_fds(server: ServerProc) -> int:
    return psutil.Process(server.proc.pid).num_fds()


MALFORMED = {
    "DEL byte in a header value": (b"X-A: a\x7fb\r\n\r\n", (b"400",)),
    "one 64 KB header": (b"X-A: " + b"a" * 65536 + b"\r\n\r\n", (b"431", b"400")),
    "100 KB Origin": (b"Origin: http://" + b"a" * 100_000 + b"\r\n\r\n", (b"431", b"400")),
    "5,000 headers": (b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n", (b"431", b"400")),
}


def test_malformed_handshakes_are_answered_and_closed(server: ServerProc) -> None:
    head = UPGRADE.format(port=server.port).encode()
    cases = {name: (head + extra, codes) for name, (extra, codes) in MALFORMED.items()}
    cases["POST with Upgrade and a body"] = (
        head.replace(b"GET", b"POST", 1) + b"Content-Length: 5\r\n\r\nhello", (b"400",)
    )
    for name, (raw, codes) in cases.items():
        reply = _answer(server.port, raw)
        assert reply.startswith(b"HTTP/1.1 "), f"{name}: no answer ({reply!r})"
        assert reply[9:12] in codes, f"{name}: {reply[:40]!r}"
    # 300 of them leave nothing open behind
    before = _open_fds(server)
    for i in range(300):
        name = list(cases)[i % len(cases)]
        assert _answer(server.port, cases[name][0]).startswith(b"HTTP/1.1 4")
    time.sleep(0.5)
    assert _open_fds(server) <= before + 5
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200


def test_a_request_head_must_arrive_in_time(make_server: Callable[..., ServerProc]) -> None:
    """Slowloris: connections trickling a header byte now and then are answered 408 and closed
    at the deadline; meanwhile honest requests are served."""
    server = make_server("--load", "test/ep1", env={"QUIZ_HEADER_TIMEOUT": "2", "QUIZ_MAX_PENDING_PER_IP": "500"})
    before = _open_fds(server)
    slow = []
    for _ in range(150):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHo")
        slow.append(s)
    for _ in range(100):  # the kernel completes connects before the server has accepted them all
        if _open_fds(server) >= before + 100:
            break
        time.sleep(0.05)
    assert _open_fds(server) >= before + 100
    started = time.monotonic()
    for s in slow[:3]:
        s.sendall(b"s")  # trickling does not extend the deadline
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
    replies = []
    for s in slow:
        replies.append(s.recv(100))
        s.close()
    assert time.monotonic() - started < 6
    assert all(r.startswith(b"HTTP/1.1 408") for r in replies), {r[:20] for r in replies}
    time.sleep(0.3)
    assert _open_fds(server) <= before + 5
    metrics = httpx.get(f"{server.base}/metrics", timeout=5).text
    assert 'quiz_front_door_refused_total{reason="timeout"} 150.0' in metrics
    assert server.log().count("refused connections at the front door") == 1  # summarised, not 150 lines


def test_connections_waiting_for_a_head_are_capped(make_server: Callable[..., ServerProc]) -> None:
    """Only slow connections (no head a second after the connect) count against the caps."""
    server = make_server("--load", "test/ep1", env={"QUIZ_MAX_PENDING_PER_IP": "5", "QUIZ_MAX_PENDING": "8"})
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(5)]
    # a burst of honest requests from the same address is served while the five are young or slow
    for _ in range(20):
        assert _answer(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(b"HTTP/1.1 200")
    time.sleep(1.3)
    started = time.monotonic()
    assert _answer(server.port, b"").startswith(b"HTTP/1.1 503")  # a sixth slow one from the address
    assert time.monotonic() - started < 3
    # another address still gets in, until the node-wide cap
    ok = _answer(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", source="127.0.0.2")
    assert ok.startswith(b"HTTP/1.1 200")
    more = [socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.3", 0)) for _ in range(3)]
    time.sleep(1.3)
    assert _answer(server.port, b"", source="127.0.0.4").startswith(b"HTTP/1.1 503")
    for s in idle + more:
        s.close()
    time.sleep(0.3)
    assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200  # slots come free
    assert _answer(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                   source="127.0.0.4").startswith(b"HTTP/1.1 200")


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(make_server: Callable[..., ServerProc]) -> None:
    # default: no proxy is trusted, so forged X-Forwarded-For values do not give new addresses
    server = make_server("--load", "test/ep1", env={"QUIZ_MAX_CONNS_PER_IP": "2"})
    held = []
    for i in range(2):
        c = await Client.connect(f"{server.ws}/ws/viewer", additional_headers={"X-Forwarded-For": f"10.0.0.{i}"})
        await c.expect("snapshot")
        held.append(c)
    extra = await Client.connect(f"{server.ws}/ws/viewer", additional_headers={"X-Forwarded-For": "10.0.0.9"})
    assert (await extra.expect("_closed"))["code"] == 4009
    for c in held:
        await c.close()
    # trusted: each forwarded address is its own (this is what nginx in front of the node gives)
    proxied = make_server("--load", "test/ep1", "--trusted-proxy", "127.0.0.1", env={"QUIZ_MAX_CONNS_PER_IP": "2"})
    held = []
    for i in range(4):
        c = await Client.connect(f"{proxied.ws}/ws/viewer", additional_headers={"X-Forwarded-For": f"10.0.0.{i}"})
        await c.expect("snapshot")
        held.append(c)
    for c in held:
        await c.close()


async def test_host_header_allow_list(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1")
    for path in ("/join-info", "/qr.svg", "/", "/api/host/state"):
        r = httpx.get(f"{server.base}{path}", headers={"Host": "evil.example"}, timeout=5)
        assert r.status_code == 400, path
        assert "evil.example" in r.text and "--allowed-host" in r.text
    assert httpx.get(f"{server.base}/join-info", headers={"Host": f"localhost:{server.port}"}).status_code == 200
    # DNS rebinding: a hostile name resolving here, with a matching Origin, gets no socket
    head = UPGRADE.format(port=server.port).replace(f"127.0.0.1:{server.port}", "rebind.evil.example")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(head.encode() + b"Origin: http://rebind.evil.example\r\n\r\n")
        reply = b""
        while b"\x88" not in reply.partition(b"\r\n\r\n")[2]:
            chunk = s.recv(1000)
            assert chunk, reply
            reply += chunk
    frames = reply.partition(b"\r\n\r\n")[2]
    assert reply.startswith(b"HTTP/1.1 101") and frames[:1] == b"\x88" and frames[2:4] == (4003).to_bytes(2, "big")
    assert b'"snapshot"' not in frames and b'"hello"' not in frames

    public = make_server("--load", "test/ep1", "--public-url", "https://quiz.example.org",
                         "--allowed-host", "quiz-backup.example.org")
    for host in ("quiz.example.org", "quiz-backup.example.org:443", "127.0.0.1"):
        r = httpx.get(f"{public.base}/join-info", headers={"Host": host}, timeout=5)
        assert r.status_code == 200, host
        assert r.json()["url"] == "https://quiz.example.org/"  # the QR comes from the public URL
    assert httpx.get(f"{public.base}/join-info", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (["--trusted-proxy", "nginx.local"], "trusted proxy 'nginx.local' is not an IP address"),
        (["--allowed-host", "https://quiz.example.org"], "must be a bare host name"),
    ],
)
def test_bad_proxy_and_host_settings_are_named(flag: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "quiz_engine", "serve", *flag, "--redis-url", "redis://127.0.0.1:1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr


def test_header_timeout_setting_is_validated() -> None:
    done = subprocess.run([sys.executable, "-m", "quiz_engine", "serve", "--redis-url", "redis://127.0.0.1:1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env={"QUIZ_HEADER_TIMEOUT": "0",
                                                                                    "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "QUIZ_HEADER_TIMEOUT" in done.stderr

