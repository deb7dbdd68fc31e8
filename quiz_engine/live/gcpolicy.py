"""Full garbage collections kept out of open questions, and still done.

With 10–20k sockets open a full collection pauses the loop for 0.3–1.5 s. Freezing the
heap when a question opens moves every live object (sockets, players...) out of the
collector's sight, so collections while answers arrive only scan what is new. But a
frozen object that becomes cyclic garbage (a closed socket's protocol objects) stays until
unfrozen: with viewers coming and going that grew without bound. So once results are out
to the phones the heap is unfrozen and collected in full: after the final results always,
after a reveal or leaderboard when enough sockets have closed since the last collection to
be worth the pause.

Freezing alone still left 1-2 automatic generation-2 passes per 19,500-answer burst (what
the answers leave behind is promoted fast enough to trigger one), so the gen-2 threshold is
lifted while the question is open and restored when it closes; the young generations are
collected as usual (a few ms each).
"""

from __future__ import annotations

import gc
import logging

from quiz_engine import metrics
from quiz_engine.clock import mono_us
from quiz_engine.game.phases import Phase

log = logging.getLogger("quiz_engine.runner")

GC_MIN_CLOSED = 500  # a full collection after a reveal is worth its pause once this many sockets closed
GC_NO_FULL_PASS = 1_000_000  # gen-2 threshold while a question is open: no automatic full pass
GC_CLOSED_SHARE = 0.05


class GcPolicy:
    def __init__(self) -> None:
        self._closed_at_collect = 0  # sockets closed (ever) at the last full collection
        self._thresholds: tuple[int, int, int] | None = None  # the normal ones, while lifted

    def on_phase(self, phase: Phase) -> None:
        """A new phase was broadcast: freeze and lift at a question's opening, restore after."""
        if phase is Phase.QUESTION:
            gc.freeze()
            if self._thresholds is None:
                self._thresholds = gc.get_threshold()
                young, middle, _ = self._thresholds
                gc.set_threshold(young, middle, GC_NO_FULL_PASS)
        elif self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def results_out(self, final: bool, closed_total: int, viewers: int) -> None:
        """Results reached the phones: collect in full if it is worth it (always after the final)."""
        if not gc.get_freeze_count():
            return
        closed = closed_total - self._closed_at_collect
        if not final and closed < max(GC_MIN_CLOSED, GC_CLOSED_SHARE * viewers):
            return
        started = mono_us()
        gc.unfreeze()
        found = gc.collect()
        self._closed_at_collect = closed_total
        metrics.GC_BETWEEN_QUESTIONS.observe((mono_us() - started) / 1e6)
        log.info("full garbage collection between questions (%d sockets closed since the last): "
                 "%d objects freed in %.0f ms", closed, found, (mono_us() - started) / 1000)
