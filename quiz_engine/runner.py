"""The runner: the only place where game rules meet I/O and timers.

Every node runs one. It holds no game state of its own that matters: the truth is in
Redis, and the runner mirrors it (``_sync``) after every change it makes, every pub/sub
event from another node, and once a second as a safety net. From the mirrored state it
builds frames and fans them out to its local sockets: overlay and host at once, viewers
after the stream delay. Its close timer is idempotent (any node's timer may fire; the
transition script decides once).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from quiz_engine import __version__, metrics
from quiz_engine.clock import NodeClock, mono_us
from quiz_engine.config import Settings
from quiz_engine.delivery import Delivery
from quiz_engine.errors import AuthError, NotFound, PhaseError, ProtocolError, RedisUnavailable
from quiz_engine.game.phases import Command, Phase, allowed_commands
from quiz_engine.game.standings import Standing, question_winners, rank_standings
from quiz_engine.hub import Conn, Hub, Role
from quiz_engine.ingest import AnswerIngest
from quiz_engine.library import BankLibrary, episode_key, episode_meta, question_public, question_spec
from quiz_engine.limits import AuthGuard, ConnCounter, PerIp
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codec import Prepared
from quiz_engine.protocol.codes import (
    CLOSE_REPLACED,
    E_BAD_TOKEN,
    E_NOT_JOINED,
    R_NOT_OPEN,
    R_TRY_AGAIN,
)
from quiz_engine.protocol.frames import Answer, Join, Resume
from quiz_engine.store import keys as K
from quiz_engine.store.redis_store import AnswerRequest, AnswerResult, Store, Transition
from quiz_engine.tokens import check_resume_token, new_player_id, overlay_token, public_tag, resume_token, same

log = logging.getLogger("quiz_engine.runner")

TOP_N = 10
HEARTBEAT_S = 2.0
POLL_S = 1.0
STATS_S = 0.5
# a full collection after a reveal is worth its pause once this many sockets closed since the last
GC_MIN_CLOSED = 500
GC_NO_FULL_PASS = 1_000_000  # gen-2 threshold while a question is open: no automatic full pass
GC_CLOSED_SHARE = 0.05


@dataclass
class EpisodeView:
    """This node's mirror of the current episode, rebuilt from Redis on every change."""

    episode: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)  # public data
    specs: list[tuple[int, int, int]] = field(default_factory=list)  # (answer, options, limit_ms)
    state: dict[str, str] = field(default_factory=dict)
    seq: int = 0
    frame: dict[str, Any] | None = None  # the latest public phase frame
    question_frame: dict[str, Any] | None = None
    reveal_frame: dict[str, Any] | None = None
    top: list[dict[str, Any]] = field(default_factory=list)
    standings: dict[str, Standing] = field(default_factory=dict)
    disqualified: set[str] = field(default_factory=set)
    players_ranked: int = 0

    @property
    def phase(self) -> Phase:
        return Phase(self.state.get("phase", "lobby"))

    @property
    def qidx(self) -> int:
        return int(self.state.get("qidx", -1))

    def num(self, key: str) -> int:
        return int(self.state.get(key, 0) or 0)


@dataclass
class _Scheduled:
    due_ms: int
    frame: dict[str, Any]
    delivery: Delivery | None = None  # a question's fan-out: records the delivery allowances
    after: Callable[[], Any] | None = None


