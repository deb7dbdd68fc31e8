"""One WebSocket connection: websockets' public sans-I/O ``ServerProtocol`` on an asyncio transport.

The front door (``web/frontdoor.py``) hands a ``/ws/...`` request to this layer with the
transport and the request head; no other server's WebSocket code is involved. Following
websockets' "integrate the Sans-I/O layer" guide: bytes from the network go to
``receive_data``, the resulting events are handled, ``data_to_send`` goes to the transport
(an empty bytes object there means "close the TCP connection"), and ``close_expected`` arms
a timer in case the peer never closes.

Two things bypass the protocol object, both by the RFC's rules and both invisible to it:

- **outgoing data frames** are framed by ``protocol/codec.ws_frame`` (server frames are
  unmasked, so one buffer serves every socket) and written to the transport or by the hub's
  fan-out writer; the protocol object only ever sends the handshake, pongs and close frames;
- **incoming small data frames** take the fast path of ``web/inbound.py`` when the parser
  holds nothing (tracked from the bytes by a ``FrameCursor``); everything else goes to
  ``receive_data``.

The connection is also the hub's :class:`~quiz_engine.hub.Conn` (one object per socket),
and hands whole messages to its session (``web/sessions.py``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Protocol

from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from quiz_engine.clock import mono_us
from quiz_engine.hub import Conn, Role
from quiz_engine.logs import Summarised
from quiz_engine.protocol.codec import MAX_FRAME_BYTES, Codec
from quiz_engine.web.inbound import FrameCursor, split_data_frames

log = logging.getLogger("quiz_engine.web")
_bad_utf8 = Summarised(log, "closed sockets that sent invalid UTF-8 text (1007)")

CLOSE_TIMEOUT_S = 5.0  # after our close frame, how long the peer has to close the TCP connection


class Session(Protocol):
    """What a connection hands its messages to (one per role, ``web/sessions.py``)."""

    def on_message(self, payload: bytes | str, arrival_us: int) -> None: ...

    def on_close(self) -> None: ...


class Owner(Protocol):
    def gone(self, conn: WebSocketConnection) -> None: ...


class _Refused:
    """The session of a socket that was never admitted: its messages are dropped, while the
    protocol object still answers its close frame (so the client is not kept waiting)."""

    def on_message(self, payload: bytes | str, arrival_us: int) -> None:
        pass

    def on_close(self) -> None:
        pass


_REFUSED = _Refused()


def plain_fd(transport: asyncio.BaseTransport) -> int:
    """The socket's descriptor if the transport carries WebSocket bytes as they are (plain TCP,
    no TLS), judged from ``get_extra_info`` only; else -1 (no direct fan-out writes)."""
    if transport.get_extra_info("sslcontext") is not None or transport.get_extra_info("ssl_object") is not None:
        return -1
    sock = transport.get_extra_info("socket")
    try:
        if sock is None or sock.type != socket.SOCK_STREAM:
            return -1
        return int(sock.fileno())
    except (OSError, ValueError, AttributeError):
        return -1


class WebSocketConnection(Conn, asyncio.Protocol):
    """A socket after a valid handshake: frames in, frames out, the closing handshake."""

    __slots__ = ("close_timer", "cursor", "fast", "fragments", "last_rx", "owner", "proto", "session", "transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        proto: ServerProtocol,
        role: Role,
        codec: Codec,
        ip: str,
        *,
        max_buffer: int,
        fast: bool = True,
    ) -> None:
        super().__init__(role, codec, ip, max_buffer, plain_fd(transport))
        self.transport = transport
        self.proto = proto
        self.fast = fast  # the small-frame fast path may be used (off: every frame through the parser)
        self.cursor = FrameCursor()
        self.fragments: tuple[Opcode, list[bytes]] | None = None  # a fragmented message being assembled
        self.session: Session | None = None
        self.close_timer: asyncio.TimerHandle | None = None
        self.last_rx = mono_us()
        self.owner: Owner | None = None  # told when a socket that joined the hub closes

    # --- Conn's transport primitives ------------------------------------------------------------
    def writable(self) -> bool:
        # ``closed`` already covers the protocol leaving OPEN (our close, the peer's, EOF, loss)
        return not self.transport.is_closing()

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    def idle(self) -> bool:
        return self.fd >= 0 and not self.closed and not self.transport.get_write_buffer_size()

    def write_rest(self, data: bytes) -> None:
        self.transport.write(data)

    def shut(self, code: int, reason: str, abort: bool) -> None:
        self.closed = True
        proto = self.proto
        if proto.state is State.OPEN:
            proto.send_close(code, reason)
        self._flush()
        if abort:
            self.transport.abort()
        else:
            self._arm_close_timer()

    # --- asyncio.Protocol ------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        arrival = mono_us()  # an answer's arrival time: taken before any decoding
        self.last_rx = arrival
        session = self.session
        if session is None:  # refused (or not yet admitted): only the closing handshake matters
            session = _REFUSED
        if self.fast and self.cursor.at_boundary and self.proto.state is State.OPEN:
            payloads = split_data_frames(data, MAX_FRAME_BYTES)
            if payloads is not None:
                for payload in payloads:
                    if self.closed:
                        break  # the session closed the socket: later frames are dropped
                    session.on_message(payload, arrival)
                return
        self.cursor.feed(data)
        self.proto.receive_data(data)
        self._events(session, arrival)

    def eof_received(self) -> bool | None:
        self.closed = True
        self.proto.receive_eof()
        self._flush()
        return None  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        session, self.session = self.session, None
        if session is not None:
            session.on_close()
        if self.owner is not None:
            self.owner.gone(self)

    def pause_writing(self) -> None:  # the transport's high-water mark: the max_buffer check cuts off
        pass

    def resume_writing(self) -> None:
        pass

    # --- the parser's side ---------------------------------------------------------------------
    def _events(self, session: Session, arrival: int) -> None:
        for event in self.proto.events_received():
            if not isinstance(event, Frame):
                continue
            opcode = event.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if event.fin:
                    self._message(session, opcode, bytes(event.data), arrival)
                else:
                    self.fragments = (opcode, [bytes(event.data)])
            elif opcode is Opcode.CONT and self.fragments is not None:
                first, parts = self.fragments
                parts.append(bytes(event.data))
                if event.fin:
                    self.fragments = None
                    self._message(session, first, b"".join(parts), arrival)
            # ping, pong, close: the protocol object answered them (in data_to_send)
        self._flush()
        if self.proto.state is not State.OPEN:  # a close frame came (or a protocol error)
            self.closed = True
        if self.proto.close_expected():
            self._arm_close_timer()

    def _message(self, session: Session, opcode: Opcode, data: bytes, arrival: int) -> None:
        if self.closed or self.proto.state is not State.OPEN:
            return
        if opcode is Opcode.TEXT:
            try:
                text = data.decode()
            except UnicodeDecodeError:
                _bad_utf8(self.ip)
                self.proto.fail(1007, "invalid UTF-8")
                return
            session.on_message(text, arrival)
        else:
            session.on_message(data, arrival)

    def _flush(self) -> None:
        for data in self.proto.data_to_send():
            if data:
                self.transport.write(data)
            else:  # websockets' SEND_EOF: the closing handshake is done, close the TCP connection
                self.transport.close()

    def _arm_close_timer(self) -> None:
        if self.close_timer is None and not self.transport.is_closing():
            loop = asyncio.get_running_loop()
            self.close_timer = loop.call_later(CLOSE_TIMEOUT_S, self.transport.abort)

    def ping(self) -> None:
        """A protocol-level ping (the keepalive sweep): a dead peer then fails the write or the sweep."""
        if self.proto.state is State.OPEN:
            self.proto.send_ping(b"")
            self._flush()

    def pause(self, paused: bool) -> None:
        """Stop or resume reading (a session with too many messages queued)."""
        if self.transport.is_closing():
            return
        if paused:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()
