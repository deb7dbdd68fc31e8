"""Answer ingestion: bursts of answers go to Redis in pipelines, not one round trip each.

While one pipeline is in flight the next answers queue up; they go together in the next
one. Each answer's acknowledgement waits for Redis's reply to *its* script call, so a
viewer is never told "accepted" before Redis has stored it.

Answers are spread over a few *lanes* by player, each with its own pipeline in flight, so
Redis runs one lane's batch while the node packs the next lane's batch and writes the
acks of a third: with a single lane the two took turns and each idled half the time. One
player's answers always share a lane, so they reach Redis in the order they arrived (the
first answer is the one kept). Between players the order is Redis's arrival order, the
tie-break after response time, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.errors import RedisUnavailable
from quiz_engine.protocol.codes import R_TRY_AGAIN
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Store

log = logging.getLogger("quiz_engine.ingest")

MAX_BATCH = 500
LANES = 3


Done = Callable[[AnswerResult], None]


class AnswerIngest:
    """Answers wait here for the next pipeline; each one's ``done`` callback gets its result.

    Callbacks rather than one awaited future per answer: the viewer socket hands an answer in
    from uvicorn's ``data_received`` and the ack is written from here, so a burst of answers
    costs no task wake-ups at all.
    """

    def __init__(
        self, store: Store, lanes: int = LANES, batched: Callable[[], AbstractContextManager[None]] = nullcontext
    ) -> None:
        self.store = store
        self.batched = batched  # wraps a batch's callbacks: the hub writes their acks together
        self._lanes: list[list[tuple[AnswerRequest, Done]]] = [[] for _ in range(lanes)]
        self._wakes = [asyncio.Event() for _ in range(lanes)]
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.answers = 0

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._run(i), name=f"answer-ingest-{i}") for i in range(len(self._lanes))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for i, pending in enumerate(self._lanes):
            self._lanes[i] = []
            _finish(pending, [AnswerResult(False, R_TRY_AGAIN)] * len(pending))

    def enqueue(self, request: AnswerRequest, done: Done) -> None:
        """Queue one answer without awaiting; ``done(result)`` runs once Redis has replied."""
        lane = hash(request.player) % len(self._lanes)
        self._lanes[lane].append((request, done))
        self._wakes[lane].set()

    async def _run(self, lane: int) -> None:
        wake = self._wakes[lane]
        while True:
            await wake.wait()
            pending = self._lanes[lane]
            batch, self._lanes[lane] = pending[:MAX_BATCH], pending[MAX_BATCH:]
            if not self._lanes[lane]:
                wake.clear()
            if not batch:
                continue
            started = mono_us()
            results = await self._commit([r for r, _ in batch])
            metrics.REDIS_BATCH.observe((mono_us() - started) / 1e6)
            metrics.BATCH_SIZE.observe(len(batch))
            self.batches += 1
            self.answers += len(batch)
            with self.batched():
                _finish(batch, results)

    async def _commit(self, requests: list[AnswerRequest]) -> list[AnswerResult]:
        # One retry: if the connection broke mid-pipeline, some scripts may have run. The
        # request id makes the retry idempotent: a stored answer comes back as "retried"
        # with its original response time instead of being stored twice or rejected.
        for attempt in (1, 2):
            try:
                return await self.store.answer_batch(requests)
            except RedisUnavailable as exc:
                if attempt == 2:
                    log.warning("answers not stored, Redis unavailable: %s", exc)
                    return [AnswerResult(False, R_TRY_AGAIN) for _ in requests]
                await asyncio.sleep(0.05)
            except Exception:
                log.exception("answer batch failed")
                return [AnswerResult(False, R_TRY_AGAIN) for _ in requests]
        raise AssertionError("unreachable")


def _finish(batch: list[tuple[AnswerRequest, Done]], results: list[AnswerResult]) -> None:
    for (_, done), result in zip(batch, results, strict=True):
        try:
            done(result)
        except Exception:
            log.exception("answer callback failed")
