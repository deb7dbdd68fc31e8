"""The node's view of time.

Two clocks matter: this process's monotonic clock (response times: arrival − send on the
same node) and Redis's clock (deadlines, decided by the scripts). The node keeps an offset
estimate between them, from the TIME round trip with the smallest delay, so it can
schedule timers and tell clients "the server's now" in Redis-clock milliseconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable


def mono_us() -> int:
    return time.monotonic_ns() // 1000


class NodeClock:
    def __init__(self) -> None:
        self.boot = os.urandom(6).hex()  # identifies this process's monotonic clock
        self.offset_us = time.time_ns() // 1000 - mono_us()  # until the first sync
        self.rtt_us = 0

    async def sync(self, redis_time_us: Callable[[], Awaitable[int]], samples: int = 5) -> None:
        best: tuple[int, int] | None = None
        for _ in range(samples):
            t0 = mono_us()
            server = await redis_time_us()
            t1 = mono_us()
            rtt = t1 - t0
            if best is None or rtt < best[0]:
                best = (rtt, server - (t0 + t1) // 2)
        if best is not None:
            self.rtt_us, self.offset_us = best

    def est_us(self, mono: int | None = None) -> int:
        """Redis-clock estimate (µs since epoch) of a monotonic instant (default: now)."""
        return (mono_us() if mono is None else mono) + self.offset_us

    def now_ms(self) -> int:
        return self.est_us() // 1000

    def loop_time_for(self, redis_ms: int) -> float:
        """The ``loop.time()`` (monotonic seconds) at which Redis's clock reads ``redis_ms``."""
        return (redis_ms * 1000 - self.offset_us) / 1e6
