"""Answer ingestion: bursts of answers go to Redis in pipelines, not one round trip each.

While one pipeline is in flight the next answers queue up; they go together in the next
one. Each answer's acknowledgement waits for Redis's reply to *its* script call, so a
viewer is never told "accepted" before Redis has stored it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.errors import RedisUnavailable
from quiz_engine.protocol.codes import R_TRY_AGAIN
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Store

log = logging.getLogger("quiz_engine.ingest")

MAX_BATCH = 500


class AnswerIngest:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: asyncio.Queue[tuple[AnswerRequest, asyncio.Future[AnswerResult]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.answers = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="answer-ingest")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        while not self._queue.empty():
            _, fut = self._queue.get_nowait()
            if not fut.done():
                fut.set_result(AnswerResult(False, R_TRY_AGAIN))

    async def submit(self, request: AnswerRequest) -> AnswerResult:
        fut: asyncio.Future[AnswerResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((request, fut))
        return await fut

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = mono_us()
            results = await self._commit([r for r, _ in batch])
            metrics.REDIS_BATCH.observe((mono_us() - started) / 1e6)
            metrics.BATCH_SIZE.observe(len(batch))
            self.batches += 1
            self.answers += len(batch)
            for (_, fut), result in zip(batch, results, strict=True):
                if not fut.done():
                    fut.set_result(result)

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
