
"""Abuse limits, authentication and origin checks on a real server.

Limits (one test each): per-socket message rate, per-IP join rate, frame size, name length
(NFC, invisible and bidi characters stripped), connections per IP. Auth: the host API and
host socket refuse missing, wrong and replayed credentials; the overlay token commands
nothing; a resume token cannot be forged for another player; no token reaches the logs.
Origin: every WebSocket handshake is checked (foreign, ``null`` and look-alike origins).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import httpx
import msgpack
import redis as redis_lib
import websockets
from websockets.exceptions import ConnectionClosed

from quiz_engine.web.wsconn import CLOSE_TIMEOUT_S
from tests.client import Client, joined
from tests.conftest import HOST_TOKEN, ServerProc


async def refused_status(url: str, **kwargs: Any) -> int | None:
    """How a WebSocket is refused: the HTTP status of a refused handshake, or the close code
    of a socket the server accepts and closes at once (docs/protocol.md, "Close codes": a
    browser can read a close code, never a handshake status); None if it stays open."""
    try:
        ws = await websockets.connect(url, open_timeout=10, **kwargs)
    except websockets.InvalidStatus as exc:
        return exc.response.status_code
    started = time.monotonic()
    try:
        await asyncio.wait_for(ws.recv(), 10)  # an accepted socket starts with 'hello'
    except websockets.ConnectionClosed:
        # the server finished the closing handshake itself (it read the client's close reply),
        # not by its abort timer: a refused client is not kept waiting
        assert time.monotonic() - started < CLOSE_TIMEOUT_S, "refusal ended by the server's close timer"
        return ws.close_code
    await ws.close()
    return None


# --- limits ------------------------------------------------------------------------------------


async def test_message_rate_limit_per_socket(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1", env={"QUIZ_MSG_RATE": "5", "QUIZ_MSG_BURST": "10"})
    flooder = await Client.connect(f"{server.ws}/ws/viewer")
    calm = await Client.connect(f"{server.ws}/ws/viewer")
    await flooder.expect("snapshot")
    for i in range(25):
        await flooder.send({"type": "ping", "t": i})
    replies = [await flooder.expect("pong") if i < 10 else await flooder.expect("error") for i in range(25)]
    assert [r["t"] for r in replies[:10]] == list(range(10))  # the burst is served, in order
    assert {r["code"] for r in replies[10:]} == {"rate_limited"}
    await calm.send({"type": "ping", "t": 1})  # another socket is not affected
    assert (await calm.expect("pong"))["t"] == 1
    await asyncio.sleep(1.2)  # tokens come back at the sustained rate
    await flooder.send({"type": "ping", "t": 99})
    assert (await flooder.expect("pong"))["t"] == 99
    # a sustained flood gets the socket closed with 4009 (policy)
    for i in range(200):
        try:
            await flooder.send({"type": "ping", "t": i})
        except websockets.ConnectionClosed:
            break
    assert (await flooder.expect("_closed"))["code"] == 4009
    for c in (flooder, calm):
        await c.close()


async def test_join_rate_per_ip(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1", env={"QUIZ_JOIN_RATE": "1", "QUIZ_JOIN_BURST": "3"})
    clients = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(5)]
    for c in clients[:3]:
        await c.join("Burst")
    await clients[3].send({"type": "join", "name": "Fourth", "ref": "j4"})
    err = await clients[3].expect("error")
    assert (err["code"], err["ref"]) == ("rate_limited", "j4")
    # resuming is not a join: an existing player is never locked out
    assert clients[0].token
    snap = await clients[4].resume(clients[0].token)
    assert snap["type"] == "snapshot"
    await asyncio.sleep(1.3)  # one join per second comes back
    await clients[3].join("Fourth")
    for c in clients:
        await c.close()


async def test_maximum_frame_size(make_server: Callable[..., ServerProc], socket_env: dict[str, str]) -> None:
    server = make_server("--load", "test/ep1", env=socket_env)
    # exactly 4096 bytes is served
    c = await Client.connect(f"{server.ws}/ws/viewer")
    base = json.dumps({"type": "ping", "t": 7, "pad": ""})
    await c.send_raw(json.dumps({"type": "ping", "t": 7, "pad": "x" * (4096 - len(base))}))
    assert (await c.expect("pong"))["t"] == 7
    await c.send_raw("x" * 4097)
    assert (await c.expect("_closed"))["code"] == 1009
    # msgpack: the same limit on binary frames
    m = await Client.connect(f"{server.ws}/ws/viewer", msgpack_codec=True)
    head = len(msgpack.packb({"type": "ping", "t": 7, "pad": b""}))
    await m.send_raw(msgpack.packb({"type": "ping", "t": 7, "pad": b"x" * (4096 - head - 2)}))
    assert (await m.expect("pong"))["t"] == 7
    await m.send_raw(msgpack.packb({"type": "ping", "pad": b"x" * 5000}))
    assert (await m.expect("_closed"))["code"] == 1009
    # a 1 MB frame: refused at the frame header, the server stays up
    big = await Client.connect(f"{server.ws}/ws/viewer")
    with contextlib.suppress(ConnectionClosed):  # the 1009 may come before the client has sent it all
        await big.send_raw("y" * 1_000_000)
    assert (await big.expect("_closed"))["code"] == 1009
    assert httpx.get(f"{server.base}/healthz").status_code == 200


async def test_name_length_and_invisible_characters(server: ServerProc) -> None:
    async def joined_name(name: str) -> str:
        c = await Client.connect(f"{server.ws}/ws/viewer")
        welcome = await c.join(name)
        await c.close()
        return str(welcome["profile"]["name"])

    # 32 characters after NFC: decomposed input (64 code points) is accepted whole
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh " * 3)[:80]
    nfc = unicodedata.normalize("NFC", decomposed)
    got = await joined_name(decomposed)
    assert got == " ".join(nfc.split())[:32].strip() and len(got) <= 32
    assert unicodedata.is_normalized("NFC", got)
    # zero-width and bidi controls are removed before counting
    sneaky = "\u202eAd\u200bmin\u2066\u200d\u200f\ufeff \u2067Lan\u2069\u200e\u061c"
    assert await joined_name(sneaky) == "Admin Lan"
    # longer than 32 characters: cut to 32
    assert await joined_name("L" * 40) == "L" * 32
    assert len(await joined_name("ệ" * 32 + "\u200b" * 20)) == 32
    # far too long, or nothing visible: refused
    c = await Client.connect(f"{server.ws}/ws/viewer")
    for bad in ("x" * 129, "\u200b\u202e\u2066", "   "):
        await c.send({"type": "join", "name": bad})
        assert (await c.expect("error"))["code"] == "bad_field", bad
    await c.close()
    r = redis_lib.Redis.from_url(server.redis_url, decode_responses=True)
    names = [json.loads(p)["name"] for p in r.hvals("qe:players")]
    r.close()
    assert all(len(n) <= 32 and not any(unicodedata.category(ch) in ("Cf", "Cc") for ch in n) for n in names)


async def test_max_connections_per_ip(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1", env={"QUIZ_MAX_CONNS_PER_IP": "5"})
    held = [await Client.connect(f"{server.ws}/ws/viewer") for _ in range(5)]
    for c in held:
        await c.expect("snapshot")
    extra = await Client.connect(f"{server.ws}/ws/viewer")
    closed = await extra.expect("_closed")
    assert closed["code"] == 4009
    assert not any(f["type"] == "snapshot" for f in extra.frames)
    await held[0].close()
    await asyncio.sleep(0.3)
    again = await Client.connect(f"{server.ws}/ws/viewer")
    await again.expect("snapshot")  # a slot came free
    for c in [*held[1:], again]:
        await c.close()


# --- auth ----------------------------------------------------------------------------------


async def test_host_api_and_socket_refuse_missing_wrong_and_replayed(server: ServerProc) -> None:
    base = server.base
    state = f"{base}/api/host/state"
    assert httpx.get(state).status_code == 401
    for bad in ("Bearer nope-nope-nope", f"Bearer {HOST_TOKEN}x", f"Bearer {server.overlay_token}", HOST_TOKEN,
                f"Basic {HOST_TOKEN}", "Bearer  x", f"bearer {HOST_TOKEN[:-1]}"):
        assert httpx.get(state, headers={"authorization": bad}).status_code == 401, bad
    assert httpx.get(state, headers={"authorization": f"Bearer {HOST_TOKEN}"}).status_code == 200
    # host socket: missing / wrong / overlay token refused at the handshake
    assert await refused_status(f"{server.ws}/ws/host") == 4001
    assert await refused_status(f"{server.ws}/ws/host", additional_headers={"Authorization": "Bearer wrong"}) == 4001
    assert await refused_status(f"{server.ws}/ws/host",
                                additional_headers={"Authorization": f"Bearer {server.overlay_token}"}) == 4001
    assert await refused_status(f"{server.ws}/ws/host?token={HOST_TOKEN}") == 4001  # not a way in
    assert await refused_status(f"{server.ws}/ws/host",
                                additional_headers={"Authorization": f"Bearer {HOST_TOKEN}"}) is None


async def test_host_session_cookie_csrf_and_replay(server: ServerProc) -> None:
    base = server.base
    with httpx.Client(base_url=base) as panel:
        assert panel.post("/api/host/login", json={"token": "wrong-token-0000"}).status_code == 401
        login = panel.post("/api/host/login", json={"token": HOST_TOKEN})
        assert login.status_code == 200
        csrf = login.json()["csrf"]
        cookie = panel.cookies["qe_host"]
        set_cookie = login.headers["set-cookie"].lower()
        assert "httponly" in set_cookie and "samesite=strict" in set_cookie
        assert panel.get("/api/host/state").status_code == 200
        assert panel.post("/api/host/open").status_code == 403  # no CSRF header
        assert panel.post("/api/host/open", headers={"x-csrf-token": csrf[:-2] + "xx"}).status_code == 403
        assert panel.post("/api/host/open", headers={"x-csrf-token": csrf}).status_code == 200
        cookie_header = {"Cookie": f"qe_host={cookie}"}
        assert await refused_status(f"{server.ws}/ws/host", additional_headers=cookie_header) is None
        assert panel.post("/api/host/logout").status_code == 200
    # the old cookie replayed after logout: refused everywhere
    with httpx.Client(base_url=base, cookies={"qe_host": cookie}) as replay:
        assert replay.get("/api/host/state").status_code == 401
        assert replay.post("/api/host/close", headers={"x-csrf-token": csrf}).status_code == 401
        assert replay.get("/api/host/session").status_code == 401
    assert await refused_status(f"{server.ws}/ws/host", additional_headers=cookie_header) == 4001
    # a forged cookie (right shape, never issued) is refused too
    with httpx.Client(base_url=base, cookies={"qe_host": cookie[:-4] + "AAAA"}) as forged:
        assert forged.get("/api/host/state").status_code == 401
    # guessing the token through the login form is throttled
    codes = [httpx.post(f"{base}/api/host/login", json={"token": f"guess-{i:08d}"}).status_code for i in range(14)]
    assert 429 in codes and set(codes) <= {401, 429}
    with server.host() as host:
        assert host.get("/api/host/state").json()["phase"] == "question"


async def test_token_guessing_is_throttled_everywhere_but_the_right_token_gets_in(server: ServerProc) -> None:
    """Ten wrong host tokens a minute from one address, by any way in (API bearer, login form,
    host socket), then 429 / close 4009 for wrong ones; the right token still works (a second
    later), so nobody who shares the host's address can lock the panel."""
    base = server.base
    wrong = {"authorization": "Bearer guess-guess-guess"}
    codes = [httpx.get(f"{base}/api/host/state", headers=wrong).status_code for _ in range(10)]
    assert codes == [401] * 10
    assert httpx.get(f"{base}/api/host/state", headers=wrong).status_code == 429
    assert httpx.post(f"{base}/api/host/open", headers=wrong).status_code == 429
    assert httpx.post(f"{base}/api/host/login", json={"token": "guess-login-0000"}).status_code == 429
    assert await refused_status(f"{server.ws}/ws/host", additional_headers=wrong) == 4009
    started = time.monotonic()
    right = {"authorization": f"Bearer {HOST_TOKEN}"}
    assert httpx.get(f"{base}/api/host/state", headers=right).status_code == 200
    assert time.monotonic() - started >= 0.9  # paced: one attempt a second from this address
    assert httpx.post(f"{base}/api/host/login", json={"token": HOST_TOKEN}).status_code == 200
    assert await refused_status(f"{server.ws}/ws/host", additional_headers=right) is None


