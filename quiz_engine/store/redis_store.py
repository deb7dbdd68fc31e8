"""The store: every Redis read and write of the engine, behind one class.

Nothing outside this package touches Redis; the client is private (``Store._r``). Each state
change is one Lua script (``lua/``, registered once with the shared prelude: ``scripts.py``)
or one single command, never a read-modify-write from Python. Whether a command may run is
decided inside its script by the phase machine of :mod:`quiz_engine.game.phases`; the
scripts' record formats are the codecs of :mod:`quiz_engine.store.records`. Every failure
to reach Redis becomes :class:`~quiz_engine.errors.RedisUnavailable` in one place,
:meth:`Store._run`, which every Redis call goes through.

Redis Cluster runs a script only on keys of one hash slot (one episode's keys share one).
The show's keys live in other slots, so the few operations that span them are ordered
steps, each atomic and safe to repeat: :meth:`Store.load` parks the outgoing episode in its
own slot first (checked against the phase table there), and the stream delay a question
opens with lives in the episode's state, where :meth:`Store.set_delay` changes it under the
same check.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
import redis.exceptions as rexc
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript

from quiz_engine.game.phases import STALE, Command, refusal
from quiz_engine.game.standings import CorrectAnswer, PlayerScore, Standing
from quiz_engine.store import keys as K
from quiz_engine.store import scripts
from quiz_engine.store.connection import MAX_REDIS_CONNECTIONS, REDIS_DOWN, client_for, is_cluster, unavailable
from quiz_engine.store.contest import ContestStore
from quiz_engine.store.keys import EpisodeKeys
from quiz_engine.store.records import (
    AnswerRecord,
    DeliveryRecord,
    QuestionSpec,
    decode_correct,
    decode_score,
    decode_standing,
)
from quiz_engine.store.values import (
    AnswerRequest,
    AnswerResult,
    Board,
    Handover,
    Synced,
    Transition,
    transition_of,
)

__all__ = ["MAX_REDIS_CONNECTIONS", "AnswerRequest", "AnswerResult", "Board", "Handover", "Store", "Synced",
           "Transition", "is_cluster"]

T = TypeVar("T")

INCIDENTS_KEPT = 50
INCIDENTS_SHOWN = 10

#: the script of each episode command (the rest of the table runs in command.lua)
_COMMAND_SCRIPT = {Command.VOID: "void", Command.RERUN: "rerun", Command.RESET: "reset"}
_OWN_METHOD = {Command.LOAD: "load()", Command.SET_DELAY: "set_delay()", Command.SYNC: "sync_questions()",
               Command.PRIZE_RULE: "set_prize_rule()"}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _questions_args(questions: Sequence[tuple[QuestionSpec, dict[str, Any]]]) -> list[str]:
    out: list[str] = []
    for spec, public in questions:
        out += [spec.encode(), _json(public)]
    return out


class Store:
    """All Redis I/O of the engine. One instance per process."""

    def __init__(self, client: aioredis.Redis | RedisCluster) -> None:
        # decode_responses=True: every reply is str. redis-py's stubs cannot express that,
        # so the client is typed loosely here and results are converted where they are read.
        self._r: Any = client
        self._scripts: dict[str, AsyncScript] = {n: client.register_script(scripts.source(n)) for n in scripts.NAMES}
        self.round_trips = 0  # pipelines/calls sent for answers (for the batching benchmark)

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store on the Redis (or Redis Cluster) at ``url``."""
        return cls(client_for(url))

    async def close(self) -> None:
        await self._r.aclose()

    # --- the one way to Redis -------------------------------------------------------------
    @staticmethod
    async def _run(call: Awaitable[T]) -> T:
        """Await one Redis call; a Redis that cannot be reached becomes RedisUnavailable."""
        try:
            return await call
        except REDIS_DOWN as exc:
            raise unavailable(exc) from exc

    async def _eval(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._run(self._scripts[name](keys=list(keys), args=list(args)))

    def contest(self, contest: str, clock: Callable[[], int] | None = None) -> ContestStore:
        """One online contest's records, on this store's client (``clock``: an injected ms clock)."""
        return ContestStore(self._r, self._run, contest, clock)

    # --- health and time ---------------------------------------------------------------
    async def ping(self) -> bool:
        return bool(await self._run(self._r.ping()))

    async def time_us(self) -> int:
        sec, usec = await self._run(self._r.time())
        return int(sec) * 1_000_000 + int(usec)

    # --- shared secrets -----------------------------------------------------------------
    async def secret(self, candidate: str) -> str:
        """The signing key every node shares: the stored one, else ``candidate`` (stored)."""
        return str(await self._eval("set_once", [K.SECRET], [candidate, 0]))

    async def stored_secret(self) -> str:
        """The shared signing key as stored ('' before any server ran), for offline commands."""
        return str(await self._run(self._r.get(K.SECRET)) or "")

    async def host_token(self, candidate: str, *, replace: bool = False) -> str:
        """The host token in force: the stored one, else ``candidate``; ``replace`` (a token
        configured on this node) stores ``candidate`` in any case."""
        return str(await self._eval("set_once", [K.HOST_TOKEN], [candidate, int(replace)]))

    # --- show-level -------------------------------------------------------------------
    async def show(self) -> dict[str, str]:
        return dict(await self._run(self._r.hgetall(K.SHOW)))

    async def seed_show(self, *, delay_ms: int, one_prize: bool) -> dict[str, str]:
        """Store the show settings that are absent (a restarted node never overwrites what
        the host set); returns the show as stored."""
        flat = await self._eval("seed_show", [K.SHOW], ["delay_ms", delay_ms, "one_prize", int(one_prize)])
        return dict(zip(flat[::2], flat[1::2], strict=True))

    async def set_one_prize(self, on: bool) -> None:
        """The prize rule of episodes created from now on (each keeps the one it was created with)."""
        await self._run(self._r.hset(K.SHOW, "one_prize", int(on)))

    async def set_prize_rule(self, episode: str, on: bool, actor: str = "host") -> Transition:
        """Change the prize rule ``episode`` is played under (command ``prize_rule``): only in the
        lobby before its first question, checked and audited in the episode's script."""
        return await self._command(episode, Command.PRIZE_RULE, {"actor": actor, "one_prize": int(on)})

    async def prize_rule(self, episode: str) -> bool | None:
        """One question prize per person in ``episode``? None for an episode created before the
        rule was the episode's own (the show's setting then applies)."""
        raw = await self._run(self._r.hget(EpisodeKeys(episode).state, "one_prize"))
        return None if raw is None else raw == "1"

    async def set_delay(self, delay_ms: int, actor: str = "host") -> Transition:
        """Change the stream delay: refused while the loaded episode has a question open.

        The check and the change are one script on the loaded episode (command ``set_delay``),
        which also stores the delay its next question opens with; the show's copy (what the
        next episode loaded inherits, and what nodes display) follows. If a load moved the
        show on meanwhile, the parked episode refuses and the new one is tried.
        """
        result = Transition(False, "not_loaded")
        for _ in range(3):
            current = str(await self._run(self._r.hget(K.SHOW, "episode")) or "")
            if current:
                result = await self._command(current, Command.SET_DELAY, {"actor": actor, "delay_ms": delay_ms})
                if result.reason == "not_loaded":
                    continue
                if not result.ok and result.reason != "no_episode":
                    return result
            await self._run(self._r.hset(K.SHOW, "delay_ms", delay_ms))
            return Transition(True, phase=result.phase, seq=result.seq, delay_ms=delay_ms)
        return result

    async def episodes(self) -> dict[str, dict[str, Any]]:
        raw = await self._run(self._r.hgetall(K.EPISODES))
        return {k: orjson.loads(v) for k, v in raw.items()}

    # --- join sources -------------------------------------------------------------------
    async def add_sources(self, sources: dict[str, str]) -> None:
        """Record the join sources' labels (tag -> label; a tag's label is the newest given)."""
        await self._run(self._r.hset(K.SOURCES, mapping=sources))

    async def sources(self) -> dict[str, str]:
        return dict(await self._run(self._r.hgetall(K.SOURCES)))

    # --- host sessions ------------------------------------------------------------------
    async def start_session(self, session: str, ttl_s: int) -> None:
        await self._run(self._r.set(K.HOST_SESSION + session, "1", ex=ttl_s))

    async def session_exists(self, session: str) -> bool:
        return bool(await self._run(self._r.exists(K.HOST_SESSION + session)))

    async def end_session(self, session: str) -> None:
        await self._run(self._r.delete(K.HOST_SESSION + session))

    # --- players ----------------------------------------------------------------------
    async def add_player(self, player: str, profile: dict[str, Any]) -> None:
        await self._run(self._r.hset(K.PLAYERS, player, _json(profile)))

    async def players(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        values = await self._run(self._r.hmget(K.PLAYERS, list(ids)))
        return {pid: orjson.loads(v) for pid, v in zip(ids, values, strict=True) if v}

    async def all_players(self) -> dict[str, dict[str, Any]]:
        raw = await self._run(self._r.hgetall(K.PLAYERS))
        return {k: orjson.loads(v) for k, v in raw.items()}

    # --- episodes ---------------------------------------------------------------------
    async def load(
        self, episode: str, meta: dict[str, Any], questions: Sequence[tuple[QuestionSpec, dict[str, Any]]],
        actor: str = "host",
    ) -> Transition:
        """Load ``episode`` (created from ``questions`` unless it exists): command ``load``.

        Steps, each atomic: park the episode loaded now (refused while it has a question open;
        a parked episode refuses every command until loaded again, so no node's stale mirror
        can act on it); create or unpark the new one with the delay the outgoing one had;
        index it; point the show at it unless another load did meanwhile (then it stays parked).
        """
        show = await self.show()
        current = show.get("episode", "")
        delay = int(show.get("delay_ms", 0) or 0)
        one_prize = int(show.get("one_prize", "1") == "1")  # the rule a new episode is created with
        if current:  # (reloading the same episode too: the table refuses it mid-question)
            parked = await self._command(current, Command.LOAD, {"actor": actor, "delay_ms": delay})
            if parked.ok:
                delay = parked.delay_ms
            elif parked.reason != "no_episode":  # a pointer to a wiped episode: nothing to park
                return parked
        k = EpisodeKeys(episode)
        created, phase, seq, stored_meta = await self._eval(
            "attach", [k.state, k.qspec, k.qpub, k.meta, k.audit],
            [_json(meta), delay, actor, one_prize, len(questions), *_questions_args(questions)],
        )
        await self._run(self._r.hset(K.EPISODES, episode, stored_meta))  # another slot: repeated by every load
        swapped, now_loaded = await self._eval("swap_episode", [K.SHOW], [current, episode])
        if not int(swapped):
            if now_loaded != episode:
                await self._command(episode, Command.LOAD, {"actor": actor, "delay_ms": delay})
            return Transition(False, STALE.code, str(phase), message=STALE.message)
        return Transition(True, phase=str(phase), seq=int(seq), delay_ms=delay, created=bool(int(created)))

    async def state(self, episode: str) -> dict[str, str]:
        return dict(await self._run(self._r.hgetall(EpisodeKeys(episode).state)))

    async def meta(self, episode: str) -> dict[str, Any]:
        raw = await self._run(self._r.get(EpisodeKeys(episode).meta))
        return orjson.loads(raw) if raw else {}

    async def public_questions(self, episode: str) -> list[dict[str, Any]]:
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).qpub))
        return [orjson.loads(raw[str(i)]) for i in range(len(raw))]

    async def question_specs(self, episode: str) -> list[QuestionSpec]:
        """(answer, options, limit_ms) per question: host-only data."""
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).qspec))
        return [QuestionSpec.decode(raw[str(i)]) for i in range(len(raw))]

    async def sync_questions(
        self, episode: str, meta: dict[str, Any], questions: Sequence[tuple[QuestionSpec, dict[str, Any]]],
        expect_next: int, actor: str = "cli",
    ) -> Synced:
        """Season sync (command ``sync``): replace the unplayed questions, unless a played one
        would change, a question is open, or ``next`` is no longer ``expect_next`` (the
        metadata was merged against it: read again and retry)."""
        k = EpisodeKeys(episode)
        request = _json({"expect": expect_next, "actor": actor})
        raw = await self._eval("replace_unplayed", [k.state, k.audit, k.voided, k.qspec, k.qpub, k.meta],
                               [Command.SYNC.value, request, _json(meta), len(questions), *_questions_args(questions)])
        if int(raw[0]) != 1:
            check, phase = str(raw[1]), str(raw[2])
            why = refusal(Command.SYNC, check, phase, episode)
            return Synced(False, why.code, why.message, phase, question=int(raw[3]))
        await self._run(self._r.hset(K.EPISODES, episode, _json(meta)))  # another slot: its own step
        return Synced(True, phase=str(raw[2]), next=int(raw[3]), changed=tuple(int(x) for x in raw[4:]))

    # --- phase changes ----------------------------------------------------------------
    async def transition(
        self,
        episode: str,
        command: Command,
        *,
        expect: int = -1,
        grace_ms: int = 500,
        cap_ms: int = 0,
        delay_ms: int = 0,
        auto: bool = False,
        actor: str = "host",
        reason: str = "",
        confirm: str = "",
    ) -> Transition:
        """Apply a command of the phase machine to ``episode``, atomically, as the table says.

        ``expect``: the question the command was meant for (-1: any; rerun: which question).
        ``auto`` marks the close timer's close (:attr:`Command.TIMEOUT`). ``delay_ms`` is used
        only by an episode loaded before its state kept the stream delay.
        """
        if auto and command is Command.CLOSE:
            command = Command.TIMEOUT
        if command in _OWN_METHOD:
            raise ValueError(f"use Store.{_OWN_METHOD[command]}")
        request = {"expect": expect, "actor": actor, "grace_ms": grace_ms, "cap_ms": cap_ms, "delay_ms": delay_ms,
                   "reason": reason, "confirm": confirm, "episode": episode}
        return await self._command(episode, command, request)

    async def _command(self, episode: str, command: Command, request: dict[str, Any]) -> Transition:
        k = EpisodeKeys(episode)
        name = _COMMAND_SCRIPT.get(command, "command")
        keys = [k.state, k.audit, k.voided]
        if name == "command":
            keys.append(k.qspec)
        else:  # these touch every question's keys, which Redis Cluster needs named
            count = int(await self._run(self._r.hget(k.state, "count")) or 0)
            if name == "void":
                keys += [k.qspec, k.stats, k.standings]
                keys += [key for q in range(count) for key in (k.answers(q), k.correct(q))]
            elif name == "rerun":
                keys += [key for q in range(count) for key in k.question_keys(q)]
            else:
                keys += [k.stats, k.standings, k.dq, k.legacy_rank, k.played]
                keys += [key for q in range(count) for key in k.question_keys(q)]
                keys.append(k.handovers)  # read by the guard, never deleted
        raw = await self._eval(name, keys, [command.value, _json({**request, "episode": episode})])
        return transition_of(command, episode, raw)

    async def disqualify(self, episode: str, player: str, reason: str, actor: str) -> bool:
        k = EpisodeKeys(episode)
        packed = _json({"reason": reason, "by": actor}) if reason else ""
        return bool(await self._eval("disqualify", [k.dq, k.audit, k.state], [player, packed, actor]))

    # --- prize handovers (claims.py) ---------------------------------------------------
    async def hand_over(self, episode: str, prize: str, player: str, check: str, actor: str,
                        note: str = "") -> Handover:
        """Record that ``prize`` was handed to ``player`` (once the episode is finished; never to
        a disqualified player; once per prize): checked and audited in ``handover.lua``."""
        k = EpisodeKeys(episode)
        request = {"episode": episode, "prize": prize, "player": player, "check": check, "note": note,
                   "actor": actor}
        raw = await self._eval("handover", [k.state, k.audit, k.voided, k.handovers, k.dq],
                               [Command.HANDOVER.value, _json(request)])
        if int(raw[0]) == 1:
            return Handover(True, phase=str(raw[2]), record=orjson.loads(raw[7]))
        why = refusal(Command.HANDOVER, str(raw[1]), str(raw[2]), episode)
        earlier = raw[3] if len(raw) > 3 and isinstance(raw[3], str) and raw[3].startswith("{") else ""
        return Handover(False, why.code, why.message, str(raw[2]), orjson.loads(earlier) if earlier else {})

    async def handovers(self, episode: str) -> list[dict[str, Any]]:
        """Every prize handed over in ``episode``, oldest first."""
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).handovers))
        return sorted((orjson.loads(v) for v in raw.values()), key=lambda r: (r.get("at", 0), r.get("prize", "")))

    async def claim_refused(self, episode: str, reason: str, check: str, actor: str) -> None:
        """Audit a code the prize desk refused (wrong, reused, passed on): one XADD."""
        await self._run(self._r.xadd(EpisodeKeys(episode).audit, {"e": "claim_refused", "why": reason,
                                                                  "check": check, "by": actor}))

    # --- answers ----------------------------------------------------------------------
    async def answer_batch(self, batch: Sequence[AnswerRequest]) -> list[AnswerResult]:
        """Run a burst of answers through the answer script: one round trip per question.

        Answers to the same question (the normal case) go in ONE script call that loops over
        them: per answer that saves redis-py's command packing and reply parsing, which cost
        more than the script itself. Results come back in the order of ``batch``.
        """
        groups: dict[tuple[str, int, str], list[int]] = {}
        for i, a in enumerate(batch):
            groups.setdefault((a.episode, a.question, a.boot), []).append(i)
        out: list[AnswerResult | None] = [None] * len(batch)
        # One direct script call per group, no pipeline: a batch is nearly always one group
        # (one open question), and Redis Cluster refuses scripts inside pipelines.
        for (episode, q, boot), members in groups.items():
            k = EpisodeKeys(episode)
            args: list[Any] = [boot, q]
            for i in members:
                a = batch[i]
                args.append(f"{a.player}|{a.option}|{a.arrival_mono_us}|{a.arrival_est_us}|{a.delivery}|{a.rid}")
            try:
                reply = await self._eval(
                    "answer",
                    [k.state, k.answers(q), k.correct(q), k.counts(q), k.deliveries(q), k.stats, k.standings, k.audit,
                     k.dq, k.played],
                    args,
                )
            except rexc.ResponseError:
                for i in members:
                    out[i] = AnswerResult(False, "try_again")
                continue
            finally:
                self.round_trips += 1
            for n, i in enumerate(members):
                ok, a1, b1, c1, d1 = reply[5 * n : 5 * n + 5]
                if int(ok) == 1:
                    out[i] = AnswerResult(True, "", int(a1), int(b1), int(c1), bool(int(d1)))
                else:
                    out[i] = AnswerResult(False, str(a1), int(c1), 0, int(b1))
        return [r if r is not None else AnswerResult(False, "try_again") for r in out]

    async def record_deliveries(self, episode: str, question: int, release_at: int, boot: str, start_us: int,
                                lead_us: int, entries: Sequence[tuple[str, int]]) -> int:
        """Store the delivery allowances of one fan-out (player, µs after its start); first wins.

        One script call per 5,000 players with their records packed in one argument (HSETNX in
        a loop): a command, or even an argument, per player would cost the node more CPU than
        the fan-out it runs beside. Returns how many were new; -1 means the opening is over
        (the script refused it).
        """
        k = EpisodeKeys(episode)
        added = 0
        for first in range(0, len(entries), 5000):
            packed = ",".join([f"{player}:{allowance}" for player, allowance in entries[first : first + 5000]])
            n = int(await self._eval("deliveries", [k.state, k.deliveries(question), k.audit],
                                     [boot, question, release_at, start_us, lead_us, packed]))
            if n < 0:
                return -1
            added += n
        return added

    async def delivery(self, episode: str, question: int, player: str) -> DeliveryRecord | None:
        """A player's stored delivery record, if any."""
        raw = await self._run(self._r.hget(EpisodeKeys(episode).deliveries(question), player))
        return DeliveryRecord.decode(raw) if raw else None

    async def delivered_to(self, episode: str, question: int) -> set[str]:
        """Players the question's release fan-out reached while joined (plus, for episodes played
        before the release clock, the first-delivery records they kept)."""
        k = EpisodeKeys(episode)
        fanout = await self._run(self._r.hkeys(k.deliveries(question)))
        legacy = await self._run(self._r.hkeys(k.legacy_sent(question)))
        return set(fanout) | set(legacy)

    async def player_answer(self, episode: str, question: int, player: str) -> AnswerRecord | None:
        raw = await self._run(self._r.hget(EpisodeKeys(episode).answers(question), player))
        return AnswerRecord.decode(raw) if raw else None

    # --- results ----------------------------------------------------------------------
    async def counts(self, episode: str, question: int, options: int) -> tuple[list[int], int]:
        """Answers per option (the first ``options``) and in all."""
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).counts(question)))
        counts = [int(raw.get(str(i), 0)) for i in range(options)]
        return counts, int(raw.get("n", 0))

    async def correct_answers(self, episode: str, question: int, limit: int = -1) -> list[CorrectAnswer]:
        """Correct answers in prize order (response time, then arrival)."""
        stop = -1 if limit < 0 else limit - 1
        raw = await self._run(self._r.zrange(EpisodeKeys(episode).correct(question), 0, stop, withscores=True))
        return [decode_correct(player, score) for player, score in raw]

    async def scores(self, episode: str) -> list[PlayerScore]:
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).stats))
        return [decode_score(p, v) for p, v in raw.items()]

    async def standings(self, episode: str, top: int, players: Sequence[str] = ()) -> Board:
        """The top ``top`` and the standing of ``players``, read from the standings index.

        The index sorts by the standings rule itself (records.py), so this is a read of the
        few entries wanted, not of every player's totals; disqualified players are left out
        and everyone below them moves up, as :func:`~quiz_engine.game.standings.rank_standings`
        does. One script call; each player asked for costs Redis two lookups.
        """
        k = EpisodeKeys(episode)
        raw = await self._eval("standings", [k.stats, k.standings, k.dq], [top, *players])
        ranked, n_top = int(raw[0]), int(raw[1])
        rows = raw[2 : 2 + 2 * n_top]
        board = [Standing(i + 1, decode_standing(rows[2 * i], float(rows[2 * i + 1]))) for i in range(n_top)]
        mine: dict[str, Standing] = {}
        rest = raw[2 + 2 * n_top :]
        for player, rank, rec in zip(players, rest[::2], rest[1::2], strict=True):
            if int(rank) > 0:
                mine[player] = Standing(int(rank), decode_score(player, rec))
        return Board(ranked, board, mine)

    async def played_count(self, episode: str) -> int:
        """How many players have an answer stored in ``episode`` (right or wrong)."""
        return int(await self._run(self._r.scard(EpisodeKeys(episode).played)))

    async def disqualified(self, episode: str) -> dict[str, dict[str, Any]]:
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).dq))
        return {p: orjson.loads(v) for p, v in raw.items()}

    async def voided(self, episode: str) -> set[int]:
        return {int(x) for x in await self._run(self._r.smembers(EpisodeKeys(episode).voided))}

    async def all_answers(self, episode: str, question: int) -> dict[str, AnswerRecord]:
        raw = await self._run(self._r.hgetall(EpisodeKeys(episode).answers(question)))
        return {p: AnswerRecord.decode(v) for p, v in raw.items()}

    async def audit(self, episode: str) -> list[tuple[str, dict[str, str]]]:
        out: list[tuple[str, dict[str, str]]] = []
        last = "-"
        key = EpisodeKeys(episode).audit
        while True:
            chunk = await self._run(self._r.xrange(key, min=last, max="+", count=5000))
            if last != "-":
                chunk = chunk[1:]
            if not chunk:
                return out
            out.extend((i, dict(f)) for i, f in chunk)
            last = chunk[-1][0]

    # --- incidents, nodes and events ----------------------------------------------------
    async def add_incident(self, incident: dict[str, Any]) -> list[dict[str, Any]]:
        """Record a Redis outage a node saw (the newest 50 are kept); returns the newest 10."""
        raw = await self._eval("push_capped", [K.INCIDENTS], [_json(incident), INCIDENTS_KEPT, INCIDENTS_SHOWN])
        return [orjson.loads(x) for x in raw]

    async def incidents(self, n: int = INCIDENTS_SHOWN) -> list[dict[str, Any]]:
        return [orjson.loads(x) for x in await self._run(self._r.lrange(K.INCIDENTS, 0, n - 1))]

    async def heartbeat(self, node: str, counts: dict[str, int], ttl_ms: int, now_ms: int) -> None:
        await self._run(self._r.hset(K.NODES, node, _json({**counts, "expires": now_ms + ttl_ms})))

    async def remove_node(self, node: str) -> None:
        """Drop this node's heartbeat (a clean stop): its connections stop counting at once."""
        await self._run(self._r.hdel(K.NODES, node))

    async def node_counts(self, now_ms: int, exclude: str = "") -> dict[str, int]:
        """Connection counts summed over live nodes but ``exclude`` (stale nodes are dropped)."""
        flat = await self._eval("nodes", [K.NODES], [now_ms, exclude])
        return {str(role): int(n) for role, n in zip(flat[::2], flat[1::2], strict=True)}

    async def publish(self, event: dict[str, Any]) -> None:
        await self._run(self._r.publish(K.EVENTS, orjson.dumps(event)))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[aioredis.client.PubSub]:
        """The nodes' event channel; a lost connection, inside the block too, raises RedisUnavailable."""
        pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        try:
            await self._run(pubsub.subscribe(K.EVENTS))
            yield pubsub
        except REDIS_DOWN as exc:  # raised by the caller's reads of ``pubsub``
            raise unavailable(exc) from exc
        finally:
            with contextlib.suppress(*REDIS_DOWN):
                await pubsub.aclose()
