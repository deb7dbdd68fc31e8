"""The answer desk: a viewer's answer into the next Redis batch, its ack back to the socket.

Synchronous on purpose: the viewer's session calls ``answer_soon`` straight from the frame
reader, the answer joins the ingest's next pipeline (``ingest.py``), and the ack is written
from the batch's completion, with no task in between. Redis decides everything (the answer
script); the desk only carries the node's side of the timing: the arrival instant on this
node's monotonic clock, its Redis-clock estimate, and the player's delivery record for the
open question (``delivery.py``).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any, Protocol

from quiz_engine import metrics
from quiz_engine.delivery import Delivery
from quiz_engine.errors import ProtocolError
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codes import E_NOT_JOINED, R_NOT_OPEN, R_TRY_AGAIN
from quiz_engine.protocol.frames import Answer
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult

Reply = Callable[[dict[str, Any]], None]
NO_RECORD = "|||"


class Clock(Protocol):
    boot: str

    def est_us(self, mono: int | None = None) -> int: ...


class Ingest(Protocol):
    def enqueue(self, request: AnswerRequest, done: Callable[[AnswerResult], None]) -> None: ...


class Player(Protocol):
    player: str | None


class AnswerDesk:
    def __init__(self, ingest: Ingest, clock: Clock, episode: Callable[[], str],
                 delivery: Callable[[], Delivery | None], refused: Callable[[], None]) -> None:
        self.ingest = ingest
        self.clock = clock
        self.episode = episode  # the current episode ("" when none is loaded)
        self.delivery = delivery  # this node's fan-out of the open question, if any
        self.refused = refused  # an answer got try_again: Redis is unreachable (an outage)
        self._rid = itertools.count()

    def answer_soon(self, conn: Player, frame: Answer, arrival_us: int, reply: Reply) -> None:
        """Queue an answer for the next Redis batch; ``reply(ack)`` runs once Redis has decided."""
        if conn.player is None:
            raise ProtocolError(E_NOT_JOINED, "join or resume before answering")
        episode = self.episode()
        if not episode:
            reply(F.ack_rejected(frame.ref, frame.question, R_NOT_OPEN))
            return
        delivery = self.delivery()
        record = delivery.record(conn.player) if delivery is not None and frame.question == delivery.key[1] \
            else NO_RECORD
        clock = self.clock
        request = AnswerRequest(
            episode=episode,
            player=conn.player,
            question=frame.question,
            option=frame.option,
            boot=clock.boot,
            arrival_mono_us=arrival_us,
            arrival_est_us=clock.est_us(arrival_us),
            delivery=record,
            rid=f"{clock.boot}:{next(self._rid)}",
        )
        self.ingest.enqueue(request, lambda result: reply(self.ack(frame, result)))

    async def answer(self, conn: Player, frame: Answer, arrival_us: int) -> dict[str, Any]:
        """``answer_soon``, awaited (tests and non-socket callers)."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def reply(ack: dict[str, Any]) -> None:
            if not fut.done():  # the caller may have been cancelled meanwhile
                fut.set_result(ack)

        self.answer_soon(conn, frame, arrival_us, reply)
        return await fut

    def ack(self, frame: Answer, result: AnswerResult) -> dict[str, Any]:
        metrics.answer_outcome("accepted" if result.ok else result.reason).inc()
        if result.ok:
            return F.ack_ok(frame.ref, frame.question, result.option, result.response_us)
        if result.reason == R_TRY_AGAIN:
            self.refused()
        stored = result.option if result.reason == "duplicate" else None
        return F.ack_rejected(frame.ref, frame.question, result.reason, stored)