async def test_overlay_token_cannot_command(server: ServerProc) -> None:
    assert await refused_status(f"{server.ws}/ws/overlay") == 4001
    assert await refused_status(f"{server.ws}/ws/overlay?token=wrong") == 4001
    assert await refused_status(f"{server.ws}/ws/overlay?token={HOST_TOKEN}") == 4001
    overlay = await Client.connect(f"{server.ws}/ws/overlay?token={server.overlay_token}")
    await overlay.expect("snapshot")
    for frame in ({"type": "answer", "question": 0, "option": 1}, {"type": "join", "name": "Overlay"},
                  {"type": "resume", "token": "p1.x"}, {"type": "open"}, {"type": "close"}):
        await overlay.send(frame)
        err = await overlay.expect("error")
        assert err["code"] in ("bad_field", "unknown_type"), (frame, err)
    await overlay.send({"type": "ping", "t": 5})
    assert (await overlay.expect("pong"))["t"] == 5
    await overlay.send({"type": "sync"})
    assert (await overlay.expect("snapshot"))["phase"] == "lobby"
    # nor as a bearer on the host API
    auth = {"authorization": f"Bearer {server.overlay_token}"}
    assert httpx.post(f"{server.base}/api/host/open", headers=auth).status_code == 401
    assert httpx.get(f"{server.base}/api/host/results", headers=auth).status_code == 401
    assert httpx.post(f"{server.base}/api/host/login", json={"token": server.overlay_token}).status_code == 401
    with server.host() as host:
        assert host.get("/api/host/state").json()["phase"] == "lobby"
    await overlay.close()


