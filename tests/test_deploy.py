"""The deployment recipes in deploy/, checked for real.

- ``deploy/nginx/quiz-engine.conf`` is rendered (domain → localhost, certificate → a
  self-signed one, ports → free loopback ports) into a throw-away nginx, and a short episode
  is played through it over ``https://``/``wss://``: pages, overlay, the host API, viewers'
  questions, acks and reveal, the http → https redirect.
- The per-address socket limit behind the proxy counts the viewer's address (the one nginx
  writes into X-Forwarded-For), not nginx's 127.0.0.1; a client's forged X-Forwarded-For is
  overwritten by nginx, and ignored by the node when it comes from a peer that is not the
  trusted proxy.
- The systemd unit's command line parses with the real argument parser.

Every wait is bounded; all traffic stays on loopback (sources 127.0.0.2–127.0.0.5 are
loopback addresses too on Linux).
"""

from __future__ import annotations

import asyncio
import configparser
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from quiz_engine.cli import build_parser
from quiz_engine.config import load
from quiz_engine.protocol.codes import CLOSE_POLICY
from quiz_engine.redis_server import free_port
from tests.client import Client
from tests.conftest import HOST_TOKEN, ROOT, ServerProc

DEPLOY = ROOT / "deploy"
NGINX_SITE = DEPLOY / "nginx" / "quiz-engine.conf"
UNIT = DEPLOY / "systemd" / "quiz-engine.service"
DOMAIN = "quiz.example.org"


def _required(tool: str) -> str:
    """The path of ``tool``; skip without it, unless QE_REQUIRE_NGINX=1 (CI) makes it a failure."""
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        if os.environ.get("QE_REQUIRE_NGINX") == "1":
            pytest.fail(f"{tool} is required (QE_REQUIRE_NGINX=1) but not installed")
        pytest.skip(f"{tool} not installed")
    return path


# --- rendering the real site file into a self-contained nginx -----------------------------------


@dataclass
class Tls:
    cert: Path
    key: Path

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


def make_cert(tmp: Path) -> Tls:
    openssl = _required("openssl")
    cert, key = tmp / "localhost.crt", tmp / "localhost.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return Tls(cert, key)


def _sub(text: str, old: str, new: str, *, regex: bool = False) -> str:
    """Replace, and insist the site file still has what is replaced (so this test follows it)."""
    result, count = re.subn(old if regex else re.escape(old), new, text, flags=re.M)
    assert count, f"{NGINX_SITE.name} no longer contains {old!r}"
    return result


def render_site(tmp: Path, tls: Tls, *, tls_port: int, http_port: int, node_port: int) -> Path:
    """deploy/nginx/quiz-engine.conf inside a full nginx.conf whose every path is under ``tmp``."""
    site = NGINX_SITE.read_text()
    site = _sub(site, f"/etc/letsencrypt/live/{DOMAIN}/fullchain.pem", str(tls.cert))
    site = _sub(site, f"/etc/letsencrypt/live/{DOMAIN}/privkey.pem", str(tls.key))
    site = _sub(site, DOMAIN, "localhost")
    site = _sub(site, r"^\s*listen \[::\]:.*$", "", regex=True)  # loopback IPv4 only in the test
    site = _sub(site, r"listen 443 ", f"listen 127.0.0.1:{tls_port} ", regex=True)
    site = _sub(site, r"listen 80;", f"listen 127.0.0.1:{http_port};", regex=True)
    site = _sub(site, "server 127.0.0.1:8000;", f"server 127.0.0.1:{node_port};")
    webroot = tmp / "webroot"
    (webroot / ".well-known" / "acme-challenge").mkdir(parents=True, exist_ok=True)
    (webroot / ".well-known" / "acme-challenge" / "probe").write_text("acme-probe")
    site = _sub(site, "root /var/www/html;", f"root {webroot};")
    (tmp / "site.conf").write_text(site)
    temp = {name: tmp / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the key and temp dirs in tmp
    conf = tmp / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log info;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    access_log {tmp}/access.log;\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    include {tmp}/site.conf;\n"
        "}\n"
    )
    return conf


def _nginx_args(nginx: str, conf: Path) -> list[str]:
    tmp = conf.parent
    return [nginx, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(conf)]


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port} within {timeout}s:\n{log.read_text(errors='replace')}")


