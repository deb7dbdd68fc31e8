"""Hypothesis throws thousands of random and hostile frames at a real server.

Viewer socket (JSON and msgpack codecs): wrong types, huge numbers, deep nesting, unknown
fields, question ids from other episodes, client-supplied timestamps, forged tokens, raw
garbage, oversized frames; afterwards answer frames replayed after the deadline, and a
compressed (permessage-deflate) bomb that was never negotiated. Host HTTP API: random
bodies on every endpoint. Every frame gets a documented reply (error code, ack reason) or a
documented close code; the server stays up; a bystander player's stored data never changes.

The server runs with the rate limits raised (QUIZ_MSG_RATE etc.) so that the fuzzer reaches
the parser instead of the rate limiter; the limits themselves are tested in test_abuse.py.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgpack
import psutil
import redis as redis_lib
import websocket  # websocket-client: a plain blocking client is simplest under Hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz_engine.protocol.codes import REJECT_REASONS
from quiz_engine.store.records import decode_score, standing_entry
from tests.conftest import HOST_TOKEN, ServerProc

ERROR_CODES = {"bad_frame", "unknown_type", "bad_field", "not_joined", "already_joined", "bad_token",
               "rate_limited", "unavailable"}
CLOSE_CODES = {1002, 1007, 1009, 4009}  # protocol error, bad UTF-8, too big, policy
REPLIES = {"error", "ack", "pong", "welcome", "snapshot"}
UNLIMITED = {"QUIZ_MSG_RATE": "1000000", "QUIZ_MSG_BURST": "1000000", "QUIZ_JOIN_RATE": "1000000",
             "QUIZ_JOIN_BURST": "1000000"}
EP = "fuzz.e"
FUZZ_SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))


def fuzz_bank(tmp: Path) -> Path:
    path = tmp / "fuzz.toml"
    path.write_text('[bank]\nid = "fuzz"\ntitle = "Fuzz"\nlanguage = "en"\n\n'
                    '[[episodes]]\nid = "e"\ntitle = "Fuzz"\nquestions = ["q0", "q1"]\n\n'
                    '[[questions]]\nid = "q0"\ntext = "Zero?"\noptions = ["a", "b", "c"]\nanswer = "B"\n'
                    'time_limit = 120\n\n'
                    '[[questions]]\nid = "q1"\ntext = "One?"\noptions = ["a", "b"]\nanswer = "A"\ntime_limit = 120\n',
                    encoding="utf-8")
    return path


# --- strategies ---------------------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c,
                                                                                          max_size=4), max_leaves=12)
hostile_ints = st.sampled_from([0, 1, -1, 2, 3, 99, 100, 999, 1000, 2**31, 2**53 + 1, 2**63 - 1, -(2**63)])
numbers = hostile_ints | st.integers() .filter(lambda n: -(2**63) <= n < 2**64) | st.floats() .filter(lambda f: f == f)
names = st.text(max_size=60) | st.sampled_from([
    "\u202eevil\u202c", "\u200b" * 10, "A" * 200, "Nguyễn", "e\u0301" * 40, "\x00\x01", "<script>alert(1)</script>",
    "{{7*7}}", "'; DROP TABLE players; --", "\ufeff\u2066name\u2069"])
kinds = st.sampled_from(["answer", "join", "resume", "ping", "sync"]) | st.sampled_from(
    ["open", "close", "reveal", "ANSWER", "answer ", "", "__proto__", "constructor", "hello", "snapshot"]) | json_values


@st.composite
def frames(draw: st.DrawFn, tokens: list[str]) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": draw(kinds)}
    optional = {
        "question": numbers | json_values,
        "option": numbers | json_values,
        "name": names | json_values,
        "full_name": names,
        "unit": names,
        "phone": st.text(alphabet="+0123456789 -.a", max_size=25) | json_values,
        "token": st.sampled_from(tokens) | st.text(max_size=80) | json_values,
        "ref": st.text(max_size=40) | json_values,
        "t": numbers | json_values,
        "time_ms": numbers, "now": numbers, "deadline": numbers, "sent_at": numbers, "server_time": numbers,
        "episode": st.sampled_from(["test.ep1", "other.ep", EP, ""]) | json_values,
        "player": st.text(max_size=20),
        "extra": json_values,
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), max_size=6, unique=True)):
        frame[key] = draw(optional[key])
    return frame


# plausible frames, so that the fuzzer also joins and answers (then replays those answers late)
plausible = st.one_of(
    st.builds(lambda n: {"type": "join", "name": n}, st.text(min_size=1, max_size=20).filter(str.strip)),
    st.builds(lambda q, o, t: {"type": "answer", "question": q, "option": o, "time_ms": t, "now": t, "t": t},
              st.sampled_from([0, 0, 0, 1, 2, 999]), st.integers(0, 4), numbers),
)


def deep(n: int) -> str:
    return '{"type":"ping","a":' * n + "1" + "}" * n


raw_payloads = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.integers(min_value=5, max_value=200).map(deep),
    st.sampled_from([
        "", "null", "[]", "1", '"answer"', "{", '{"type":"answer","question":1e999,"option":1}',
        '{"type":"ping","t":123456789012345678901234567890123}', '{"type":"answer","question":NaN,"option":1}',
        '{"type":"answer","question":0,"option":1,"type":"join"}', '{"type":"join","name":"a\\u0000b"}',
        '{"type":"answer","question":0,"option":-0.0}', '{"__proto__":{"type":"answer"}}',
        "\ufeff{\"type\":\"ping\"}", '{"type":"ping"}\n{"type":"ping"}',
    ]),
    st.sampled_from([4097, 20_000, 1_000_000]).map(lambda n: "x" * n),
)


# --- the viewer socket ----------------------------------------------------------------------------


class Fuzzer:
    """One blocking connection at a time; reconnects when the server closes it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.ws: websocket.WebSocket | None = None
        self.binary = False
        self.stats: dict[str, int] = {}
        self.tokens: list[str] = []
        self.accepted: list[tuple[str, dict[str, Any]]] = []  # (resume token, answer frame) acknowledged ok

    def count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def connect(self, binary: bool) -> None:
        self.close()
        self.binary = binary
        protocols = ["quiz.v1.msgpack"] if binary else None
        self.ws = websocket.create_connection(self.url, timeout=15, subprotocols=protocols)
        assert self.recv()["type"] == "hello"
        assert self.recv()["type"] == "snapshot"

    def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):  # already gone
                self.ws.close(timeout=1)
            self.ws = None

    def recv(self) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            opcode, data = self.ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                return {"type": "_closed", "code": code}
            if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                frame = msgpack.unpackb(data, raw=False) if opcode == websocket.ABNF.OPCODE_BINARY else json.loads(data)
                assert isinstance(frame, dict)
                return frame

    def send(self, payload: str | bytes) -> dict[str, Any]:
        """Send one frame; return the server's reply (or its close)."""
        assert self.ws is not None
        try:
            if isinstance(payload, bytes):
                self.ws.send_binary(payload)
            else:
                self.ws.send(payload)
        except (BrokenPipeError, ConnectionResetError, websocket.WebSocketConnectionClosedException):
            pass  # the server closed while a huge frame was still being written: read why
        try:
            while True:
                reply = self.recv()
                if reply["type"] in REPLIES or reply["type"] == "_closed":
                    return reply
                self.count("broadcast " + str(reply.get("type")))  # a phase frame meanwhile: not a reply
        except (ConnectionResetError, BrokenPipeError, websocket.WebSocketConnectionClosedException):
            return {"type": "_closed", "code": 1006}

    def check(self, sent: Any, reply: dict[str, Any]) -> None:
        kind = reply["type"]
        self.count(kind if kind != "error" else f"error {reply.get('code')}")
        if kind == "_closed":
            assert reply["code"] in CLOSE_CODES or (reply["code"] == 1006 and len(str(sent)) > 4096), (sent, reply)
            self.ws = None
        elif kind == "error":
            assert reply["code"] in ERROR_CODES, (sent, reply)
            assert isinstance(reply.get("message"), str)
        elif kind == "ack":
            assert reply["ok"] or reply["reason"] in REJECT_REASONS, (sent, reply)
            assert "correct" not in reply
        elif kind == "welcome":
            self.tokens.append(reply["token"])
            snap = self.recv()
            assert snap["type"] == "snapshot", snap
            assert "correct" not in json.dumps(snap.get("question") or {})

    def run(self, payloads: list[Any], binary: bool) -> None:
        self.connect(binary)
        for payload in payloads:
            if self.ws is None:
                self.connect(binary)
            if isinstance(payload, dict):
                data: str | bytes = msgpack.packb(payload) if self.binary else json.dumps(payload)
            elif self.binary and isinstance(payload, str):
                data = payload.encode()
            else:
                data = payload
            reply = self.send(data)
            self.check(payload, reply)
            if (isinstance(payload, dict) and payload.get("type") == "answer" and reply.get("type") == "ack"
                    and reply.get("ok") and self.tokens):
                self.accepted.append((self.tokens[-1], {"type": "answer", "question": reply["question"],
                                                        "option": reply["option"]}))