async def test_resume_token_of_one_player_cannot_act_as_another(server: ServerProc) -> None:
    alice, bob = await joined(f"{server.ws}/ws/viewer", "Alice", "Bob")
    assert alice.token and bob.token and alice.player and bob.player
    a_id, a_mac = alice.token.split(".", 1)
    b_id, b_mac = bob.token.split(".", 1)
    server.cmd("open")
    await alice.expect("question")
    mallory = await Client.connect(f"{server.ws}/ws/viewer")
    forgeries = [
        f"{a_id}.{b_mac}",  # Bob's signature on Alice's id
        f"{a_id}.{a_mac[:-1]}{'A' if a_mac[-1] != 'A' else 'B'}",  # one character off
        f"{a_id}.",
        a_id,
        f"{a_id}.{a_mac}.extra",
        f"{b_id}x.{b_mac}",
        f"{a_id.upper()}.{a_mac}",
    ]
    for token in forgeries:
        await mallory.send({"type": "resume", "token": token})
        err = await mallory.expect("error")
        assert err["code"] in ("bad_token", "bad_field"), (token, err)
    await mallory.send({"type": "answer", "question": 0, "option": 1})
    assert (await mallory.expect("error"))["code"] == "not_joined"
    # Alice's own token still works, and replaces her older socket (4010)
    assert (await alice.answer(0, 1))["ok"]
    alice2 = await Client.connect(f"{server.ws}/ws/viewer")
    snap = await alice2.resume(alice.token)
    assert snap["you"]["option"] == 1
    assert (await alice.expect("_closed"))["code"] == 4010
    # Bob's answer is his own, untouched
    assert (await bob.answer(0, 2))["ok"]
    r = redis_lib.Redis.from_url(server.redis_url, decode_responses=True)
    answers = r.hgetall("qe:{test.ep1}:q0:ans")
    r.close()
    assert {p: int(v.split("|")[0]) for p, v in answers.items()} == {alice.player: 1, bob.player: 2}
    for c in (bob, mallory, alice2):
        await c.close()


