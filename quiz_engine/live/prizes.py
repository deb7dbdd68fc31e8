"""The winners' phones: each prize holder on this node gets their claim codes.

When the final results reach the phones (after the stream delay), and whenever the holders
change afterwards (a disqualification passes a prize on), every local player whose prizes
changed gets a ``prizes`` frame: the whole list, so an empty one tells the old holder their
code no longer stands. A (re)connecting phone gets the same list in its snapshot. The
holders come from :func:`quiz_engine.results.prize_holders` (the prize desk's source too),
computed once per change of the episode's state, not per phone.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

import segno

from quiz_engine.claims import claim_code
from quiz_engine.game.phases import Phase
from quiz_engine.hub import Conn
from quiz_engine.protocol import projector as P
from quiz_engine.protocol import server_frames as F
from quiz_engine.results import prize_holders
from quiz_engine.store.redis_store import Store


def code_qr(code: str) -> str:
    """The code as an inline SVG QR (what a desk's scanner types back into the panel)."""
    buf = io.BytesIO()
    segno.make(code, error="m", micro=False).save(buf, kind="svg", scale=6, border=2, dark="#111111", light="#ffffff",
                                     xmldecl=False, svgns=True)
    return buf.getvalue().decode()


class PrizeDesk:
    def __init__(self, store: Store, view: Callable[[], P.EpisodeView], one_prize: Callable[[], bool],
                 conn_of: Callable[[str], Conn | None]) -> None:
        self.store = store
        self.view = view
        self.one_prize = one_prize
        self.conn_of = conn_of  # this node's socket of a player, if any
        self.secret = ""  # set at start
        self._key: tuple[str, int, str] | None = None
        self._by_player: dict[str, list[dict[str, Any]]] = {}
        self._sent: dict[str, list[str]] = {}  # player -> the prizes last sent (this episode)
        self._qr: dict[str, str] = {}
        self._lock = asyncio.Lock()  # thousands of snapshots at once compute the holders once

    async def _current(self) -> dict[str, list[dict[str, Any]]]:
        """Player -> their prizes (with codes) once the episode is finished; {} before."""
        v = self.view()
        if not v.episode or v.phase is not Phase.FINISHED or not self.secret:
            return {}
        key = (v.episode, v.seq, v.state.get("rev", ""))
        if key == self._key:
            return self._by_player
        async with self._lock:
            if key != self._key:
                await self._compute(v, key)
        return self._by_player

    async def _compute(self, v: P.EpisodeView, key: tuple[str, int, str]) -> None:
        if self._key is None or self._key[0] != v.episode:
            self._sent.clear()
            self._qr.clear()
        holders = await prize_holders(self.store, v.episode, self.one_prize(), reserves=0)
        by_player: dict[str, list[dict[str, Any]]] = {}
        for p in holders.prizes:
            code = claim_code(self.secret, v.episode, p.prize, p.player)
            if code not in self._qr:
                self._qr[code] = code_qr(code)
            by_player.setdefault(p.player, []).append(F.prize(p.prize, p.question, code, self._qr[code]))
        self._key, self._by_player = key, by_player

    async def mine(self, player: str) -> list[dict[str, Any]] | None:
        """A snapshot's prizes for ``player``: None before the episode is finished."""
        if self.view().phase is not Phase.FINISHED:
            return None
        return (await self._current()).get(player, [])

    async def push(self) -> int:
        """Send each local holder whose prizes changed their list; how many frames were sent."""
        current = await self._current()
        if not self._key:
            return 0
        sent = 0
        for player in set(current) | {p for p, prizes in self._sent.items() if prizes}:
            prizes = current.get(player, [])
            names = [p["prize"] for p in prizes]
            conn = self.conn_of(player)
            if conn is None or self._sent.get(player) == names:
                continue
            conn.send(F.prizes(self._key[0], prizes))
            self._sent[player] = names
            sent += 1
        return sent