def player_state(redis_url: str, player: str) -> dict[str, Any]:
    r = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [f"qe:{{{EP}}}:q{q}:{k}" for q in (0, 1) for k in ("ans", "sent")] + [f"qe:{{{EP}}}:stats"]
        out = {key: r.hget(key, player) for key in keys}
        out["profile"] = r.hget("qe:players", player)
        stats = out[f"qe:{{{EP}}}:stats"]
        member = standing_entry(decode_score(player, stats))[1] if stats else None
        out["rank"] = r.zscore(f"qe:{{{EP}}}:standings", member) if member else None
        out["dq"] = r.hget(f"qe:{{{EP}}}:dq", player)
        return out
    finally:
        r.close()


def test_viewer_socket_fuzz(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server("--bank", str(fuzz_bank(tmp_path)), "--load", "fuzz/e", env=UNLIMITED)
    rss_before = psutil.Process(server.proc.pid).memory_info().rss
    # a bystander joins and answers; nothing below may change what is stored for them
    bystander = Fuzzer(f"{server.ws}/ws/viewer")
    bystander.connect(False)
    welcome = bystander.send(json.dumps({"type": "join", "name": "Bystander", "unit": "Sở Nội vụ"}))
    bystander.check({}, welcome)
    assert server.cmd("open", expect=0).status_code == 200
    question = bystander.recv()
    assert question["type"] == "question"
    ack = bystander.send(json.dumps({"type": "answer", "question": 0, "option": 1}))
    assert ack["ok"]
    player = welcome["player"]
    before = player_state(server.redis_url, player)
    assert before[f"qe:{{{EP}}}:q0:ans"]

    fuzzer = Fuzzer(f"{server.ws}/ws/viewer")
    # forgeries of the bystander's token (the genuine one *is* the bystander: not an attack)
    b_id, b_mac = welcome["token"].split(".", 1)
    tokens = [f"{b_id}.{b_mac[::-1]}", f"{b_id}.{b_mac[:-1]}", f"{b_id}x.{b_mac}", f"{b_id}.",
              f"{b_id}.{'A' * len(b_mac)}", b_id, "."]
    payload = st.one_of(frames(tokens), frames(tokens), plausible, raw_payloads)

    @FUZZ_SETTINGS
    @given(st.lists(payload, min_size=8, max_size=30), st.booleans())
    def batch(payloads: list[Any], binary: bool) -> None:
        fuzzer.run(payloads, binary)

    batch()
    fuzzer.close()
    sent = sum(fuzzer.stats.values())
    assert sent >= 2000, fuzzer.stats

    # replayed answer frames after the deadline: refused as late, never stored
    assert server.cmd("close").status_code == 200
    replay = Fuzzer(f"{server.ws}/ws/viewer")
    for token, frame in fuzzer.accepted[:30]:
        replay.connect(False)
        replay.check({}, replay.send(json.dumps({"type": "resume", "token": token})))
        reply = replay.send(json.dumps(frame))
        assert reply["type"] == "ack" and reply["reason"] in ("late", "duplicate") and not reply["ok"], reply
        replay.close()

    # the server is up, the bystander's data is untouched, verify agrees
    assert httpx.get(f"{server.base}/healthz", timeout=10).status_code == 200
    assert bystander.send(json.dumps({"type": "ping", "t": 3}))["t"] == 3
    assert player_state(server.redis_url, player) == before
    snap = bystander.send(json.dumps({"type": "sync"}))
    assert snap["you"] == {"option": 1, "time_ms": ack["time_ms"]}
    with server.host() as host:
        assert host.get("/api/host/verify").json()["ok"]
    bystander.close()
    rss_after = psutil.Process(server.proc.pid).memory_info().rss
    print(f"\n[fuzz] viewer socket: {sent} frames, {len(fuzzer.accepted)} answers accepted, "
          f"replies {dict(sorted(fuzzer.stats.items()))}; RSS {rss_before / 2**20:.1f} → {rss_after / 2**20:.1f} MiB")


def _masked_frame(payload: bytes, opcode: int = 0x1, rsv1: bool = False) -> bytes:
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    mask = os.urandom(4)
    return head + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_compressed_bomb_is_refused(server: ServerProc) -> None:
    """permessage-deflate is never negotiated; a compressed frame is a protocol error (1002)."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    head = data.split(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 101") and b"sec-websocket-extensions" not in head
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = bomb.compress(b'{"type":"ping","pad":"' + b"0" * 3_500_000) + bomb.flush()
    assert len(payload) < 4096  # 3.5 MB once inflated
    s.sendall(_masked_frame(payload, rsv1=True))
    received = data.split(b"\r\n\r\n", 1)[1]
    try:
        while chunk := s.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    s.close()
    close_at = received.rfind(b"\x88")
    assert close_at >= 0, received[-50:]
    code = struct.unpack("!H", received[close_at + 2 : close_at + 4])[0]
    assert code == 1002, code
    assert httpx.get(f"{server.base}/healthz").status_code == 200


# --- the host HTTP API -------------------------------------------------------------------------------

POSTS = ["load", "settings", "disqualify", "open", "close", "reveal", "leaderboard", "skip", "void", "finish",
         "reset", "rerun", "login", "logout"]
GETS = ["state", "banks", "stats", "results", "verify", "session"]
body_keys = st.sampled_from(["expect", "reason", "confirm", "bank", "episode", "player", "reinstate", "delay_s",
                             "one_prize", "token", "format"])
bodies = st.one_of(
    st.dictionaries(body_keys, json_values | hostile_ints | st.sampled_from(["fuzz", "e", "test", "ep1", "p0"]),
                    max_size=4),
    json_values.map(lambda v: v),
)


def test_host_api_fuzz(make_server: Callable[..., ServerProc], tmp_path: Path) -> None:
    server = make_server("--bank", str(fuzz_bank(tmp_path)), "--load", "fuzz/e")
    statuses: dict[int, int] = {}
    client = httpx.Client(base_url=server.base, headers={"authorization": f"Bearer {HOST_TOKEN}"}, timeout=15)

    @settings(max_examples=250, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(POSTS + GETS), bodies | st.binary(max_size=100), st.booleans())
    def call(path: str, body: Any, as_json: bool) -> None:
        if path in GETS:
            params = body if isinstance(body, dict) else {}
            r = client.get(f"/api/host/{path}", params={k: str(v)[:50] for k, v in params.items()})
        elif isinstance(body, bytes) or not as_json:
            r = client.post(f"/api/host/{path}", content=body if isinstance(body, bytes) else str(body).encode())
        else:
            r = client.post(f"/api/host/{path}", content=json.dumps(body).encode())
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code in (200, 400, 401, 403, 404, 409, 429), (path, body, r.status_code, r.text[:300])
        if r.status_code != 200:
            assert "error" in r.json(), r.text

    call()
    # oversized bodies: refused, not a crash
    big = client.post("/api/host/open", content=b"{" + b" " * 1_000_000 + b"}")
    assert big.status_code == 413 and big.json()["error"] == "request_too_large"
    assert httpx.get(f"{server.base}/healthz").status_code == 200
    assert client.get("/api/host/verify").json()["ok"]
    client.close()
    print(f"\n[fuzz] host API: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