class Runner:
    def __init__(self, store: Store, hub: Hub, settings: Settings, library: BankLibrary) -> None:
        self.store = store
        self.hub = hub
        self.settings = settings
        self.library = library
        self.clock = NodeClock()
        self.node = settings.node_id or f"node-{self.clock.boot}"
        self.ingest = AnswerIngest(store, batched=hub.batched)
        self.view = EpisodeView()
        self.secret = ""
        self.host_token = ""
        self.overlay_token = ""
        self.show: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[Any]] = []
        self._close_timer: asyncio.TimerHandle | None = None
        self._closed_at_collect = 0  # hub.closed at the last full collection
        self._gc_thresholds: tuple[int, int, int] | None = None  # the normal ones, while lifted
        self._viewer_queue: list[_Scheduled] = []
        self._viewer_wake = asyncio.Event()
        self._rid = itertools.count()
        # the open question's fan-out on this node (its current opening only): who was a
        # broadcast recipient and their delivery allowance (delivery.py)
        self.delivery: Delivery | None = None
        self._players: dict[str, Conn] = {}  # local viewer sockets by player
        self.redis_ok = True
        self.other_nodes: dict[str, int] = {}  # connection counts of the other live nodes
        self.ip_conns = ConnCounter(settings.max_conns_per_ip)
        self.ip_joins = PerIp(settings.joins_per_ip_per_s, settings.join_burst_per_ip)
        self.auth_guard = AuthGuard()  # wrong host tokens per address: API, login and host socket
        self.incidents: list[dict[str, Any]] = []  # Redis outages seen by any node (from Redis)
        self._outage: dict[str, Any] | None = None  # the outage this node is in, if any

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.clock.sync(self.store.time_us)
        self.secret = await self.store.shared_value(K.SECRET, secrets.token_urlsafe(32))
        token = self.settings.host_token or secrets.token_urlsafe(18)
        if self.settings.host_token:
            await self.store.r.set(K.HOST_TOKEN, token)
            self.host_token = token
        else:
            self.host_token = await self.store.shared_value(K.HOST_TOKEN, token)
        self.overlay_token = overlay_token(self.secret)
        show = await self.store.show()
        if "delay_ms" not in show:
            await self.store.set_show(delay_ms=int(self.settings.stream_delay_s * 1000))
        if "one_prize" not in show:
            await self.store.set_show(one_prize=int(self.settings.one_prize_per_person))
        if self.settings.stream_delay_s and show.get("delay_ms") != str(int(self.settings.stream_delay_s * 1000)):
            await self.store.set_show(delay_ms=int(self.settings.stream_delay_s * 1000))
        self.ingest.start()
        await self._sync(force=True)
        if self.settings.autoload and not self.view.episode:
            await self.load(*self.settings.autoload)
        loop = asyncio.get_running_loop()
        for coro, name in (
            (self._listen(), "events"),
            (self._poll(), "poll"),
            (self._heartbeat(), "heartbeat"),
            (self._viewer_dispatch(), "viewer-dispatch"),
            (self._host_stats(), "host-stats"),
            (_watch_loop_lag(), "loop-lag"),
        ):
            self._tasks.append(loop.create_task(coro, name=name))

    async def stop(self) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.ingest.stop()
        with contextlib.suppress(Exception):
            await self.store.r.hdel(K.NODES, self.node)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    # --- settings -----------------------------------------------------------------------
    @property
    def delay_ms(self) -> int:
        return int(self.show.get("delay_ms", 0) or 0)

    @property
    def one_prize(self) -> bool:
        return self.show.get("one_prize", "0") == "1"

    @property
    def required_fields(self) -> tuple[str, ...]:
        return self.settings.required_fields

    async def set_settings(self, delay_s: float | None = None, one_prize: bool | None = None) -> dict[str, Any]:
        if delay_s is not None:
            if self.view.phase is Phase.QUESTION:
                raise PhaseError(self.view.phase.value, "settings", "change the stream delay between questions")
            if not 0 <= delay_s <= 120:
                raise ProtocolError("bad_field", "delay_s must be between 0 and 120")
            await self.store.set_show(delay_ms=int(delay_s * 1000))
        if one_prize is not None:
            await self.store.set_show(one_prize=int(one_prize))
        await self.store.publish({"kind": "show"})
        await self._sync(force=True)
        return self.settings_dict()

    def settings_dict(self) -> dict[str, Any]:
        return {
            "delay_s": self.delay_ms / 1000,
            "one_prize": self.one_prize,
            "grace_ms": self.settings.grace_ms,
            "required": list(self.required_fields),
        }

    # --- host commands ------------------------------------------------------------------
    async def load(self, bank_id: str, episode_id: str) -> dict[str, Any]:
        if self.view.episode and self.view.phase is Phase.QUESTION:
            raise PhaseError("question", "load", "close the open question before loading another episode")
        bank = self.library.bank(bank_id)
        questions = bank.episode_questions(episode_id)
        key = episode_key(bank_id, episode_id)
        meta = episode_meta(bank, episode_id)
        await self.store.create_episode(key, meta, [(question_spec(q), question_public(q)) for q in questions])
        await self.store.set_show(episode=key)
        await self.store.publish({"kind": "show"})
        await self._sync(force=True)
        return self.host_state()

    async def command(
        self, command: Command, expect: int = -1, actor: str = "host", reason: str = "", confirm: str = ""
    ) -> dict[str, Any]:
        ep = self.view.episode
        if not ep:
            raise PhaseError("none", command.value, "no episode loaded")
        if command is Command.VOID:
            result = await self.store.void(ep, self.view.qidx if expect < 0 else expect, actor, reason)
        elif command is Command.RERUN:
            result = await self.store.rerun(ep, self.view.qidx if expect < 0 else expect, actor)
        elif command is Command.RESET:
            if confirm != ep:
                raise PhaseError(self.view.phase.value, "reset", f"reset needs confirm='{ep}' (wipes all results)")
            result = await self.store.reset(ep, actor)
        else:
            result = await self.store.transition(
                ep,
                command,
                expect=expect,
                delay_ms=self.delay_ms if command is Command.OPEN else 0,
                grace_ms=self.settings.grace_ms,
                cap_ms=self.settings.max_allowance_ms if command is Command.OPEN else 0,
                actor=actor,
            )
        if not result.ok:
            raise PhaseError(result.phase or self.view.phase.value, command.value, _refusal(command, result),
                             code=result.reason)
        log.info("command", extra={"episode": ep, "command": command.value, "seq": result.seq, "question": result.qidx})
        await self.store.publish({"kind": "state", "ep": ep, "seq": result.seq})
        await self._sync()
        return self.host_state()

    async def disqualify(self, player: str, reason: str, actor: str = "host") -> dict[str, Any]:
        ep = self.view.episode
        if not ep:
            raise NotFound("no episode loaded")
        if not (await self.store.players([player])):
            raise NotFound(f"no player '{player}'")
        await self.store.disqualify(ep, player, reason, actor)
        await self.store.publish({"kind": "dq", "ep": ep})
        return {"player": player, "disqualified": bool(reason), "reason": reason}

    def host_state(self) -> dict[str, Any]:
        v = self.view
        nxt = v.num("next")
        next_q = None
        if v.episode and nxt < len(v.questions):
            answer, _, _ = v.specs[nxt]
            next_q = {**v.questions[nxt], "index": nxt, "correct": answer, "source": _source(v.meta, nxt)}
        current = None
        if v.episode and 0 <= v.qidx < len(v.questions):
            answer, _, _ = v.specs[v.qidx]
            current = {**v.questions[v.qidx], "index": v.qidx, "correct": answer, "source": _source(v.meta, v.qidx)}
        return {
            "episode": F.episode_info(v.episode, v.meta, len(v.questions), nxt) if v.episode else None,
            "phase": v.phase.value if v.episode else None,
            "seq": v.seq,
            "question": current,
            "next_question": next_q,
            "release_at": v.num("release_at") or None,
            "deadline": v.num("deadline") or None,
            "now": self.clock.now_ms(),
            "allowed": [c.value for c in allowed_commands(v.phase)] if v.episode else [],
            "settings": self.settings_dict(),
            "viewers": self.cluster_counts()["viewer"],
            "redis_ok": self.redis_ok,
            "incidents": self.incidents,
        }

    # --- mirroring Redis ----------------------------------------------------------------
    async def _listen(self) -> None:
        while True:
            try:
                async with self.store.subscribe() as pubsub:
                    await self._sync(force=True)  # anything missed while (re)subscribing
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        event = orjson.loads(message["data"])
                        if event.get("kind") == "questions" and event.get("ep") == self.view.episode:
                            await self._reload_questions()
                        await self._sync(force=event.get("kind") in ("show", "dq", "questions"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep listening; the poll covers the gap
                log.warning("event subscription lost: %s", exc)
                await asyncio.sleep(1.0)

    async def _poll(self) -> None:
        n = 0
        while True:
            await asyncio.sleep(POLL_S)
            n += 1
            try:
                if n % 10 == 0:
                    await self.clock.sync(self.store.time_us, samples=3)
                await self._sync(force=n % 5 == 0)
                self.redis_ok = True
                metrics.REDIS_UP.set(1)
                if self._outage is not None:
                    await self._end_outage()
                elif n % 5 == 0:
                    self.incidents = await self.store.incidents()
                self._ensure_close_timer()
            except RedisUnavailable as exc:
                if self._outage is None:
                    log.error("Redis unavailable: %s", exc)
                    self._start_outage()
                self.redis_ok = False
                metrics.REDIS_UP.set(0)
            except Exception:
                log.exception("poll failed")

    def _start_outage(self) -> None:
        v = self.view
        self._outage = {"node": self.node, "start": int(time.time() * 1000), "episode": v.episode,
                        "phase": v.phase.value if v.episode else None, "question": v.qidx, "try_again": 0}

    async def _end_outage(self) -> None:
        """Record the outage in Redis so the host panel (on any node) can show it and act:
        an answer window that overlapped it may deserve a void and a re-run."""
        outage, self._outage = self._outage, None
        if outage is None:
            return
        outage["end"] = int(time.time() * 1000)
        log.warning("Redis reachable again after %d ms", outage["end"] - outage["start"])
        with contextlib.suppress(RedisUnavailable):
            await self.store.add_incident(outage)
            self.incidents = await self.store.incidents()
            await self.store.publish({"kind": "show"})

    async def _sync(self, force: bool = False) -> None:
        async with self._lock:
            if force or not self.show:
                self.show = await self.store.show()
            ep = self.show.get("episode", "")
            if ep != self.view.episode:
                await self._switch_episode(ep)
                force = True
            if not ep:
                return
            state = await self.store.state(ep)
            seq = int(state.get("seq", 0))
            changed = seq != self.view.seq
            self.view.state = state  # skip/rerun change 'next' without a new phase frame
            self.view.seq = seq
            if changed or self.view.frame is None:
                await self._apply(broadcast=changed)

    async def _switch_episode(self, ep: str) -> None:
        self.view = EpisodeView(episode=ep)
        self.delivery = None
        self._viewer_queue.clear()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if ep:
            self.view.meta = await self.store.meta(ep)
            self.view.questions = await self.store.public_questions(ep)
            self.view.specs = await self.store.question_specs(ep)

    async def _reload_questions(self) -> None:
        """Re-read the episode's questions (``season sync`` may replace unplayed ones)."""
        ep = self.view.episode
        self.view.meta = await self.store.meta(ep)
        self.view.questions = await self.store.public_questions(ep)
        self.view.specs = await self.store.question_specs(ep)

    async def _apply(self, broadcast: bool) -> None:
        """Build the frames of the current phase and (if it changed) send them."""
        v = self.view
        ep, seq, idx, phase = v.episode, v.seq, v.qidx, v.phase
        now = self.clock.now_ms()
        count = len(v.questions)
        phase_at = v.num("phase_at") or now
        viewer_at = phase_at + self.delay_ms
        host_frame: dict[str, Any] | None = None
        personal_standings = False
        if broadcast:
            self._gc_policy(phase)
        if phase is Phase.LOBBY:
            frame = F.lobby(seq, F.episode_info(ep, v.meta, count, v.num("next")))
            v.question_frame = v.reveal_frame = None
            v.top, v.standings = [], {}
        elif phase is Phase.QUESTION:
            if broadcast:  # the bank may have been synced since load: show exactly what was opened
                await self._reload_questions()
            frame = F.question(seq, ep, idx, count, v.questions[idx], v.num("release_at"), v.num("deadline"), now,
                               v.num("opened_at") or v.num("release_at"))
            v.question_frame, v.reveal_frame = frame, None
            host_frame = F.host_question(frame, v.specs[idx][0], _source(v.meta, idx))
            viewer_at = v.num("release_at")
            self._schedule_close(idx, v.num("deadline") + v.num("grace"))
        elif phase is Phase.CLOSED:
            _, total = await self.store.counts(ep, idx, v.specs[idx][1])
            voided = idx in await self.store.voided(ep)
            frame = F.closed(seq, idx, total, now, voided)
            viewer_at = phase_at
            if v.question_frame is None and 0 <= idx < count:
                v.question_frame = F.question(seq, ep, idx, count, v.questions[idx], v.num("release_at"),
                                              v.num("deadline"), now, v.num("opened_at") or v.num("release_at"))
        elif phase is Phase.REVEALED:
            frame = await self._reveal_frame(seq, idx)
            v.reveal_frame = frame
            await self._top()  # standings now include this question
            personal_standings = True
        elif phase is Phase.LEADERBOARD:
            top, players = await self._top()
            frame = F.leaderboard(seq, idx, top, players)
            personal_standings = True
        else:  # FINISHED
            top, players = await self._top()
            frame = F.finished(seq, top[0] if top else None, top, players)
            personal_standings = True
        if phase is not Phase.QUESTION and self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        v.frame = frame
        if not broadcast:
            return
        prepared = Prepared(frame)
        await self.hub.broadcast((Role.OVERLAY,), prepared)
        await self.hub.broadcast((Role.HOST,), Prepared(host_frame) if host_frame else prepared)
        if phase is Phase.QUESTION:
            key = (ep, idx, v.num("release_at"))
            if self.delivery is None or self.delivery.key != key:
                # a new opening (next question, re-run, replay after a reset): fresh allowances
                self.delivery = Delivery(key, v.num("cap") * 1000)
            self._schedule_viewers(viewer_at, frame, delivery=self.delivery)
        else:
            after = self._after_results if personal_standings else None
            self._schedule_viewers(viewer_at, frame, after=after)

    async def _reveal_frame(self, seq: int, idx: int) -> dict[str, Any]:
        v = self.view
        ep = v.episode
        answer, options, _ = v.specs[idx]
        counts, total = await self.store.counts(ep, idx, options)
        voided = await self.store.voided(ep)
        dq = await self.store.disqualified(ep)
        per_q = [await self.store.correct_answers(ep, i, limit=50) if i not in voided else [] for i in range(idx + 1)]
        winners = question_winners(per_q, dq, self.one_prize, voided)
        fastest = None
        if winners[idx]:
            w = winners[idx][0]
            profile = (await self.store.players([w.player])).get(w.player, {})
            fastest = F.person(profile.get("name", "?"), w.response_us, unit=profile.get("unit", ""),
                               tag=public_tag(w.player))
        return F.reveal(seq, idx, answer, counts, total, fastest, idx in voided)

    async def _top(self) -> tuple[list[dict[str, Any]], int]:
        """Top 10 by the standings rule, plus every player's standing for personal frames."""
        ep = self.view.episode
        dq = await self.store.disqualified(ep)
        scores = await self.store.scores(ep)
        standings = rank_standings(scores, dq)
        self.view.standings = {s.score.player: s for s in standings}
        self.view.disqualified = set(dq)
        self.view.players_ranked = len(standings)
        head = standings[:TOP_N]
        profiles = await self.store.players([s.score.player for s in head])
        top = [
            {
                "rank": s.rank,
                "name": profiles.get(s.score.player, {}).get("name", "?"),
                "unit": profiles.get(s.score.player, {}).get("unit", ""),
                "tag": public_tag(s.score.player),
                "correct": s.score.correct,
                "time_ms": round(s.score.total_us / 1000, 1),
            }
            for s in head
        ]
        self.view.top = top
        return top, len(standings)

    def _standing_frame(self, player: str) -> dict[str, Any]:
        s = self.view.standings.get(player)
        if s is None:
            return F.standing(None, self.view.players_ranked, 0, 0, player in self.view.disqualified)
        return F.standing(s.rank, self.view.players_ranked, s.score.correct, s.score.total_us, False)

    async def _send_standings(self) -> None:
        for i, conn in enumerate(list(self.hub.conns[Role.VIEWER])):
            if conn.player:
                conn.send(self._standing_frame(conn.player))
            if i % 2000 == 1999:
                await asyncio.sleep(0)

    # --- timers ---------------------------------------------------------------------
    def _gc_policy(self, phase: Phase) -> None:
        """Keep full garbage collections out of open questions, and still collect.

        With 10–20k sockets open a full collection pauses the loop for 0.3–1.5 s. Freezing the
        heap when a question opens moves every live object (sockets, players...) out of the
        collector's sight, so collections while answers arrive only scan what is new. But a
        frozen object that becomes cyclic garbage (every closed socket's protocol and parser,
        ≈ 20 KB) stays until unfrozen: with viewers coming and going that grew without bound.
        So once results are out to the phones (``_after_results``) the heap is unfrozen and
        collected in full: after the final results always, after a reveal or leaderboard when
        enough sockets have closed since the last collection to be worth the pause.

        Freezing alone still left 1-2 automatic generation-2 passes per 19,500-answer burst
        (what the answers leave behind is promoted fast enough to trigger one), so the
        gen-2 threshold is lifted while the question is open and restored when it closes;
        the young generations are collected as usual (a few ms each).
        """
        if phase is Phase.QUESTION:
            gc.freeze()
            if self._gc_thresholds is None:
                self._gc_thresholds = gc.get_threshold()
                young, middle, _ = self._gc_thresholds
                gc.set_threshold(young, middle, GC_NO_FULL_PASS)
        elif self._gc_thresholds is not None:
            gc.set_threshold(*self._gc_thresholds)
            self._gc_thresholds = None

    def _collect(self, force: bool) -> None:
        if not gc.get_freeze_count():
            return
        closed = self.hub.closed - self._closed_at_collect
        if not force and closed < max(GC_MIN_CLOSED, GC_CLOSED_SHARE * self.hub.count(Role.VIEWER)):
            return
        started = mono_us()
        gc.unfreeze()
        found = gc.collect()
        self._closed_at_collect = self.hub.closed
        metrics.GC_BETWEEN_QUESTIONS.observe((mono_us() - started) / 1e6)
        log.info("full garbage collection between questions (%d sockets closed since the last): "
                 "%d objects freed in %.0f ms", closed, found, (mono_us() - started) / 1000)

    async def _after_results(self) -> None:
        """After a reveal, leaderboard or final frame reached the phones: standings, then collect."""
        await self._send_standings()
        self._collect(force=self.view.phase is Phase.FINISHED)

    def _schedule_close(self, idx: int, due_ms: int) -> None:
        if self._close_timer is not None:
            self._close_timer.cancel()
        loop = asyncio.get_running_loop()
        self._close_timer = loop.call_at(self.clock.loop_time_for(due_ms), lambda: self._spawn(self._auto_close(idx)))

    def _ensure_close_timer(self) -> None:
        v = self.view
        if v.episode and v.phase is Phase.QUESTION and self._close_timer is None:
            self._schedule_close(v.qidx, v.num("deadline") + v.num("grace"))

    async def _auto_close(self, idx: int) -> None:
        self._close_timer = None
        ep = self.view.episode
        try:
            result = await self.store.transition(ep, Command.CLOSE, expect=idx, auto=True, actor=f"timer:{self.node}")
        except RedisUnavailable:
            await asyncio.sleep(0.5)
            self._ensure_close_timer()
            return
        if result.ok:
            await self.store.publish({"kind": "state", "ep": ep, "seq": result.seq})
            await self._sync()
        elif result.reason == "too_early":  # this node's clock estimate ran ahead of Redis
            self._schedule_close(idx, self.clock.now_ms() + max(result.retry_in_ms, 5))

    def _schedule_viewers(
        self,
        due_ms: int,
        frame: dict[str, Any],
        delivery: Delivery | None = None,
        after: Callable[[], Any] | None = None,
    ) -> None:
        """Queue a frame for the phones at ``due_ms`` (Redis ms), in seq order.

        A frame never overtakes an earlier one, and never waits behind one either: frames
        queued under a longer stream delay than this one's are brought forward to go out
        just before it. So after a delay change the next question reaches phones at its own
        ``release_at``, exactly, with the leaderboard that was still pending right ahead of it.
        """
        for queued in self._viewer_queue:
            queued.due_ms = min(queued.due_ms, due_ms)
        self._viewer_queue.append(_Scheduled(due_ms, dict(frame), delivery, after))
        self._viewer_wake.set()

    async def _viewer_dispatch(self) -> None:
        while True:
            if not self._viewer_queue:
                self._viewer_wake.clear()
                await self._viewer_wake.wait()
                continue
            head = self._viewer_queue[0]
            wait_s = (head.due_ms - self.clock.now_ms()) / 1000
            if wait_s > 0:
                self._viewer_wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._viewer_wake.wait(), timeout=min(wait_s, 1.0))
                continue
            self._viewer_queue.pop(0)
            delivery = head.delivery
            try:
                if "now" in head.frame:  # the frame leaves now, maybe seconds after it was made
                    head.frame["now"] = self.clock.now_ms()
                on_write = None
                if delivery is not None:
                    start = mono_us()
                    delivery.begin(start, self.clock.est_us(start))
                    metrics.RELEASE_LAG.observe(max(0, delivery.lead_us) / 1e6)
                    on_write = delivery.on_write
                await self.hub.broadcast((Role.VIEWER,), Prepared(head.frame), on_write)
                if delivery is not None:
                    self._record_soon(delivery)
                if head.after is not None:
                    result = head.after()
                    if asyncio.iscoroutine(result):
                        await result
            except Exception:
                log.exception("viewer fan-out failed")

    def _record_soon(self, delivery: Delivery) -> None:
        """Hand the allowances noted so far to Redis (the fan-out's last step)."""
        entries = delivery.take_pending()
        if entries:
            self._spawn(self._record(delivery, entries))

    async def _record(self, delivery: Delivery, entries: list[tuple[str, int]]) -> None:
        ep, idx, release = delivery.key
        try:
            added = await self.store.record_deliveries(ep, idx, release, self.clock.boot, delivery.start_us,
                                                       delivery.lead_us, entries)
        except RedisUnavailable:
            return  # each answer carries its player's record too; without either: timed from the release
        if added < 0:
            log.warning("delivery allowances of question %d refused: the opening is over", idx + 1)

    # --- viewers --------------------------------------------------------------------
    async def join(self, conn: Conn, frame: Join | Resume) -> dict[str, Any]:
        if isinstance(frame, Resume):
            player = check_resume_token(self.secret, frame.token)
            profile = (await self.store.players([player])).get(player) if player else None
            if player is None or profile is None:
                raise AuthError("resume token is not valid")
            resumed = True
        else:
            player = new_player_id()
            profile = {**frame.profile, "joined_at": self.clock.now_ms(), "ip": conn.ip}
            await self.store.add_player(player, profile)
            resumed = False
        metrics.JOINS.labels("resume" if resumed else "join").inc()
        old = self._players.get(player)
        if old is not None and old is not conn:
            self._spawn(old.close(CLOSE_REPLACED, "replaced by a newer connection"))
        self._players[player] = conn
        # a socket joined now has no delivery allowance for a question already being fanned out
        conn.joined_us = mono_us()
        conn.player = player
        public: dict[str, Any] = {k: profile[k] for k in ("name", "full_name", "unit", "phone") if k in profile}
        return F.welcome(player, public_tag(player), resume_token(self.secret, player), public, resumed)

    def forget(self, conn: Conn) -> None:
        if conn.player and self._players.get(conn.player) is conn:
            del self._players[conn.player]

    async def snapshot(self, conn: Conn) -> dict[str, Any]:
        """Everything a (re)connecting client needs to show the current phase."""
        v = self.view
        now = self.clock.now_ms()
        base: dict[str, Any] = {
            "type": "snapshot",
            "now": now,
            "role": conn.role.value,
            "settings": {"delay_s": self.delay_ms / 1000, "required": list(self.required_fields)},
        }
        if not v.episode:
            return {**base, "seq": 0, "phase": "idle", "episode": None}
        phase = v.phase
        seq = v.seq
        snap: dict[str, Any] = {**base, "episode": F.episode_info(v.episode, v.meta, len(v.questions), v.num("next"))}
        if conn.role is Role.VIEWER:
            phase_at = v.num("phase_at")
            due = v.num("release_at") if phase is Phase.QUESTION else phase_at + self.delay_ms
            if phase is not Phase.CLOSED and now < due:
                # the stream has not shown this yet: keep the phone in step with the stream
                return {**snap, "seq": seq - 1, "phase": "waiting", "until": due}
        snap.update(seq=seq, phase=phase.value, index=v.qidx)
        if phase in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED) and v.question_frame is not None:
            q = dict(v.question_frame)
            q.pop("type", None)
            q.pop("seq", None)
            if conn.role is Role.HOST:
                q["correct"] = v.specs[v.qidx][0]
            snap["question"] = q
            snap["release_at"] = v.num("release_at")
            snap["deadline"] = v.num("deadline")
        # (mid-transition the mirrored state may already say "closed" while the closed frame is
        # still being built: the frame that follows carries the numbers)
        if phase is Phase.CLOSED and v.frame is not None and v.frame.get("type") == "closed":
            snap["closed"] = {k: v.frame[k] for k in ("answers", "voided")}
        if phase in (Phase.REVEALED,) and v.reveal_frame is not None:
            snap["result"] = {k: val for k, val in v.reveal_frame.items() if k not in ("type", "seq")}
        if phase in (Phase.LEADERBOARD, Phase.FINISHED):
            snap["top"] = v.top
            snap["players"] = v.players_ranked
            if phase is Phase.FINISHED:
                snap["winner"] = v.top[0] if v.top else None
        if conn.role is Role.VIEWER and conn.player:
            if v.qidx >= 0 and phase in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED):
                mine = await self.store.player_answer(v.episode, v.qidx, conn.player)
                snap["you"] = {"option": mine[0], "time_ms": round(mine[1] / 1000, 1)} if mine else None
            if v.standings:
                snap["standing"] = self._standing_frame(conn.player)
        return snap

    def answer_soon(self, conn: Conn, frame: Answer, arrival_us: int, reply: Callable[[dict[str, Any]], None]) -> None:
        """Queue an answer for the next Redis batch; ``reply(ack)`` runs once Redis has decided.

        Synchronous on purpose: the viewer socket calls it straight from the frame parser, and
        the ack is written from the batch's completion, with no task in between.
        """
        if conn.player is None:
            raise ProtocolError(E_NOT_JOINED, "join or resume before answering")
        v = self.view
        if not v.episode:
            reply(F.ack_rejected(frame.ref, frame.question, R_NOT_OPEN))
            return
        delivery = self.delivery
        record = delivery.record(conn.player) if delivery is not None and frame.question == delivery.key[1] else "|||"
        request = AnswerRequest(
            episode=v.episode,
            player=conn.player,
            question=frame.question,
            option=frame.option,
            boot=self.clock.boot,
            arrival_mono_us=arrival_us,
            arrival_est_us=self.clock.est_us(arrival_us),
            delivery=record,
            rid=f"{self.clock.boot}:{next(self._rid)}",
        )
        self.ingest.enqueue(request, lambda result: reply(self._ack(frame, result)))

    async def answer(self, conn: Conn, frame: Answer, arrival_us: int) -> dict[str, Any]:
        """``answer_soon``, awaited (tests and non-socket callers)."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def reply(ack: dict[str, Any]) -> None:
            if not fut.done():  # the caller may have been cancelled meanwhile
                fut.set_result(ack)

        self.answer_soon(conn, frame, arrival_us, reply)
        return await fut

    def _ack(self, frame: Answer, result: AnswerResult) -> dict[str, Any]:
        metrics.answer_outcome("accepted" if result.ok else result.reason).inc()
        if result.ok:
            return F.ack_ok(frame.ref, frame.question, result.option, result.response_us)
        stored = result.option if result.reason == "duplicate" else None
        if result.reason == R_TRY_AGAIN:
            self.redis_ok = False
            if self._outage is None:
                self._start_outage()
            if self._outage is not None:
                self._outage["try_again"] += 1
        return F.ack_rejected(frame.ref, frame.question, result.reason, stored)

    # --- background -----------------------------------------------------------------
    async def _heartbeat(self) -> None:
        while True:
            try:
                now = self.clock.now_ms()
                await self.store.heartbeat(self.node, self.hub.counts(), int(HEARTBEAT_S * 3000), now)
                self.other_nodes = await self.store.node_counts(now, exclude=self.node)
            except RedisUnavailable:
                pass
            except Exception:
                log.exception("heartbeat failed")
            await asyncio.sleep(HEARTBEAT_S)

    def cluster_counts(self) -> dict[str, int]:
        """Connections across the cluster: this node's live counts plus the others' heartbeats."""
        counts = self.hub.counts()
        for role, n in self.other_nodes.items():
            counts[role] = counts.get(role, 0) + n
        return counts

    async def live_stats(self) -> dict[str, Any]:
        """Cluster-wide live numbers for the host panel."""
        v = self.view
        out: dict[str, Any] = {
            "type": "stats",
            "now": self.clock.now_ms(),
            "phase": v.phase.value if v.episode else None,
            "index": v.qidx,
            "viewers": self.cluster_counts()["viewer"],
            "nodes": self.cluster_counts(),
            "redis_ok": self.redis_ok,
        }
        if v.episode and 0 <= v.qidx < len(v.specs):
            counts, total = await self.store.counts(v.episode, v.qidx, v.specs[v.qidx][1])
            fastest = await self.store.correct_answers(v.episode, v.qidx, limit=5)
            profiles = await self.store.players([a.player for a in fastest])
            out.update(
                counts=counts,
                answers=total,
                fastest=[
                    F.person(
                        profiles.get(a.player, {}).get("name", "?"),
                        a.response_us,
                        player=a.player,
                        unit=profiles.get(a.player, {}).get("unit", ""),
                        tag=public_tag(a.player),
                    )
                    for a in fastest
                ],
            )
        return out

    async def _host_stats(self) -> None:
        while True:
            await asyncio.sleep(STATS_S)
            hosts = self.hub.conns[Role.HOST]
            if not hosts:
                continue
            try:
                stats = await self.live_stats()
            except RedisUnavailable:
                stats = {"type": "stats", "redis_ok": False, "now": self.clock.now_ms()}
            except Exception:
                log.exception("stats failed")
                continue
            await self.hub.broadcast((Role.HOST,), Prepared(stats))

    def hello(self, role: Role) -> dict[str, Any]:
        return F.hello(role.value, self.clock.now_ms(), self.node, self.required_fields, __version__)

    def check_overlay_token(self, token: str) -> bool:
        return bool(token) and same(token, self.overlay_token)

    def bad_token_error(self) -> dict[str, Any]:
        return F.error(E_BAD_TOKEN, "resume token is not valid; join again")


def _source(meta: dict[str, Any], idx: int) -> str:
    sources = meta.get("sources") or []
    return str(sources[idx]) if idx < len(sources) else ""


def _refusal(command: Command, result: Transition) -> str:
    messages = {
        "phase": f"'{command.value}' is not allowed in phase '{result.phase}'",
        "no_more_questions": "there is no next question; finish the episode",
        "stale": "the show has moved on since this command was sent (double press?)",
        "no_episode": "no episode loaded",
        "already_voided": "this question is already voided",
        "already_closed": "the question is already closed",
        "too_early": "the deadline has not passed yet",
        "not_voided": "only a voided question can be re-run (void it first)",
    }
    return messages.get(result.reason, result.reason)


LAG_TICK_S = 0.05


async def _watch_loop_lag() -> None:
    """Measure event-loop pauses where they happen: a timer due every 50 ms, and how late it
    fires (``quiz_event_loop_lag_seconds``). A late timer means every socket waited as long."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + LAG_TICK_S
        await asyncio.sleep(LAG_TICK_S)
        metrics.LOOP_LAG.observe(max(0.0, loop.time() - due))
