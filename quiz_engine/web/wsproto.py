"""uvicorn's sans-I/O WebSocket protocol with a synchronous hook for incoming frames.

Stock uvicorn turns every received frame into an ASGI message on a queue, pauses reading,
and wakes the endpoint's task, which resumes reading: two ``epoll_ctl`` calls, a queue and
a task switch per frame, roughly half of the server's CPU per answer in a burst. An
endpoint may set ``on_frame`` after ``accept``; each complete message is then handed to it
right inside ``data_received``. The hook handles what it can on the spot (answers, pings,
errors) and returns ``None``, or returns an ASGI receive message for the endpoint's
``receive()`` loop (joins and other frames that need to await Redis). Keeping the order
is the hook's job: while anything is queued for the loop, it queues later frames too.

**Small-frame fast path.** A viewer's frames are small, whole, unfragmented data frames
(an answer is ~70 bytes), and a read from the socket almost always holds whole frames.
For such a read, ``data_received`` splits and unmasks the frames itself (a few byte
operations and websockets' C ``apply_mask``) instead of running websockets' generator
parser (a feed, a chain of generator resumptions, a ``Frame`` object and the state
checks per frame), about a fifth of the server's CPU per answer. Anything else (control
frames, fragments, a frame split across reads, bad UTF-8, an oversize frame) goes to
websockets' parser exactly as before, which keeps the protocol's rules and close codes.
The fast path applies only while the parser is idle at a frame boundary, which a
``FrameCursor`` tracks by walking the frame headers of every read handed to the parser; a
frame split across reads goes to the parser, and the fast path resumes after it.

Selected with ``ws="quiz_engine.web.wsproto:DirectWebSocketProtocol"``; with any other
protocol class the endpoints fall back to the plain ASGI receive loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from quiz_engine.logs import Summarised

_bad_utf8 = Summarised(logging.getLogger("quiz_engine.web"), "closed sockets that sent invalid UTF-8 text (1007)")

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

FrameHook = Callable[[bytes | str], dict[str, Any] | None]

OP_TEXT, OP_BINARY = 0x1, 0x2


def split_data_frames(data: bytes, max_size: int | None) -> list[bytes | str] | None:
    """The payloads of ``data`` if it is nothing but whole, final, masked text/binary frames
    within ``max_size`` (text decoded); else None (let the full parser have it)."""
    out: list[bytes | str] = []
    i, end = 0, len(data)
    while i < end:
        if end - i < 6:
            return None
        b0, b1 = data[i], data[i + 1]
        if b0 & 0xF0 != 0x80 or not b1 & 0x80:  # FIN set, no RSV bits; masked (client frames)
            return None
        opcode, length = b0 & 0x0F, b1 & 0x7F
        if opcode != OP_TEXT and opcode != OP_BINARY:
            return None
        head = i + 2
        if length == 126:
            if end - i < 8:
                return None
            length = int.from_bytes(data[head : head + 2], "big")
            head += 2
        elif length == 127:
            return None
        if max_size is not None and length > max_size:
            return None
        start = head + 4
        stop = start + length
        if stop > end:
            return None
        payload = apply_mask(data[start:stop], data[head:start])
        if opcode == OP_TEXT:
            try:
                out.append(payload.decode())
            except UnicodeDecodeError:
                return None
        else:
            out.append(payload)
        i = stop
    return out


class FrameCursor:
    """Where a byte stream of frames stands: between frames, or inside one (and how far).

    Fed every read that goes to websockets' parser, so the fast path knows when the parser
    is back at a frame boundary, after a frame split across reads for instance.
    """

    __slots__ = ("head", "left", "lost")

    def __init__(self) -> None:
        self.head = b""  # the first bytes of a frame header that is not complete yet
        self.left = 0  # payload bytes of the current frame still to come
        self.lost = False  # the position is unknown (never at a boundary again)

    @property
    def at_boundary(self) -> bool:
        return not self.head and not self.left and not self.lost

    def feed(self, data: bytes) -> bool:
        """Advance over ``data``; True if the stream now stands between two frames."""
        if self.lost:
            return False
        i = 0
        if self.left:
            i = min(self.left, len(data))
            self.left -= i
            if self.left:
                return False
        if self.head:
            data, i, self.head = self.head + data[i:], 0, b""
        end = len(data)
        while i < end:
            head = i + 2
            if head > end:
                break
            b1 = data[i + 1]
            length = b1 & 0x7F
            extra = 2 if length == 126 else 8 if length == 127 else 0
            mask = 4 if b1 & 0x80 else 0
            if head + extra + mask > end:
                break
            if extra:
                length = int.from_bytes(data[head : head + extra], "big")
            head += extra + mask
            if head + length > end:
                self.left = head + length - end
                return False
            i = head + length
        if i < end:
            self.head = bytes(data[i:])
            return False
        return True


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_frame: FrameHook | None = None
        self.cursor = FrameCursor()  # where websockets' parser stands (see the module doc)
        self.handshake_read = False  # the HTTP request has been read: frames follow

    def data_received(self, data: bytes) -> None:
        hook = self.on_frame
        conn = self.conn
        if (
            hook is not None
            and self.cursor.at_boundary
            and not self.close_sent
            and conn.state is State.OPEN
            and conn.current_size is None
            and not conn.reader.buffer
            and not conn.extensions
        ):
            payloads = split_data_frames(data, conn.max_message_size)
            if payloads is not None:
                for payload in payloads:
                    if self.close_sent or self.on_frame is None:
                        break  # the hook closed the socket: later frames are dropped, as by uvicorn
                    self._deliver(self.on_frame, payload)
                return
        if not self.handshake_read:
            super().data_received(data)
            # frames start right after the HTTP request (a client should wait for the 101, so
            # normally in a later read); if its end is not in this read, give up the fast path
            if self.handshake_initiated:
                self.handshake_read = True
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    self.cursor.lost = True
                else:
                    self.cursor.feed(data[end + 4 :])
            return
        self.cursor.feed(data)
        super().data_received(data)

    def send_receive_event_to_app(self) -> None:
        hook = self.on_frame
        if hook is None or self.close_sent:
            super().send_receive_event_to_app()
            return
        frames, self.frames = self.frames, []
        data = frames[0] if len(frames) == 1 else b"".join(frames)
        payload: bytes | str = data
        if self.curr_msg_data_type == "text":
            try:
                payload = data.decode()
            except UnicodeDecodeError:
                # what the stock path does (close 1007), but with one summarised line instead
                # of an ERROR with two tracebacks per frame (a cheap log flood)
                client = getattr(self, "client", None)
                _bad_utf8(str(client[0]) if client else "")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        self._deliver(hook, payload)

    def _deliver(self, hook: FrameHook, payload: bytes | str) -> None:
        message = hook(payload)
        if message is None:
            return
        self.queue.put_nowait(message)  # type: ignore[arg-type]
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()