async def test_tokens_never_appear_in_logs(make_server: Callable[..., ServerProc]) -> None:
    server = make_server("--load", "test/ep1", "--log-level", "info")
    overlay_token = server.overlay_token
    # every token travels in a URL at least once (people paste links), and in headers/bodies
    httpx.get(f"{server.base}/overlay?token={overlay_token}")
    httpx.get(f"{server.base}/api/host/state?token={HOST_TOKEN}")
    httpx.get(f"{server.base}/api/host/state?access_token={HOST_TOKEN}&x=1")
    httpx.get(f"{server.base}/api/host/state", headers={"authorization": f"Bearer {HOST_TOKEN}"})
    httpx.get(f"{server.base}/api/host/state", headers={"authorization": "Bearer wrong-token-here"})
    overlay = await Client.connect(f"{server.ws}/ws/overlay?token={overlay_token}")
    bad_overlay = await refused_status(f"{server.ws}/ws/overlay?token={overlay_token}x")
    assert bad_overlay == 4001
    v = await Client.connect(f"{server.ws}/ws/viewer")
    await v.join("Logged")
    assert v.token
    resume_token = v.token
    again = await Client.connect(f"{server.ws}/ws/viewer?token={resume_token}")
    await again.resume(resume_token)
    await again.send({"type": "resume", "token": resume_token + "x"})  # logged? must not be
    await again.expect("error")
    with httpx.Client(base_url=server.base) as panel:
        login = panel.post("/api/host/login", json={"token": HOST_TOKEN})
        csrf, session = login.json()["csrf"], panel.cookies["qe_host"]
        panel.post("/api/host/open", headers={"x-csrf-token": csrf})
        panel.get(f"/api/host/session?csrf={csrf}")
        panel.post("/api/host/logout")
    for c in (overlay, v, again):
        await c.close()
    server.stop(signal.SIGTERM)
    log = server.log()
    assert "GET /api/host/state" in log or "/api/host/state" in log, "access log missing: nothing was tested"
    # the start-up banner shows the overlay link to the operator, on purpose; nothing else may
    lines = [line for line in log.splitlines() if not line.startswith("  overlay: ")]
    body = "\n".join(lines)
    secrets = {"host token": HOST_TOKEN, "overlay token": overlay_token, "resume token": resume_token,
               "resume MAC": resume_token.split(".", 1)[1], "session": session, "csrf": csrf}
    leaked = {name: value for name, value in secrets.items() if value in body}
    assert not leaked, f"tokens in the server log: {list(leaked)}"


