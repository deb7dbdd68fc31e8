"""uvicorn's sans-I/O WebSocket protocol with a synchronous hook for incoming frames.

Stock uvicorn turns every received frame into an ASGI message on a queue, pauses reading,
and wakes the endpoint's task, which resumes reading: two ``epoll_ctl`` calls, a queue and
a task switch per frame, roughly half of the server's CPU per answer in a burst. An
endpoint may set ``on_frame`` after ``accept``; each complete message is then handed to it
right inside ``data_received``. The hook handles what it can on the spot (answers, pings,
errors) and returns ``None``, or returns an ASGI receive message for the endpoint's
``receive()`` loop (joins and other frames that need to await Redis). Keeping the order
is the hook's job: while anything is queued for the loop, it queues later frames too.

Selected with ``ws="quiz_engine.web.wsproto:DirectWebSocketProtocol"``; with any other
protocol class the endpoints fall back to the plain ASGI receive loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

FrameHook = Callable[[bytes | str], dict[str, Any] | None]


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_frame: FrameHook | None = None

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
                self.frames = frames  # the stock path closes with 1007
                super().send_receive_event_to_app()
                return
        message = hook(payload)
        if message is None:
            return
        self.queue.put_nowait(message)  # type: ignore[arg-type]
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()