@dataclass
class Proxy:
    tls_port: int
    http_port: int
    tls: Tls
    node: ServerProc

    @property
    def base(self) -> str:
        return f"https://localhost:{self.tls_port}"

    @property
    def wss(self) -> str:
        return f"wss://localhost:{self.tls_port}"

    def http(self, source: str = "127.0.0.1", **kwargs: Any) -> httpx.Client:
        """An HTTPS client to nginx from loopback address ``source``."""
        transport = httpx.HTTPTransport(verify=self.tls.context(), local_address=source)
        return httpx.Client(base_url=self.base, transport=transport, timeout=10, **kwargs)

    def host(self) -> httpx.Client:
        return self.http(headers={"authorization": f"Bearer {HOST_TOKEN}"})

    def cmd(self, command: str, **body: object) -> httpx.Response:
        with self.host() as c:
            return c.post(f"/api/host/{command}", json=body)

    async def viewer(self, source: str, **kwargs: Any) -> Client:
        """A viewer socket through nginx from loopback address ``source``, as a browser on
        the public URL would open it."""
        return await Client.connect(
            f"{self.wss}/ws/viewer", ssl=self.tls.context(), origin=f"{self.base}",  # type: ignore[arg-type]
            local_addr=(source, 0), open_timeout=10, **kwargs,
        )


