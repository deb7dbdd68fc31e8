"""The runner: where the live parts (``live/``) are built, wired and started. One per node.

No game state of its own: the truth is in Redis and the mirror keeps this node's copy.
On every phase change the runner has the projector build the frames
(``protocol/projector.py``), sends the overlay's and the host's at once, hands the phones'
to the scheduler (after the stream delay) and arms or cancels the close timer. Everything
else is a part's job: answers (``live/answers``), joins and snapshots (``live/viewers``), the
winners' claim codes (``live/prizes``),
host commands (``live/host``), heartbeats and outages (``live/presence``), garbage
collection (``live/gcpolicy``). ``web/`` reaches the parts through the few methods below.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from quiz_engine import __version__
from quiz_engine.clock import NodeClock
from quiz_engine.config import Settings
from quiz_engine.errors import RedisUnavailable
from quiz_engine.game.phases import Phase
from quiz_engine.hub import Hub, Role
from quiz_engine.ingest import AnswerIngest
from quiz_engine.library import BankLibrary
from quiz_engine.limits import AuthGuard, ConnCounter, PerIp
from quiz_engine.live.answers import AnswerDesk
from quiz_engine.live.closer import CloseTimer
from quiz_engine.live.gcpolicy import GcPolicy
from quiz_engine.live.host import HostDesk
from quiz_engine.live.mirror import Change, EpisodeMirror
from quiz_engine.live.presence import NodePresence, watch_loop_lag
from quiz_engine.live.prizes import PrizeDesk
from quiz_engine.live.scheduler import ViewerScheduler
from quiz_engine.live.viewers import ViewerDesk
from quiz_engine.protocol import projector as P
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codec import Prepared
from quiz_engine.store.redis_store import Store
from quiz_engine.tokens import overlay_token, same

log = logging.getLogger("quiz_engine.runner")

POLL_S = 1.0


class Runner:
    def __init__(self, store: Store, hub: Hub, settings: Settings, library: BankLibrary) -> None:
        self.store = store
        self.hub = hub
        self.settings = settings
        self.library = library
        self.clock = NodeClock()
        self.node = settings.node_id or f"node-{self.clock.boot}"
        self.secret = ""
        self.host_token = ""
        self.overlay_token = ""
        self.ip_conns = ConnCounter(settings.max_conns_per_ip)
        self.ip_joins = PerIp(settings.joins_per_ip_per_s, settings.join_burst_per_ip)
        self.auth_guard = AuthGuard()  # wrong host tokens per address: API, login and host socket
        self.mirror = EpisodeMirror(store, self._changed, lambda: self.viewers.local_players())
        self.presence = NodePresence(store, self.node, hub.counts, self.clock.now_ms, self._where)
        self.scheduler = ViewerScheduler(hub, self.clock, store)
        self.ingest = AnswerIngest(store, batched=hub.batched)
        self.answers = AnswerDesk(self.ingest, self.clock, lambda: self.mirror.view.episode,
                                  lambda: self.scheduler.delivery, self.presence.refused_answer)
        self.host = HostDesk(store, library, settings, self.clock, self.node, self.mirror, self.presence, hub)
        self.sources = self.host.sources  # join sources: tag -> label
        self.prizes = PrizeDesk(store, lambda: self.mirror.view, lambda: self.mirror.one_prize,
                                lambda player: self.viewers.conn_of(player))
        self.viewers = ViewerDesk(store, hub, self.clock, lambda: self.mirror.view, self._public_settings,
                                  lambda: self.mirror.delay_ms, self.sources, self.prizes.mine)
        self.closer = CloseTimer(self.clock, self.host.auto_close)
        self.gc = GcPolicy()
        self._tasks: list[asyncio.Task[Any]] = []
        self._episode = ""  # the episode the scheduler and the delivery record are for

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.clock.sync(self.store.time_us)
        self.secret = await self.store.secret(secrets.token_urlsafe(32))
        configured = self.settings.host_token
        self.host_token = await self.store.host_token(configured or secrets.token_urlsafe(18), replace=bool(configured))
        self.overlay_token = overlay_token(self.secret)
        self.viewers.secret = self.secret
        self.prizes.secret = self.secret
        # seeded only if absent: a restarted node never overwrites the host's live settings
        await self.store.seed_show(delay_ms=int(self.settings.stream_delay_s * 1000),
                                   one_prize=self.settings.one_prize_per_person)
        if self.sources:  # the labels, for reports made offline from Redis alone
            await self.store.add_sources(self.sources)
        self.ingest.start()
        await self.mirror.sync(force=True)
        if self.settings.autoload and not self.mirror.view.episode:
            await self.host.load(*self.settings.autoload)
        loop = asyncio.get_running_loop()
        for coro, name in (
            (self.mirror.listen(), "events"),
            (self._poll(), "poll"),
            (self.presence.heartbeat(), "heartbeat"),
            (self.scheduler.run(), "viewer-dispatch"),
            (self.host.stats_loop(), "host-stats"),
            (watch_loop_lag(), "loop-lag"),
        ):
            self._tasks.append(loop.create_task(coro, name=name))

    async def stop(self) -> None:
        await self.closer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.ingest.stop()
        with contextlib.suppress(Exception):
            await self.store.remove_node(self.node)

    async def _poll(self) -> None:
        """The safety net: re-sync once a second (pub/sub may have missed something)."""
        n = 0
        while True:
            await asyncio.sleep(POLL_S)
            n += 1
            try:
                if n % 10 == 0:
                    await self.clock.sync(self.store.time_us, samples=3)
                await self.mirror.sync(force=n % 5 == 0)
                had_outage = self.presence.outage is not None
                await self.presence.reachable()
                if n % 5 == 0 and not had_outage:
                    await self.presence.refresh_incidents()
                self._ensure_close_timer()
            except RedisUnavailable as exc:
                self.presence.redis_lost(exc)
            except Exception:
                log.exception("poll failed")

    def _where(self) -> dict[str, Any]:
        v = self.mirror.view
        return {"episode": v.episode, "phase": v.phase.value if v.episode else None, "question": v.qidx}

    def _public_settings(self) -> dict[str, Any]:
        return {"delay_s": self.mirror.delay_ms / 1000, "required": list(self.settings.required_fields)}

    # --- a phase change -------------------------------------------------------------------
    async def _changed(self, v: P.EpisodeView, change: Change) -> None:
        """The mirror read a new phase, its first one, a quiet change or a revision: frames, timers."""
        phase = v.phase
        if v.episode != self._episode:  # another episode loaded: nothing queued for the old one goes out
            self._episode = v.episode
            self.scheduler.clear()
        if phase is Phase.QUESTION:
            self._arm_closer(v)
        else:
            self.closer.cancel()
        if change is not Change.PHASE:  # the host panels re-read their state (next question, buttons, settings)
            await self.hub.broadcast((Role.HOST,), Prepared(F.refresh(v.seq)))
            if change is Change.REVISED:
                await self._revised(v)
            return
        self.gc.on_phase(phase)
        projection = P.project(v, self.clock.now_ms(), self.mirror.delay_ms)
        prepared = Prepared(projection.public)
        await self.hub.broadcast((Role.OVERLAY,), prepared)
        await self.hub.broadcast((Role.HOST,), prepared if projection.host is projection.public
                                 else Prepared(projection.host))
        if projection.cue is not None:  # the phones: a question is coming (it is on air after the delay)
            await self.hub.broadcast((Role.VIEWER,), Prepared(projection.cue))
        if phase is Phase.QUESTION:
            delivery = self.scheduler.delivery_for((v.episode, v.qidx, v.num("release_at")), v.num("cap") * 1000)
            self.scheduler.schedule(projection.viewer_at, projection.public, delivery=delivery)
        else:
            self.scheduler.schedule(projection.viewer_at, projection.public,
                                    after=self._results_out if projection.results else None)

    async def _revised(self, v: P.EpisodeView) -> None:
        """A disqualification while results are shown: the phase's frame again, same ``seq``, with the
        new winner and standings; on air now, on the phones after the stream delay, then their own
        standing and (finished) the prizes passed on."""
        now = self.clock.now_ms()
        projection = P.project(v, now, self.mirror.delay_ms)
        prepared = Prepared(projection.public)
        await self.hub.broadcast((Role.OVERLAY,), prepared)
        await self.hub.broadcast((Role.HOST,), prepared if projection.host is projection.public
                                 else Prepared(projection.host))
        self.scheduler.schedule(max(projection.viewer_at, now + self.mirror.delay_ms), projection.public,
                                after=self._results_out)

    async def _results_out(self) -> None:
        """A reveal, leaderboard or final frame reached the phones: standings, then collect."""
        await self.viewers.send_standings()
        if self.mirror.view.phase is Phase.FINISHED:  # the winners' claim codes
            await self.prizes.push()
        self.gc.results_out(self.mirror.view.phase is Phase.FINISHED, self.hub.closed, self.hub.count(Role.VIEWER))

    def _ensure_close_timer(self) -> None:
        v = self.mirror.view
        if v.episode and v.phase is Phase.QUESTION and not self.closer.armed:
            self._arm_closer(v)

    def _arm_closer(self, v: P.EpisodeView) -> None:
        self.closer.arm(v.qidx, v.num("deadline") + v.num("grace"))

    # --- what web/ calls --------------------------------------------------------------------
    @property
    def view(self) -> P.EpisodeView:
        return self.mirror.view

    @property
    def required_fields(self) -> tuple[str, ...]:
        return self.settings.required_fields

    def hello(self, role: Role) -> dict[str, Any]:
        return F.hello(role.value, self.clock.now_ms(), self.node, self.required_fields, __version__)

    def check_overlay_token(self, token: str) -> bool:
        return bool(token) and same(token, self.overlay_token)
