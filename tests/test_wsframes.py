"""The viewer socket's small-frame fast path (web/inbound.py) against websockets' own framing.

The fast path splits and unmasks whole data frames itself and leaves everything else to
websockets' parser; these tests check the splitter against frames serialized by websockets,
and a real server against a raw client that cuts its byte stream at awkward places (inside a
header, inside a mask, between frames), mixes in control frames and a fragmented message,
and then goes back to whole frames.
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from quiz_engine.web.inbound import FrameCursor, split_data_frames
from tests.conftest import ServerProc

# --- the splitter, against websockets' serializer ----------------------------------------------------

frames = st.lists(
    st.builds(
        lambda op, fin, data: Frame(op, data.encode() if isinstance(data, str) else data, fin=fin),
        st.sampled_from([Opcode.TEXT, Opcode.BINARY, Opcode.CONT, Opcode.PING, Opcode.PONG]),
        st.booleans(),
        st.one_of(st.text(max_size=300), st.binary(max_size=300)),
    ).filter(lambda f: f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT) or (f.fin and len(f.data) <= 125)),
    min_size=1,
    max_size=6,
)


def _simple(f: Frame) -> bool:
    return f.fin and f.opcode in (Opcode.TEXT, Opcode.BINARY)


def _utf8(data: bytes) -> bool:
    try:
        data.decode()
    except UnicodeDecodeError:
        return False
    return True


@given(frames)
@settings(max_examples=400, deadline=None)
def test_splitter_takes_only_whole_final_data_frames(fs: list[Frame]) -> None:
    wire = [f.serialize(mask=True) for f in fs]
    data = b"".join(wire)
    payloads = split_data_frames(data, 1 << 20)
    valid = all(_simple(f) and (f.opcode is Opcode.BINARY or _utf8(f.data)) for f in fs)
    if valid:
        expected = [f.data.decode() if f.opcode is Opcode.TEXT else f.data for f in fs]
        assert payloads == expected
    else:
        assert payloads is None
    boundaries = {0}
    for w in wire:
        boundaries.add(max(boundaries) + len(w))
    for cut in range(len(data) + 1):
        if cut not in boundaries:
            assert split_data_frames(data[:cut], 1 << 20) is None


@given(frames, st.lists(st.integers(min_value=0, max_value=2000), max_size=8))
@settings(max_examples=400, deadline=None)
def test_cursor_knows_the_frame_boundaries_whatever_the_reads(fs: list[Frame], cuts: list[int]) -> None:
    wire = [f.serialize(mask=True) for f in fs]
    data = b"".join(wire)
    boundaries = {0: False}  # offset of each frame boundary -> inside a fragmented message there
    offset, fragmented = 0, False
    for f, w in zip(fs, wire, strict=True):
        offset += len(w)
        if f.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            fragmented = not f.fin
        boundaries[offset] = fragmented
    cursor, start = FrameCursor(), 0
    for cut in [*sorted({c for c in cuts if c < len(data)}), len(data)]:
        if cut < start:
            continue
        assert cursor.feed(data[start:cut]) == (cut in boundaries), (start, cut)
        # the fast path may take over only between frames and outside a fragmented message
        assert cursor.at_boundary == (cut in boundaries and not boundaries[cut])
        start = cut


def test_splitter_refuses_what_the_parser_must_judge() -> None:
    ok = Frame(Opcode.TEXT, b'{"type":"ping"}').serialize(mask=True)
    assert split_data_frames(ok, 1 << 20) == ['{"type":"ping"}']
    assert split_data_frames(Frame(Opcode.TEXT, b"x").serialize(mask=False), 1 << 20) is None  # unmasked
    assert split_data_frames(Frame(Opcode.TEXT, b"\xff\xfe").serialize(mask=True), 1 << 20) is None  # bad UTF-8
    assert split_data_frames(Frame(Opcode.TEXT, b"y" * 200).serialize(mask=True), 100) is None  # too big
    assert split_data_frames(Frame(Opcode.TEXT, b"z" * 70000).serialize(mask=True), None) is None  # 64-bit length
    rsv = bytearray(ok)
    rsv[0] |= 0x40  # a compressed frame that was never negotiated
    assert split_data_frames(bytes(rsv), 1 << 20) is None
    assert split_data_frames(ok + Frame(Opcode.CLOSE, b"\x03\xe8").serialize(mask=True), 1 << 20) is None


# --- a real server, a raw client ---------------------------------------------------------------------


def _frame(payload: bytes, opcode: int = 0x1, fin: bool = True) -> bytes:
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode]) + length + mask + masked


def _json(frame: dict[str, Any]) -> bytes:
    return _frame(json.dumps(frame).encode())


class RawViewer:
    """A viewer socket over a bare TCP connection, so the test controls every byte and every cut."""

    def __init__(self, port: int) -> None:
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET /ws/viewer HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += self.s.recv(4096)
        head, self.buf = data.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        self.frames: list[tuple[int, Any]] = []  # (opcode, decoded JSON or raw payload)
        self._parse()  # frames may have come in the same read as the 101

    def send_in_pieces(self, data: bytes, cuts: list[int]) -> None:
        """Send ``data`` cut at these offsets, each piece its own TCP segment."""
        start = 0
        for cut in [*sorted(set(cuts)), len(data)]:
            if cut > start:
                self.s.sendall(data[start:cut])
                time.sleep(0.02)  # NODELAY plus a pause: the server reads each piece on its own
                start = cut

    def _parse(self) -> None:
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, head = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, head = struct.unpack("!H", self.buf[2:4])[0], 4
            if len(self.buf) < head + n:
                return
            payload, self.buf = self.buf[head : head + n], self.buf[head + n :]
            opcode = b0 & 0x0F
            self.frames.append((opcode, json.loads(payload) if opcode == 0x1 else payload))

    def wait_for(self, pred: Callable[[list[tuple[int, Any]]], bool], timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while not pred(self.frames):
            if time.monotonic() > end:
                raise TimeoutError([f[1].get("type") if f[0] == 1 else f[0] for f in self.frames])
            self.s.settimeout(max(0.01, end - time.monotonic()))
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the socket")
            self.buf += chunk
            self._parse()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for op, f in self.frames if op == 0x1 and f.get("type") == kind]


def test_frames_cut_anywhere_and_control_frames_keep_working(
    make_server: Callable[..., ServerProc], socket_env: dict[str, str]
) -> None:
    server = make_server("--load", "test/ep1", env=socket_env)
    assert server.cmd("open").status_code == 200
    rng = random.Random(7)
    v = RawViewer(server.port)
    v.wait_for(lambda fs: len(v.of("snapshot")) >= 1)

    # 1. join cut inside its header, then inside its mask, then whole frames glued to a split one
    join = _json({"type": "join", "name": "Raw Viewer", "ref": "j"})
    v.send_in_pieces(join, [1, 4])
    v.wait_for(lambda fs: len(v.of("welcome")) == 1 and len(v.of("snapshot")) >= 2)

    # 2. an answer, a protocol ping (control frame), an app ping, a fragmented answer (text + continuation)
    #    and a sync, all in one stream cut at random places
    answer = _json({"type": "answer", "question": 0, "option": 2, "ref": "a1"})
    second = json.dumps({"type": "answer", "question": 0, "option": 1, "ref": "a2"}).encode()
    stream = (answer + _frame(b"hello", opcode=0x9) + _json({"type": "ping", "t": 5})
              + _frame(second[:10], fin=False) + _frame(second[10:], opcode=0x0)
              + _json({"type": "sync", "ref": "s"}))
    v.send_in_pieces(stream, rng.sample(range(1, len(stream)), 6))
    v.wait_for(lambda fs: len(v.of("ack")) == 2 and len(v.of("pong")) == 1 and len(v.of("snapshot")) >= 3
               and any(op == 0xA for op, _ in fs))
    acks = {a["ref"]: a for a in v.of("ack")}
    assert acks["a1"]["ok"] is True and acks["a1"]["option"] == 2
    assert acks["a2"]["ok"] is False and acks["a2"]["reason"] == "duplicate"
    assert [p for op, p in v.frames if op == 0xA] == [b"hello"]

    # 3. back to whole frames, several per segment (the fast path), still answered in order
    batch = b"".join(_json({"type": "ping", "t": t}) for t in range(10, 20))
    v.send_in_pieces(batch, [])
    v.wait_for(lambda fs: len(v.of("pong")) == 11)
    assert [p["t"] for p in v.of("pong")] == [5, *range(10, 20)]

    # 4. two answers in one segment: one Redis batch, both acks for this socket written together, in order
    v.send_in_pieces(_json({"type": "answer", "question": 0, "option": 0, "ref": "a3"})
                     + _json({"type": "answer", "question": 0, "option": 3, "ref": "a4"}), [])
    v.wait_for(lambda fs: len(v.of("ack")) == 4)
    assert [a["ref"] for a in v.of("ack")][2:] == ["a3", "a4"]
    assert all(a["reason"] == "duplicate" and a["option"] == 2 for a in v.of("ack")[2:])

    # 5. invalid UTF-8 in a whole frame still gets websockets' close code 1007
    v.send_in_pieces(_frame(b"\xff\xfe{}"), [])
    v.wait_for(lambda fs: any(op == 0x8 for op, _ in fs))
    close = next(p for op, p in v.frames if op == 0x8)
    assert struct.unpack("!H", close[:2])[0] == 1007
    v.s.close()
