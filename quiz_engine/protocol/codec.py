"""Frame codecs: JSON text (orjson, the default) and msgpack binary (negotiated).

A client picks msgpack by offering the WebSocket subprotocol ``quiz.v1.msgpack``;
``quiz.v1.json`` or no subprotocol means JSON text frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import msgpack
import orjson

from quiz_engine.errors import ProtocolError
from quiz_engine.protocol.codes import E_BAD_FRAME

SUBPROTOCOL_JSON: Final = "quiz.v1.json"
SUBPROTOCOL_MSGPACK: Final = "quiz.v1.msgpack"
SUBPROTOCOLS: Final = (SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK)

MAX_FRAME_BYTES: Final = 4096
MAX_DEPTH: Final = 4

_DECODE_ERRORS = (orjson.JSONDecodeError, ValueError, msgpack.ExtraData, msgpack.FormatError,
                  msgpack.StackError, TypeError, UnicodeDecodeError)


@dataclass(frozen=True)
class Codec:
    name: str
    binary: bool

    def encode(self, frame: dict[str, Any]) -> bytes:
        if self.binary:
            return msgpack.packb(frame, use_bin_type=True)  # type: ignore[no-any-return]
        return orjson.dumps(frame)

    def decode(self, data: bytes | str) -> dict[str, Any]:
        """Decode one client frame; raise ProtocolError(bad_frame) on anything odd."""
        if len(data) > MAX_FRAME_BYTES:
            raise ProtocolError(E_BAD_FRAME, f"frame larger than {MAX_FRAME_BYTES} bytes")
        try:
            if isinstance(data, str) or not self.binary:
                value = orjson.loads(data)
            else:
                value = msgpack.unpackb(data, raw=False, strict_map_key=True,
                                        max_array_len=64, max_map_len=32)
        except _DECODE_ERRORS as exc:
            raise ProtocolError(E_BAD_FRAME, f"cannot decode frame: {exc}") from None
        if not isinstance(value, dict):
            raise ProtocolError(E_BAD_FRAME, "frame must be an object/map")
        if _too_deep(value, MAX_DEPTH):
            raise ProtocolError(E_BAD_FRAME, f"frame nested deeper than {MAX_DEPTH} levels")
        return value


def _too_deep(container: dict[str, Any] | list[Any], budget: int) -> bool:
    """Whether containers nest ``budget`` or more levels below this one (a plain loop that
    only descends into containers: it runs on every answer)."""
    items = container.values() if isinstance(container, dict) else container
    for v in items:  # noqa: SIM110 - a plain loop: no generator object per call
        if isinstance(v, (dict, list)) and (budget <= 1 or _too_deep(v, budget - 1)):
            return True
    return False


JSON: Final = Codec("json", binary=False)
MSGPACK: Final = Codec("msgpack", binary=True)
CODECS: Final = (JSON, MSGPACK)


def codec_for_subprotocol(subprotocol: str | None) -> Codec:
    return MSGPACK if subprotocol == SUBPROTOCOL_MSGPACK else JSON


def pick_subprotocol(offered: list[str]) -> str | None:
    """The first subprotocol we speak among the client's offers, in the client's order."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


def ws_frame(payload: bytes, binary: bool) -> bytes:
    """The exact bytes of an unmasked, final, uncompressed server WebSocket frame.

    Server frames are never masked, so one framed buffer can be written to every socket:
    this is what makes "encode once, fan out" cost one memcpy per connection.
    """
    head = 0x82 if binary else 0x81
    n = len(payload)
    if n < 126:
        return bytes((head, n)) + payload
    if n < 65536:
        return bytes((head, 126)) + n.to_bytes(2, "big") + payload
    return bytes((head, 127)) + n.to_bytes(8, "big") + payload


@dataclass
class Prepared:
    """A broadcast frame encoded at most once per codec (lazily), with its wire bytes."""

    frame: dict[str, Any]
    _payload: dict[str, bytes] = field(default_factory=dict)
    _wire: dict[str, bytes] = field(default_factory=dict)

    def payload(self, codec: Codec) -> bytes:
        data = self._payload.get(codec.name)
        if data is None:
            data = self._payload[codec.name] = codec.encode(self.frame)
        return data

    def wire(self, codec: Codec) -> bytes:
        data = self._wire.get(codec.name)
        if data is None:
            data = self._wire[codec.name] = ws_frame(self.payload(codec), codec.binary)
        return data
