"""The host desk: commands, show settings, disqualifications, and the panel's live numbers.

Every command is one atomic script in Redis (``store/``), which checks the phase machine
(``game/phases.py``) against the stored phase, so two nodes or a double press apply it at
most once. The desk turns a refusal into a ``PhaseError`` with a message a host can act on,
tells the other nodes (pub/sub) and re-syncs this node's mirror.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from quiz_engine.clock import NodeClock
from quiz_engine.config import Settings
from quiz_engine.errors import NotFound, PhaseError, ProtocolError, RedisUnavailable
from quiz_engine.game.phases import Command, Phase
from quiz_engine.hub import Hub, Role
from quiz_engine.library import BankLibrary, episode_key, episode_meta, question_public, question_spec
from quiz_engine.live.mirror import EpisodeMirror
from quiz_engine.live.presence import NodePresence
from quiz_engine.protocol import projector as P
from quiz_engine.protocol import server_frames as F
from quiz_engine.protocol.codec import Prepared
from quiz_engine.sources import source_map
from quiz_engine.store.redis_store import Store, Transition
from quiz_engine.tokens import public_tag

log = logging.getLogger("quiz_engine.runner")

STATS_S = 0.5
FASTEST_SHOWN = 5

class HostDesk:
    def __init__(self, store: Store, library: BankLibrary, settings: Settings, clock: NodeClock, node: str,
                 mirror: EpisodeMirror, presence: NodePresence, hub: Hub) -> None:
        self.store = store
        self.library = library
        self.settings = settings
        self.clock = clock
        self.node = node
        self.mirror = mirror
        self.presence = presence
        self.hub = hub
        self.sources = source_map(settings.sources)  # join sources: tag -> label (parsed once)

    # --- show settings ---------------------------------------------------------------------------
    def settings_dict(self) -> dict[str, Any]:
        v = self.mirror.view
        return {
            "delay_s": self.mirror.delay_ms / 1000,
            "one_prize": self.mirror.one_prize,  # the loaded episode's rule
            # the rule can change only before the episode's first question (command prize_rule)
            "prize_rule_open": bool(v.episode) and v.phase is Phase.LOBBY and v.num("next") == 0,
            "grace_ms": self.settings.grace_ms,
            "required": list(self.settings.required_fields),
            # join sources (one per simulcast page): each has its own link and QR code
            "sources": [{"tag": tag, "label": label} for tag, label in self.sources.items()],
        }

    async def set_settings(self, delay_s: float | None = None, one_prize: bool | None = None) -> dict[str, Any]:
        if delay_s is not None:
            if not 0 <= delay_s <= 120:
                raise ProtocolError("bad_field", "delay_s must be between 0 and 120")
            result = await self.store.set_delay(int(delay_s * 1000))  # refused in Redis while a question is open
            self._check("settings", result)
        if one_prize is not None:
            if self.mirror.view.episode:  # the loaded episode's rule: refused once it has started
                self._check("settings", await self.store.set_prize_rule(self.mirror.view.episode, one_prize))
            await self.store.set_one_prize(one_prize)  # and the rule of episodes created from now on
        await self.store.publish({"kind": "show"})
        await self.mirror.sync(force=True)
        return self.settings_dict()

    # --- commands --------------------------------------------------------------------------------
    async def load(self, bank_id: str, episode_id: str) -> dict[str, Any]:
        bank = self.library.bank(bank_id)
        questions = bank.episode_questions(episode_id)
        key = episode_key(bank_id, episode_id)
        meta = episode_meta(bank, episode_id)
        # refused (in Redis) while the loaded episode has a question open
        result = await self.store.load(key, meta, [(question_spec(q), question_public(q)) for q in questions])
        self._check("load", result)
        await self.store.publish({"kind": "show"})
        await self.mirror.sync(force=True)
        return self.host_state()

    async def command(self, command: Command, expect: int = -1, actor: str = "host", reason: str = "",
                      confirm: str = "") -> dict[str, Any]:
        ep = self.mirror.view.episode
        if not ep:
            raise PhaseError("none", command.value, "no episode loaded")
        # every rule (phase, expected question, voided, confirm...) is checked in Redis, from the one table
        result = await self.store.transition(
            ep,
            command,
            expect=expect,
            delay_ms=self.mirror.delay_ms if command is Command.OPEN else 0,
            grace_ms=self.settings.grace_ms,
            cap_ms=self.settings.max_allowance_ms if command is Command.OPEN else 0,
            actor=actor,
            reason=reason,
            confirm=confirm,
        )
        self._check(command.value, result)
        log.info("command", extra={"episode": ep, "command": command.value, "seq": result.seq, "question": result.qidx})
        await self.store.publish({"kind": "state", "ep": ep, "seq": result.seq})
        await self.mirror.sync()
        return self.host_state()

    def _check(self, command: str, result: Transition) -> None:
        if not result.ok:
            raise PhaseError(result.phase or self.mirror.view.phase.value, command, result.message, code=result.reason)

    async def auto_close(self, idx: int) -> Transition:
        """The close timer fired for question ``idx`` (any node's; the script decides once)."""
        ep = self.mirror.view.episode
        result = await self.store.transition(ep, Command.CLOSE, expect=idx, auto=True, actor=f"timer:{self.node}")
        if result.ok:
            await self.store.publish({"kind": "state", "ep": ep, "seq": result.seq})
            await self.mirror.sync()
        return result

    async def disqualify(self, player: str, reason: str, actor: str = "host") -> dict[str, Any]:
        ep = self.mirror.view.episode
        if not ep:
            raise NotFound("no episode loaded")
        if not (await self.store.players([player])):
            raise NotFound(f"no player '{player}'")
        await self.store.disqualify(ep, player, reason, actor)
        await self.store.publish({"kind": "dq", "ep": ep})
        return {"player": player, "disqualified": bool(reason), "reason": reason}

    # --- what the panel shows --------------------------------------------------------------------
    def host_state(self) -> dict[str, Any]:
        presence = self.presence
        return P.host_state(self.mirror.view, self.clock.now_ms(), self.settings_dict(),
                            viewers=presence.cluster_counts()["viewer"], redis_ok=presence.redis_ok,
                            incidents=presence.incidents)

    async def live_stats(self) -> dict[str, Any]:
        """Cluster-wide live numbers for the host panel."""
        v = self.mirror.view
        counts = self.presence.cluster_counts()
        out: dict[str, Any] = {
            "type": "stats",
            "now": self.clock.now_ms(),
            "phase": v.phase.value if v.episode else None,
            "index": v.qidx,
            "viewers": counts["viewer"],
            "nodes": counts,
            "redis_ok": self.presence.redis_ok,
        }
        if v.episode and 0 <= v.qidx < len(v.specs):
            per_option, total = await self.store.counts(v.episode, v.qidx, v.specs[v.qidx][1])
            fastest = await self.store.correct_answers(v.episode, v.qidx, limit=FASTEST_SHOWN)
            profiles = await self.store.players([a.player for a in fastest])
            out.update(
                counts=per_option,
                answers=total,
                fastest=[
                    F.person(profiles.get(a.player, {}).get("name", "?"), a.response_us, player=a.player,
                             unit=profiles.get(a.player, {}).get("unit", ""), tag=public_tag(a.player))
                    for a in fastest
                ],
            )
        return out

    async def stats_loop(self) -> None:
        """The node's task: live numbers to this node's host panels twice a second."""
        while True:
            await asyncio.sleep(STATS_S)
            if not self.hub.conns[Role.HOST]:
                continue
            try:
                stats = await self.live_stats()
            except RedisUnavailable:
                stats = {"type": "stats", "redis_ok": False, "now": self.clock.now_ms()}
            except Exception:
                log.exception("stats failed")
                continue
            await self.hub.broadcast((Role.HOST,), Prepared(stats))
