"""This node's copy of the current episode, kept in step with Redis.

The truth is in Redis; the mirror re-reads it after every change this node makes, every
pub/sub event from another node, and once a second as a safety net (``poll``). After each
read it fetches what the phase shows (answer counts when closed; distribution, fastest
responder and standings when revealed; standings on the leaderboard) into the
:class:`~quiz_engine.protocol.projector.EpisodeView`, and tells its listener whether the
phase changed (a new ``seq``): the runner then projects and sends the frames. A
disqualification (``rev``) while results are shown re-reads them, and the runner sends the
phase's frame again with the same ``seq`` (a revision, docs/protocol.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any

import orjson

from quiz_engine.game.phases import Phase
from quiz_engine.game.standings import question_winners
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.projector import EpisodeView
from quiz_engine.store.redis_store import Store
from quiz_engine.tokens import public_tag

log = logging.getLogger("quiz_engine.runner")

TOP_N = 10
#: state fields that change without a new phase (and so without a broadcast), which host panels
#: still need to hear of (``rev``: a disqualification, which may pass a prize on)
QUIET_FIELDS = ("next", "one_prize", "delay_ms", "rev")

#: phases whose frames show results that a disqualification (``rev``) changes
REVISABLE = (Phase.REVEALED, Phase.LEADERBOARD, Phase.FINISHED)


class Change(StrEnum):
    """What the mirror's listener is told after a read."""

    FIRST = "first"  # the first read of an episode: timers, no broadcast
    PHASE = "phase"  # a new phase (``seq``): broadcast it
    QUIET = "quiet"  # one of QUIET_FIELDS changed without a new phase: host panels re-read
    REVISED = "revised"  # a disqualification changed what this phase shows: the same seq again


Changed = Callable[[EpisodeView, Change], Awaitable[None]]


class EpisodeMirror:
    def __init__(self, store: Store, on_change: Changed, local_players: Callable[[], list[str]]) -> None:
        self.store = store
        self.on_change = on_change
        self.local_players = local_players  # whose standing this node needs (its own sockets')
        self.view = EpisodeView()
        self.show: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._fetched = False  # the view holds its phase's data

    # --- show settings (the Redis show hash) -----------------------------------------------------
    @property
    def delay_ms(self) -> int:
        return int(self.show.get("delay_ms", 0) or 0)

    @property
    def one_prize(self) -> bool:
        """The loaded episode's prize rule (the show's for an episode created before it had one)."""
        rule = self.view.state.get("one_prize")
        return (rule if rule is not None else self.show.get("one_prize", "1")) == "1"

    # --- keeping in step -------------------------------------------------------------------------
    async def sync(self, force: bool = False) -> None:
        """Re-read the episode; ``force`` re-reads the show settings and the questions' phase data too."""
        async with self._lock:
            if force or not self.show:
                self.show = await self.store.show()
            ep = self.show.get("episode", "")
            if ep != self.view.episode:
                await self._switch(ep)
            if not ep:
                return
            state = await self.store.state(ep)
            seq = int(state.get("seq", 0))
            changed = seq != self.view.seq
            # skip, re-run, the prize rule and the delay change the state without a new phase
            touched = any(state.get(f) != self.view.state.get(f) for f in QUIET_FIELDS)
            revised = state.get("rev") != self.view.state.get("rev")
            self.view.state = state
            self.view.seq = seq
            if changed or not self._fetched:
                await self._fetch(reload=changed)
                self._fetched = True
                await self.on_change(self.view, Change.PHASE if changed else Change.FIRST)
            elif revised and self.view.phase in REVISABLE:
                await self._fetch(reload=False)  # the winner, the standings, the top 10 without them
                await self.on_change(self.view, Change.REVISED)
            elif touched:
                await self.on_change(self.view, Change.QUIET)

    async def listen(self) -> None:
        """The node's task: other nodes' changes by pub/sub (the poll covers any gap)."""
        while True:
            try:
                async with self.store.subscribe() as pubsub:
                    await self.sync(force=True)  # anything missed while (re)subscribing
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        event = orjson.loads(message["data"])
                        kind = event.get("kind")
                        if kind == "questions" and event.get("ep") == self.view.episode:
                            await self.reload_questions()
                        await self.sync(force=kind in ("show", "dq", "questions"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep listening; the poll covers the gap
                log.warning("event subscription lost: %s", exc)
                await asyncio.sleep(1.0)

    async def _switch(self, ep: str) -> None:
        self.view = EpisodeView(episode=ep)
        self._fetched = False
        if ep:
            await self.reload_questions()

    async def reload_questions(self) -> None:
        """Re-read the episode's questions (``season sync`` may replace unplayed ones)."""
        ep = self.view.episode
        self.view.meta = await self.store.meta(ep)
        self.view.questions = await self.store.public_questions(ep)
        self.view.specs = await self.store.question_specs(ep)

    # --- what the phase shows --------------------------------------------------------------------
    async def _fetch(self, reload: bool) -> None:
        v = self.view
        phase, idx = v.phase, v.qidx
        if phase is Phase.LOBBY:
            v.answers, v.counts, v.fastest, v.voided = 0, [], None, frozenset()
            v.top, v.standings, v.players_ranked, v.players_played = [], {}, 0, 0
            return
        if phase is Phase.QUESTION:
            if reload:  # the bank may have been synced since load: show exactly what was opened
                await self.reload_questions()
            v.answers, v.counts, v.fastest = 0, [], None
            return
        if not 0 <= idx < len(v.specs):
            return
        if phase in (Phase.CLOSED, Phase.REVEALED):
            v.counts, v.answers = await self.store.counts(v.episode, idx, v.specs[idx][1])
            v.voided = frozenset(await self.store.voided(v.episode))
        if phase is Phase.REVEALED:
            v.fastest = await self._fastest(idx)
        if phase in (Phase.REVEALED, Phase.LEADERBOARD, Phase.FINISHED):
            await self._standings()

    async def _fastest(self, idx: int) -> dict[str, Any] | None:
        """The question's prize winner under the show's rule (one prize per person or not)."""
        ep, voided = self.view.episode, self.view.voided
        dq = await self.store.disqualified(ep)
        per_q = [await self.store.correct_answers(ep, i, limit=50) if i not in voided else [] for i in range(idx + 1)]
        winners = question_winners(per_q, dq, self.one_prize, voided)
        if not winners[idx]:
            return None
        w = winners[idx][0]
        profile = (await self.store.players([w.player])).get(w.player, {})
        return F.person(profile.get("name", "?"), w.response_us, unit=profile.get("unit", ""), tag=public_tag(w.player))

    async def _standings(self) -> None:
        """The top 10 and this node's players' standings, from Redis's standings index."""
        v = self.view
        dq = await self.store.disqualified(v.episode)
        board = await self.store.standings(v.episode, TOP_N, self.local_players())
        v.standings = board.mine
        v.disqualified = frozenset(dq)
        v.players_ranked = board.ranked
        v.players_played = await self.store.played_count(v.episode)
        profiles = await self.store.players([s.score.player for s in board.top])
        v.top = [
            {
                "rank": s.rank,
                "name": profiles.get(s.score.player, {}).get("name", "?"),
                "unit": profiles.get(s.score.player, {}).get("unit", ""),
                "tag": public_tag(s.score.player),
                "correct": s.score.correct,
                "time_ms": round(s.score.total_us / 1000, 1),
            }
            for s in board.top
        ]
