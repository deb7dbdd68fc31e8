"""The timer that closes an open question at its deadline (plus grace).

Every node runs one for the open question; any of them may fire first. The close is the
same ``close`` command as the host's, marked ``auto``, and the transition script applies it
once and only after the deadline by Redis's clock: a node whose clock estimate runs ahead
is told ``too_early`` and tries again when Redis says.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from quiz_engine.errors import RedisUnavailable

log = logging.getLogger("quiz_engine.runner")

RETRY_S = 0.5  # Redis unreachable when the timer fired


class Clock(Protocol):
    def now_ms(self) -> int: ...

    def loop_time_for(self, redis_ms: int) -> float: ...


Close = Callable[[int], Awaitable[Any]]  # close question ``idx`` (auto): the transition's result


class CloseTimer:
    def __init__(self, clock: Clock, close: Close) -> None:
        self.clock = clock
        self.close = close
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self, idx: int, due_ms: int) -> None:
        """Fire for question ``idx`` at ``due_ms`` (Redis ms); replaces any earlier timer."""
        self.cancel()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(self.clock.loop_time_for(due_ms), self._fire, idx)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None

    async def stop(self) -> None:
        self.cancel()
        for task in list(self._tasks):
            task.cancel()

    def _fire(self, idx: int) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._close(idx))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close(self, idx: int) -> None:
        try:
            result = await self.close(idx)
        except RedisUnavailable:
            await asyncio.sleep(RETRY_S)
            if self._timer is None:
                self.arm(idx, self.clock.now_ms())
            return
        if not result.ok and result.reason == "too_early":  # this node's clock estimate ran ahead of Redis
            self.arm(idx, self.clock.now_ms() + max(result.retry_in_ms, 5))
