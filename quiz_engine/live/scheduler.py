"""The phones' frames, each at its time: the stream-delay queue, and a question's delivery record.

The overlay and the host panel get a phase change at once; the phones get it when the
stream shows it (``due_ms``, Redis ms): a question at its ``release_at``, other phases a
stream delay after the studio. A question's fan-out is also where delivery allowances are
noted (``delivery.py``): the fan-out start, then each socket's write, handed to Redis as
the fan-out ends.

:class:`ViewerQueue` is the ordering rule alone (pure); :class:`ViewerScheduler` waits for
the head of the queue and sends it. ``release_due`` sends whatever is due now, so a test
drives the scheduler with a fake clock and no sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.delivery import Delivery
from quiz_engine.errors import RedisUnavailable
from quiz_engine.hub import OnWritten, Role
from quiz_engine.protocol.codec import Prepared

log = logging.getLogger("quiz_engine.runner")

After = Callable[[], Any]  # run once the frame is out (standings after results); may return a coroutine


class Clock(Protocol):
    boot: str

    def now_ms(self) -> int: ...

    def est_us(self, mono: int | None = None) -> int: ...


class Broadcaster(Protocol):
    async def broadcast(self, roles: tuple[Role, ...], prepared: Prepared,
                        on_written: OnWritten | None = None) -> int: ...


class DeliveryStore(Protocol):
    async def record_deliveries(self, episode: str, question: int, release_at: int, boot: str, start_us: int,
                                lead_us: int, entries: list[tuple[str, int]]) -> int: ...


@dataclass
class Scheduled:
    due_ms: int
    frame: dict[str, Any]
    delivery: Delivery | None = None  # a question's fan-out: records the delivery allowances
    after: After | None = None


class ViewerQueue:
    """Frames for the phones in seq order, each with the time it is due.

    A frame never overtakes an earlier one, and never waits behind one either: frames
    queued under a longer stream delay than this one's are brought forward to go out just
    before it. So after a delay change the next question reaches phones at its own
    ``release_at``, exactly, with the leaderboard that was still pending right ahead of it.
    """

    def __init__(self) -> None:
        self.items: list[Scheduled] = []

    def push(self, item: Scheduled) -> None:
        for queued in self.items:
            queued.due_ms = min(queued.due_ms, item.due_ms)
        self.items.append(item)

    def next_due(self) -> int | None:
        return self.items[0].due_ms if self.items else None

    def pop_due(self, now_ms: int) -> Scheduled | None:
        if self.items and self.items[0].due_ms <= now_ms:
            return self.items.pop(0)
        return None

    def clear(self) -> None:
        self.items.clear()


class ViewerScheduler:
    def __init__(self, hub: Broadcaster, clock: Clock, store: DeliveryStore,
                 mono: Callable[[], int] = mono_us) -> None:
        self.hub = hub
        self.clock = clock
        self.store = store
        self.mono = mono
        self.queue = ViewerQueue()
        # the open question's fan-out on this node (its current opening only): who was a
        # broadcast recipient and their delivery allowance (delivery.py)
        self.delivery: Delivery | None = None
        self._wake = asyncio.Event()
        self._records: set[asyncio.Task[None]] = set()

    def schedule(self, due_ms: int, frame: dict[str, Any], delivery: Delivery | None = None,
                 after: After | None = None) -> None:
        """Queue a frame for the phones at ``due_ms`` (Redis ms)."""
        self.queue.push(Scheduled(due_ms, dict(frame), delivery, after))
        self._wake.set()

    def delivery_for(self, key: tuple[str, int, int], cap_us: int) -> Delivery:
        """The delivery record of this opening of a question (a new one for a new opening:
        next question, re-run, replay after a reset)."""
        if self.delivery is None or self.delivery.key != key:
            self.delivery = Delivery(key, cap_us)
        return self.delivery

    def clear(self) -> None:
        """Another episode: nothing queued, no record, for the old one."""
        self.queue.clear()
        self.delivery = None

    async def run(self) -> None:
        """Send each frame when it is due (the node's task)."""
        while True:
            due = self.queue.next_due()
            if due is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait_s = (due - self.clock.now_ms()) / 1000
            if wait_s > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(wait_s, 1.0))
                continue
            await self.release_due()

    async def release_due(self) -> int:
        """Send every frame that is due now; how many were sent."""
        sent = 0
        while (item := self.queue.pop_due(self.clock.now_ms())) is not None:
            try:
                await self._send(item)
            except Exception:
                log.exception("viewer fan-out failed")
            sent += 1
        return sent

    async def _send(self, item: Scheduled) -> None:
        if "now" in item.frame:  # the frame leaves now, maybe seconds after it was made
            item.frame["now"] = self.clock.now_ms()
        delivery = item.delivery
        on_written = None
        if delivery is not None:
            start = self.mono()
            delivery.begin(start, self.clock.est_us(start))
            metrics.RELEASE_LAG.observe(max(0, delivery.lead_us) / 1e6)
            on_written = delivery.on_written
        await self.hub.broadcast((Role.VIEWER,), Prepared(item.frame), on_written)
        if delivery is not None:
            entries = delivery.take_pending()
            if entries:  # the fan-out's last step: the allowances to Redis, without holding up the queue
                task = asyncio.get_running_loop().create_task(self._record(delivery, entries))
                self._records.add(task)
                task.add_done_callback(self._records.discard)
        if item.after is not None:
            result = item.after()
            if asyncio.iscoroutine(result):
                await result

    async def _record(self, delivery: Delivery, entries: list[tuple[str, int]]) -> None:
        ep, idx, release = delivery.key
        try:
            added = await self.store.record_deliveries(ep, idx, release, self.clock.boot, delivery.start_us,
                                                       delivery.lead_us, entries)
        except RedisUnavailable:
            return  # each answer carries its player's record too; without either: timed from the release
        if added < 0:
            log.warning("delivery allowances of question %d refused: the opening is over", idx + 1)
