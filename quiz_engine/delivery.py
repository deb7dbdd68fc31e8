"""Delivery allowances: the one correction a response time gets (docs/protocol.md, "Timing").

Every response time runs from the question's release. When a node releases a question it
writes it to its joined sockets one after another; the sockets written last would lose the
time of the writes before them. So for each player whose socket was joined when the node
*started* the fan-out, the node notes how long after that start it wrote to that socket (one
monotonic clock, capped), and the fan-out stores them in Redis as it finishes, first
record wins (each answer also carries its player's record, in case it overtakes that call).

Nobody else ever gets an allowance: a socket that joins, resumes, reconnects or switches
node after the fan-out started has none, so reading the question on the stream (or on a
second socket) and connecting afterwards never buys time. That is why this object is only
fed by the fan-out's write callback, never by a snapshot or a join.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Protocol

# one opening of a question: (episode, index, release time ms); a re-run is a new opening
QuestionKey = tuple[str, int, int]


class Joined(Protocol):
    player: str | None
    joined_us: int


class Delivery:
    """This node's fan-out of one opening: who was a broadcast recipient, and their allowance."""

    __slots__ = ("allowance", "cap_us", "flushed", "key", "lead_us", "start_us")

    def __init__(self, key: QuestionKey, cap_us: int) -> None:
        self.key = key
        self.cap_us = max(0, cap_us)
        self.start_us = -1  # node monotonic µs when the fan-out began (-1: not yet)
        self.lead_us = 0  # fan-out start − release, on the node's estimate of Redis time
        # player -> allowance µs, fixed once set; in insertion order, so the ones after the
        # first ``flushed`` are those not yet handed to Redis (no per-write list or tuple:
        # this runs once per socket inside the fan-out loop)
        self.allowance: dict[str, int] = {}
        self.flushed = 0

    @property
    def started(self) -> bool:
        return self.start_us >= 0

    def begin(self, start_us: int, start_est_us: int) -> None:
        """Mark the fan-out start (only the first one counts: a repeated broadcast of the same
        opening never moves it, so it cannot widen anyone's allowance)."""
        if self.start_us < 0:
            self.start_us = start_us
            self.lead_us = start_est_us - self.key[2] * 1000

    def on_written(self, conns: Sequence[Joined], times_ns: Sequence[int]) -> None:
        """The hub wrote the question to ``conns[i]`` at ``times_ns[i]`` (monotonic ns, 0: not
        written): an allowance for each player joined before the fan-out began (and with none
        yet). One tight loop per fan-out step: this runs for every socket of a broadcast."""
        start, cap = self.start_us, self.cap_us
        if start < 0:
            return
        noted = self.allowance
        keep = noted.setdefault
        for conn, t in zip(conns, times_ns, strict=True):
            player = conn.player
            if player is None or not t or conn.joined_us > start:
                continue
            allowance = t // 1000 - start
            if allowance > cap:
                allowance = cap
            if keep(player, allowance) > allowance:  # a player with two sockets: the earlier write
                noted[player] = allowance

    def take_pending(self) -> list[tuple[str, int]]:
        """The allowances noted since the last call, for Redis."""
        out = list(islice(self.allowance.items(), self.flushed, None))
        self.flushed += len(out)
        return out

    def record(self, player: str) -> str:
        """The fan-out record an answer carries to Redis ('release|start|allowance|lead'), or '|||'.

        Redis keeps the first record; this only matters if the answer overtakes the batch of
        records the fan-out sent (the same values, computed at the same write)."""
        allowance = self.allowance.get(player)
        if allowance is None:
            return "|||"
        return f"{self.key[2]}|{self.start_us}|{allowance}|{self.lead_us}"
