"""Reading a viewer's frames without the general parser, when that is safe.

A viewer's frames are small, whole, unfragmented data frames (an answer is ~70 bytes), and a
read from the socket almost always holds whole frames. For such a read the connection splits
and unmasks the frames itself (a few byte operations and websockets' C ``apply_mask``) instead
of running websockets' generator parser (a feed, a chain of generator resumptions, a ``Frame``
object and the state checks per frame), about a fifth of the server's CPU per answer. Anything
else (control frames, fragments, a frame split across reads, bad UTF-8, an oversize frame) goes
to websockets' parser, which keeps the protocol's rules and close codes.

The fast path applies only while the parser holds nothing: between frames and not inside a
fragmented message. A ``FrameCursor`` knows that from the bytes alone, by walking the frame
headers of every read handed to the parser, so no attribute of the parser is consulted.
"""

from __future__ import annotations

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

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

    __slots__ = ("fragmented", "head", "left", "lost")

    def __init__(self) -> None:
        self.head = b""  # the first bytes of a frame header that is not complete yet
        self.left = 0  # payload bytes of the current frame still to come
        self.lost = False  # the position is unknown (never at a boundary again)
        self.fragmented = False  # inside a fragmented message (a data frame without FIN seen)

    @property
    def at_boundary(self) -> bool:
        """Between frames and between messages: the parser holds nothing of the stream."""
        return not self.head and not self.left and not self.lost and not self.fragmented

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
            b0, b1 = data[i], data[i + 1]
            opcode = b0 & 0x0F
            if opcode < 0x8:  # a data or continuation frame: FIN ends the message
                self.fragmented = not b0 & 0x80
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