# --- origin ----------------------------------------------------------------------------------------


async def test_origin_check_on_every_handshake(
    make_server: Callable[..., ServerProc], socket_env: dict[str, str]
) -> None:
    server = make_server("--load", "test/ep1", env=socket_env)
    port = server.port
    endpoints: list[tuple[str, dict[str, Any]]] = [
        ("/ws/viewer", {}),
        (f"/ws/overlay?token={server.overlay_token}", {}),
        ("/ws/host", {"additional_headers": {"Authorization": f"Bearer {HOST_TOKEN}"}}),
    ]
    refused = ["http://evil.example", "null", f"http://127.0.0.1:{port}.evil.example",
               f"http://evil-127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}", "http://127.0.0.1",
               f"http://user@127.0.0.1:{port}", f"ftp://127.0.0.1:{port}", f"http://127.0.0.1:{port}@evil.example"]
    accepted = [None, f"http://127.0.0.1:{port}", f"https://127.0.0.1:{port}"]
    for path, kwargs in endpoints:
        for origin in refused:
            assert await refused_status(f"{server.ws}{path}", origin=origin, **kwargs) == 4003, (path, origin)
        for origin in accepted:
            extra = {"origin": origin} if origin else {}
            assert await refused_status(f"{server.ws}{path}", **extra, **kwargs) is None, (path, origin)

    listed = make_server("--allowed-origin", "https://quiz.example.org", "--allowed-origin", "https://obs.example.org")
    url = f"{listed.ws}/ws/viewer"
    assert await refused_status(url, origin="https://quiz.example.org") is None
    assert await refused_status(url, origin="https://obs.example.org") is None
    assert await refused_status(url) is None
    for origin in ("https://quiz.example.org.evil.example", "http://quiz.example.org", "https://evil.example",
                   "null", "https://quiz.example.org:444"):
        assert await refused_status(url, origin=origin) == 4003, origin
    assert await refused_status(url, origin=f"http://127.0.0.1:{listed.port}") is None  # its own host still


def test_env_limits_are_validated() -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, TEST_BANK

    for env in ({"QUIZ_MAX_CONNS_PER_IP": "-1"}, {"QUIZ_MSG_RATE": "0"}, {"QUIZ_JOIN_BURST": "many"},
                {"QUIZ_MAX_BUFFER": "10"}, {"QUIZ_WS_IMPL": "tornado"}, {"QUIZ_LOOP": "trio"},
                {"QUIZ_FANOUT_THREADS": "0"}):
        out = subprocess.run([sys.executable, "-m", "quiz_engine", "serve", "--port", "1", "--bank", str(TEST_BANK)],
                             capture_output=True, text=True, timeout=60, cwd=ROOT, env={**os.environ, **env})
        assert out.returncode == 2 and "error:" in out.stderr, (env, out.stderr)


def test_bad_clients_cannot_flood_the_log(server: ServerProc) -> None:
    """100 sockets each sending an invalid UTF-8 text frame: each is closed with 1007, and the
    log gets one summarised line, not an ERROR with two tracebacks per frame."""
    from tests.test_wsframes import RawViewer, _frame

    for _ in range(100):
        v = RawViewer(server.port)
        v.send_in_pieces(_frame(b"\xff\xfe{}"), [])
        v.wait_for(lambda fs: any(op == 0x8 for op, _ in fs))
        v.s.close()
    time.sleep(0.5)
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log[-2000:]
    assert log.count("invalid UTF-8") <= 2, log[-2000:]
