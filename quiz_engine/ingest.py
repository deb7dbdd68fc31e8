"""Answer ingestion: bursts of answers go to Redis in pipelines, not one round trip each.

While one pipeline is in flight the next answers queue up; they go together in the next
one. Each answer's acknowledgement waits for Redis's reply to *its* script call, so a
viewer is never told "accepted" before Redis has stored it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.errors import RedisUnavailable
from quiz_engine.protocol.codes import R_TRY_AGAIN
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Store

log = logging.getLogger("quiz_engine.ingest")

MAX_BATCH = 500


Done = Callable[[AnswerResult], None]


class AnswerIngest:
    """Answers wait here for the next pipeline; each one's ``done`` callback gets its result.

    Callbacks rather than one awaited future per answer: the viewer socket hands an answer in
    from uvicorn's ``data_received`` and the ack is written from here, so a burst of answers
    costs no task wake-ups at all.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[tuple[AnswerRequest, Done]] = []
        self._wake = asyncio.Event()
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
        pending, self._pending = self._pending, []
        _finish(pending, [AnswerResult(False, R_TRY_AGAIN)] * len(pending))

    def enqueue(self, request: AnswerRequest, done: Done) -> None:
        """Queue one answer without awaiting; ``done(result)`` runs once Redis has replied."""
        self._pending.append((request, done))
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            if not self._pending:
                self._wake.clear()
            if not batch:
                continue
            started = mono_us()
            results = await self._commit([r for r, _ in batch])
            metrics.REDIS_BATCH.observe((mono_us() - started) / 1e6)
            metrics.BATCH_SIZE.observe(len(batch))
            self.batches += 1
            self.answers += len(batch)
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
