"""This node among the others: its heartbeat, the cluster's connection counts, Redis outages.

Each node writes its connection counts with a TTL every ``HEARTBEAT_S`` and reads the
others', so the host panel on any node shows the whole audience. When a node loses Redis
it notes the outage (when, in which phase and question, how many answers it had to refuse
with ``try_again``); when Redis is back the outage is recorded in Redis as an *incident*,
so the host panel on every node can show it and act: an answer window that overlapped it
may deserve a void and a re-run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from quiz_engine import metrics
from quiz_engine.errors import RedisUnavailable

log = logging.getLogger("quiz_engine.runner")

HEARTBEAT_S = 2.0
LAG_TICK_S = 0.05


class PresenceStore(Protocol):
    async def heartbeat(self, node: str, counts: dict[str, int], ttl_ms: int, now_ms: int) -> None: ...

    async def node_counts(self, now_ms: int, exclude: str = "") -> dict[str, int]: ...

    async def add_incident(self, incident: dict[str, Any]) -> list[dict[str, Any]]: ...

    async def incidents(self, n: int = 10) -> list[dict[str, Any]]: ...

    async def publish(self, event: dict[str, Any]) -> None: ...


class NodePresence:
    def __init__(self, store: PresenceStore, node: str, local_counts: Callable[[], dict[str, int]],
                 now_ms: Callable[[], int], where: Callable[[], dict[str, Any]]) -> None:
        self.store = store
        self.node = node
        self.local_counts = local_counts
        self.now_ms = now_ms
        self.where = where  # the episode, phase and question right now (for an outage's record)
        self.other_nodes: dict[str, int] = {}  # connection counts of the other live nodes
        self.redis_ok = True
        self.incidents: list[dict[str, Any]] = []  # Redis outages seen by any node (from Redis)
        self.outage: dict[str, Any] | None = None  # the outage this node is in, if any

    def cluster_counts(self) -> dict[str, int]:
        """Connections across the cluster: this node's live counts plus the others' heartbeats."""
        counts = self.local_counts()
        for role, n in self.other_nodes.items():
            counts[role] = counts.get(role, 0) + n
        return counts

    async def heartbeat(self) -> None:
        """The node's task: counts out, the others' in."""
        while True:
            try:
                now = self.now_ms()
                await self.store.heartbeat(self.node, self.local_counts(), int(HEARTBEAT_S * 3000), now)
                self.other_nodes = await self.store.node_counts(now, exclude=self.node)
            except RedisUnavailable:
                pass
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(HEARTBEAT_S)

    # --- outages ---------------------------------------------------------------------------------
    def redis_lost(self, exc: Exception | None = None) -> None:
        if self.outage is None:
            if exc is not None:
                log.error("Redis unavailable: %s", exc)
            self.outage = {"node": self.node, "start": int(time.time() * 1000), **self.where(), "try_again": 0}
        self.redis_ok = False
        metrics.REDIS_UP.set(0)

    def refused_answer(self) -> None:
        """An answer was refused with ``try_again`` (its batch could not reach Redis)."""
        self.redis_lost()
        assert self.outage is not None
        self.outage["try_again"] += 1

    async def reachable(self) -> None:
        """Redis answered (the poll): an outage this node was in is over, and recorded."""
        self.redis_ok = True
        metrics.REDIS_UP.set(1)
        outage, self.outage = self.outage, None
        if outage is None:
            return
        outage["end"] = int(time.time() * 1000)
        log.warning("Redis reachable again after %d ms", outage["end"] - outage["start"])
        with contextlib.suppress(RedisUnavailable):
            self.incidents = await self.store.add_incident(outage)
            await self.store.publish({"kind": "show"})

    async def refresh_incidents(self) -> None:
        self.incidents = await self.store.incidents()


async def watch_loop_lag() -> None:
    """Measure event-loop pauses where they happen: a timer due every 50 ms, and how late it
    fires (``quiz_event_loop_lag_seconds``). A late timer means every socket waited as long."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        metrics.LOOP_LAG.observe(max(0.0, loop.time() - due))
