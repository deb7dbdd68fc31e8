"""Abuse limits: token buckets per socket and per client IP, and connection counts per IP.

These are per node (each node enforces them on its own sockets); with N nodes behind a
load balancer the effective per-IP limits are at most N times higher. Offices behind one
NAT address share an IP, so the defaults are generous and configurable.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; ``take`` spends one if available."""

    __slots__ = ("burst", "clock", "excess", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.stamp = clock()
        self.excess = 0  # refusals so far: sustained floods get the socket closed

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.excess += 1
        return False


class PerIp:
    """One token bucket per client IP (least recently used IPs forgotten past ``max_ips``)."""

    def __init__(self, rate: float, burst: float, max_ips: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.max_ips, self.clock = rate, burst, max_ips, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def take(self, ip: str) -> bool:
        bucket = self._buckets.get(ip)
        if bucket is None:
            bucket = self._buckets[ip] = TokenBucket(self.rate, self.burst, self.clock)
            if len(self._buckets) > self.max_ips:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(ip)
        return bucket.take()


class ConnCounter:
    """Open connections per IP on this node; ``limit`` 0 means unlimited."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[str, int] = {}

    def acquire(self, ip: str) -> bool:
        n = self.counts.get(ip, 0)
        if self.limit and n >= self.limit:
            return False
        self.counts[ip] = n + 1
        return True

    def release(self, ip: str) -> None:
        n = self.counts.get(ip, 0) - 1
        if n <= 0:
            self.counts.pop(ip, None)
        else:
            self.counts[ip] = n
