"""Abuse limits: token buckets per socket and per client IP, and connection counts per IP.

These are per node (each node enforces them on its own sockets); with N nodes behind a
load balancer the effective per-IP limits are at most N times higher. Offices behind one
NAT address share an IP, so the defaults are generous and configurable.
"""

from __future__ import annotations

import asyncio
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


class AuthGuard:
    """Throttles host-token guessing per client address, on every way in (HTTP API, login,
    host socket), without letting anyone who shares the host's address lock the panel.

    Only *failures* spend the address's allowance (``failures`` per minute, as a burst). Past
    it, a wrong token is answered 429, and every attempt from that address — right or wrong —
    is answered one at a time, ``pause_s`` apart: a guesser gets one try a second, while the
    host with the right token still gets in (a second later).
    """

    def __init__(self, failures: int = 10, pause_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._failures = PerIp(failures / 60, failures, clock=clock)
        self.pause_s = pause_s
        self._blocked: OrderedDict[str, asyncio.Lock] = OrderedDict()

    async def pace(self, ip: str) -> None:
        """Wait our turn if this address is over its allowance (call before checking a token)."""
        lock = self._blocked.get(ip)
        if lock is None:
            return
        async with lock:
            await asyncio.sleep(self.pause_s)

    def failed(self, ip: str) -> bool:
        """Record a wrong token; False once the address is over its allowance (answer 429)."""
        if self._failures.take(ip):
            self._blocked.pop(ip, None)
            return True
        if ip not in self._blocked:
            self._blocked[ip] = asyncio.Lock()
            if len(self._blocked) > 10_000:
                self._blocked.popitem(last=False)
        return False