@pytest.fixture
def proxy(make_server: Callable[..., ServerProc], tmp_path: Path) -> Iterator[Proxy]:
    """A node (per-address limit 2, trusting 127.0.0.1) behind the real nginx site file."""
    nginx = _required("nginx")
    tls = make_cert(tmp_path)
    tls_port, http_port = free_port(), free_port()
    node = make_server("--load", "test/ep1", "--public-url", f"https://localhost:{tls_port}",
                       "--trusted-proxy", "127.0.0.1", env={"QUIZ_MAX_CONNS_PER_IP": "2"})
    ngx = tmp_path / "nginx"
    ngx.mkdir()
    conf = render_site(ngx, tls, tls_port=tls_port, http_port=http_port, node_port=node.port)
    checked = subprocess.run([*_nginx_args(nginx, conf), "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, f"nginx -t refused the rendered site:\n{checked.stderr}"
    log = ngx / "stdout.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*_nginx_args(nginx, conf), "-g", "daemon off;"], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_port(tls_port, proc, ngx / "error.log")
        _wait_port(http_port, proc, ngx / "error.log")
        yield Proxy(tls_port, http_port, tls, node)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: let workers finish, then exit
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


async def _admitted(client: Client) -> bool:
    """True if the node let the socket in (its snapshot came), False if it was closed with the
    per-address limit's code before any snapshot."""
    frame = await asyncio.wait_for(_first_of(client, ("snapshot", "_closed")), 10)
    if frame["type"] == "snapshot":
        return True
    assert frame["code"] == CLOSE_POLICY, frame
    assert not any(f["type"] == "snapshot" for f in client.frames)
    return False


async def _first_of(client: Client, kinds: tuple[str, ...]) -> dict[str, Any]:
    while True:
        frame = await client._queue.get()
        if frame["type"] in kinds:
            return frame


async def _close_all(clients: list[Client]) -> None:
    for c in clients:
        await asyncio.wait_for(c.close(), 10)


# --- the tests -----------------------------------------------------------------------------------


@pytest.mark.slow
async def test_episode_through_nginx_with_tls(proxy: Proxy) -> None:
    node = proxy.node
    # pages through nginx; http:// is redirected to https://; metrics stay private
    with proxy.http() as web:
        page = web.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "strict-transport-security" in page.headers
        assert web.get(f"/overlay?token={node.overlay_token}").status_code == 200
    with proxy.http(source="127.0.0.2") as outsider:
        assert outsider.get("/metrics").status_code == 403  # only the machine itself may read them
    with proxy.http() as web:
        # nginx's own body limit answers before the node sees the body
        big = web.post("/api/host/open", content=b"{" + b" " * 20_000 + b"}",
                       headers={"authorization": f"Bearer {HOST_TOKEN}", "content-type": "application/json"})
        assert big.status_code == 413
    plain = httpx.get(f"http://127.0.0.1:{proxy.http_port}/join-info?x=1", headers={"host": "localhost"},
                      follow_redirects=False, timeout=10)
    assert plain.status_code == 301
    assert plain.headers["location"] == "https://localhost/join-info?x=1"
    acme = httpx.get(f"http://127.0.0.1:{proxy.http_port}/.well-known/acme-challenge/probe",
                     headers={"host": "localhost"}, timeout=10)
    assert (acme.status_code, acme.text) == (200, "acme-probe")  # certificate renewals still work
    # a Host the node does not serve is refused by the node (the proxy passes Host through)
    with proxy.http() as web:
        assert web.get("/", headers={"host": "evil.example.net"}).status_code == 400

    # a short episode: three viewers from three addresses, the host drives through nginx
    names = {"127.0.0.2": "Lan", "127.0.0.3": "Minh", "127.0.0.4": "Hoa"}
    viewers = {src: await proxy.viewer(src) for src in names}
    for src, v in viewers.items():
        await v.join(names[src])
    with proxy.host() as host:
        state = host.get("/api/host/state")
        assert state.status_code == 200, state.text
    assert proxy.cmd("open", expect=0).status_code == 200
    questions = {src: await v.expect("question", index=0) for src, v in viewers.items()}
    assert all("correct" not in q for q in questions.values())
    minh, lan, hoa = viewers["127.0.0.3"], viewers["127.0.0.2"], viewers["127.0.0.4"]
    first = await minh.answer(0, 1, ref="m")  # correct (B), first
    await asyncio.sleep(0.2)
    wrong = await lan.answer(0, 0, ref="l")  # wrong, in between
    await asyncio.sleep(0.2)
    second = await hoa.answer(0, 1, ref="h")  # correct, later
    assert first["ok"] and wrong["ok"] and second["ok"], (first, wrong, second)
    assert first["time_ms"] < wrong["time_ms"] < second["time_ms"]
    assert proxy.cmd("close").status_code == 200
    assert proxy.cmd("reveal").status_code == 200
    for v in viewers.values():
        reveal = await v.expect("reveal", index=0)
        assert reveal["correct"] == 1
        assert reveal["fastest"]["name"] == "Minh"
        assert reveal["answers"] == 3
    with proxy.host() as host:
        results = host.get("/api/host/results").json()
    assert results["questions"][0]["winner"]["player"] == minh.player
    await _close_all(list(viewers.values()))


@pytest.mark.slow
async def test_per_address_limit_counts_the_viewer_behind_nginx(proxy: Proxy) -> None:
    """QUIZ_MAX_CONNS_PER_IP=2: counted per viewer address (from nginx's X-Forwarded-For), not
    per nginx; a forged X-Forwarded-For neither through nginx nor straight to the node helps."""
    held = [await proxy.viewer("127.0.0.2"), await proxy.viewer("127.0.0.2")]
    assert [await _admitted(c) for c in held] == [True, True]
    third = await proxy.viewer("127.0.0.2")
    assert not await _admitted(third)  # the third from the same viewer address: refused
    other = await proxy.viewer("127.0.0.3")
    assert await _admitted(other)  # another address through the same nginx still gets in
    # a client's own X-Forwarded-For is overwritten by nginx: still counted as 127.0.0.2
    forged = await proxy.viewer("127.0.0.2", additional_headers={"X-Forwarded-For": "9.9.9.9"})
    assert not await _admitted(forged)

    # straight to the node from an untrusted peer (127.0.0.5): its X-Forwarded-For is ignored
    node = proxy.node

    async def direct(forged_for: str) -> Client:
        return await Client.connect(f"{node.ws}/ws/viewer", local_addr=("127.0.0.5", 0), open_timeout=10,
                                    additional_headers={"X-Forwarded-For": forged_for})

    direct_held = [await direct("127.0.0.9"), await direct("127.0.0.10")]
    assert [await _admitted(c) for c in direct_held] == [True, True]
    direct_third = await direct("127.0.0.11")
    assert not await _admitted(direct_third)  # all three counted under 127.0.0.5
    await _close_all([*held, third, other, forged, *direct_held, direct_third])


def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(UNIT)
    return unit


def test_systemd_unit_command_line_parses() -> None:
    unit = _unit()
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/quiz-engine/venv/bin/quiz-engine"
    assert build_parser().parse_args(argv[1:]).command == "serve"
    settings = load({}, argv[2:])  # the settings these flags give, validated
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)  # loopback: only the proxy is public
    assert settings.trusted_proxies == ("127.0.0.1",)
    assert settings.public_url is not None and settings.public_url.startswith("https://")
    assert str(settings.data_dir) == service["WorkingDirectory"] == "/var/lib/quiz-engine"
    assert service["User"] == "quiz"
    assert int(service["LimitNOFILE"]) >= 100_000
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/quiz-engine/env"
    assert service["ReadWritePaths"] == "/var/lib/quiz-engine"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_env_example_names_real_settings() -> None:
    """Every variable deploy/env.example mentions is one the server reads."""
    source = "\n".join(p.read_text() for p in (ROOT / "quiz_engine").rglob("*.py"))
    names = re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (DEPLOY / "env.example").read_text(), flags=re.M)
    assert "QUIZ_HOST_TOKEN" in names
    for name in names:
        assert f'"{name}"' in source, f"{name} in deploy/env.example is not read by quiz_engine"


def test_nginx_site_passes_nginx_t(tmp_path: Path) -> None:
    nginx = _required("nginx")
    tls = make_cert(tmp_path)
    conf = render_site(tmp_path, tls, tls_port=free_port(), http_port=free_port(), node_port=free_port())
    checked = subprocess.run([*_nginx_args(nginx, conf), "-t"], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
