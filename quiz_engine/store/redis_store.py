"""Thin async adapter over Redis: runs the Lua scripts and reads state.

No rule is decided here: accepting/ordering answers happens in ``lua/answer.lua``,
phase checks in ``lua/transition.lua`` (fed from :mod:`quiz_engine.game.phases`).
Redis connection failures surface as :class:`~quiz_engine.errors.RedisUnavailable`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any, NamedTuple, ParamSpec, TypeVar

import orjson
import redis
import redis.asyncio as aioredis
import redis.exceptions as rexc
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript

from quiz_engine.errors import RedisUnavailable
from quiz_engine.game.phases import Command, Phase, allowed_from, next_phase
from quiz_engine.game.standings import CorrectAnswer, PlayerScore
from quiz_engine.store import keys as K
from quiz_engine.store.keys import EpisodeKeys

P = ParamSpec("P")
T = TypeVar("T")

_REDIS_DOWN = (rexc.ConnectionError, rexc.TimeoutError, OSError)
MAX_REDIS_CONNECTIONS = 200  # per process


def is_cluster(url: str) -> bool:
    """Whether the Redis at ``url`` is a Redis Cluster node (False if it cannot be asked now:
    the store's first real call reports an unreachable Redis)."""
    probe = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return bool(probe.info("cluster").get("cluster_enabled"))
    except (rexc.RedisError, OSError):
        return False
    finally:
        probe.close()


def redis_guard(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Translate Redis connectivity failures into RedisUnavailable."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except _REDIS_DOWN as exc:
            raise RedisUnavailable(f"Redis unavailable: {exc}") from exc
        except rexc.BusyLoadingError as exc:
            raise RedisUnavailable("Redis is loading its data; try again") from exc

    return wrapper


def _script_text(name: str) -> str:
    return resources.files("quiz_engine.store").joinpath("lua", name).read_text("utf-8")


@dataclass(frozen=True)
class Transition:
    ok: bool
    reason: str = ""
    phase: str = ""
    seq: int = 0
    qidx: int = -1
    now_ms: int = 0
    release_at: int = 0
    deadline: int = 0
    retry_in_ms: int = 0


class AnswerRequest(NamedTuple):  # a NamedTuple, not a frozen dataclass: built per answer, 2.5x cheaper
    episode: str
    player: str
    question: int
    option: int
    boot: str
    arrival_mono_us: int
    arrival_est_us: int
    delivery: str  # this node's fan-out record for the player: 'release|start|allowance|lead', or '|||'
    rid: str


class AnswerResult(NamedTuple):
    ok: bool
    reason: str = ""
    response_us: int = -1
    seq: int = 0
    option: int = -1
    retried: bool = False


def _parse_transition(raw: Sequence[Any]) -> Transition:
    if int(raw[0]) == 1:
        return Transition(True, "", str(raw[2]), int(raw[1]), int(raw[3]), int(raw[4]), int(raw[5]), int(raw[6]))
    retry = int(raw[3]) if len(raw) > 3 else 0
    return Transition(False, str(raw[1]), str(raw[2]), retry_in_ms=retry)


def parse_score(player: str, packed: str) -> PlayerScore:
    c, total, last = packed.split("|")
    return PlayerScore(player, int(c), int(total), int(last))


def parse_answer_record(packed: str) -> tuple[int, int, int, str]:
    """(option, response_us, seq, request id) from a stored answer record."""
    o, r, s, rid = packed.split("|", 3)
    return int(o), int(r), int(s), rid


class Store:
    """All Redis I/O of the engine. One instance per process."""

    def __init__(self, client: aioredis.Redis | RedisCluster) -> None:
        # decode_responses=True: every reply is str. redis-py's stubs cannot express that,
        # so the client is typed loosely here and results are converted where they are read.
        self.r: Any = client
        self._answer: AsyncScript = client.register_script(_script_text("answer.lua"))
        self._transition: AsyncScript = client.register_script(_script_text("transition.lua"))
        self._create: AsyncScript = client.register_script(_script_text("create.lua"))
        self._void: AsyncScript = client.register_script(_script_text("void.lua"))
        self._reset: AsyncScript = client.register_script(_script_text("reset.lua"))
        self._dq: AsyncScript = client.register_script(_script_text("disqualify.lua"))
        self._rerun: AsyncScript = client.register_script(_script_text("rerun.lua"))
        self._deliveries: AsyncScript = client.register_script(_script_text("deliveries.lua"))
        self.round_trips = 0  # pipelines/calls sent for answers (for the batching benchmark)

    @classmethod
    def from_url(cls, url: str) -> Store:
        """A store on the Redis at ``url``: a single server, or any node of a Redis Cluster.

        Which of the two is asked of the server itself (``INFO cluster``), so the same
        ``REDIS_URL`` setting works for both. Every key of an episode carries the hash tag
        ``{episode}`` and the scripts only touch one episode, so each runs on one shard.
        """
        retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)
        common: dict[str, Any] = {
            "decode_responses": True, "socket_timeout": 5, "socket_connect_timeout": 3, "retry": retry,
        }
        if is_cluster(url):
            return cls(RedisCluster.from_url(url, **common))
        # A blocking pool: a burst of more concurrent calls than connections waits (up to 5 s)
        # for a free one. redis-py's default pool holds 100 and refuses the 101st with "Too many
        # connections", which reached viewers as "unavailable" on a healthy Redis.
        # After a Redis restart every pooled connection is dead: a command that meets one
        # reconnects and retries (every state change is a script that is safe to repeat:
        # answers carry a request id, transitions check the phase) instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            url, health_check_interval=10, max_connections=MAX_REDIS_CONNECTIONS, timeout=5,
            retry_on_error=[rexc.ConnectionError, rexc.TimeoutError], **common,
        )
        return cls(aioredis.Redis.from_pool(pool))

    async def close(self) -> None:
        await self.r.aclose()

    # --- health and time ---------------------------------------------------------------
    @redis_guard
    async def ping(self) -> bool:
        return bool(await self.r.ping())

    @redis_guard
    async def time_us(self) -> int:
        sec, usec = await self.r.time()
        return int(sec) * 1_000_000 + int(usec)

    # --- show-level -------------------------------------------------------------------
    @redis_guard
    async def shared_value(self, key: str, candidate: str) -> str:
        """Set ``key`` to ``candidate`` unless set; return the stored value (shared by nodes)."""
        await self.r.set(key, candidate, nx=True)
        value = await self.r.get(key)
        return str(value)

    @redis_guard
    async def show(self) -> dict[str, str]:
        return dict(await self.r.hgetall(K.SHOW))

    @redis_guard
    async def set_show(self, **fields: str | int) -> None:
        await self.r.hset(K.SHOW, mapping={k: str(v) for k, v in fields.items()})

    @redis_guard
    async def episodes(self) -> dict[str, dict[str, Any]]:
        raw = await self.r.hgetall(K.EPISODES)
        return {k: orjson.loads(v) for k, v in raw.items()}

    # --- host sessions ------------------------------------------------------------------
    @redis_guard
    async def start_session(self, session: str, ttl_s: int) -> None:
        await self.r.set(K.HOST_SESSION + session, "1", ex=ttl_s)

    @redis_guard
    async def session_exists(self, session: str) -> bool:
        return bool(await self.r.exists(K.HOST_SESSION + session))

    @redis_guard
    async def end_session(self, session: str) -> None:
        await self.r.delete(K.HOST_SESSION + session)

    # --- players ----------------------------------------------------------------------
    @redis_guard
    async def add_player(self, player: str, profile: dict[str, Any]) -> None:
        await self.r.hset(K.PLAYERS, player, orjson.dumps(profile).decode())

    @redis_guard
    async def players(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        values = await self.r.hmget(K.PLAYERS, list(ids))
        return {pid: orjson.loads(v) for pid, v in zip(ids, values, strict=True) if v}

    @redis_guard
    async def all_players(self) -> dict[str, dict[str, Any]]:
        raw = await self.r.hgetall(K.PLAYERS)
        return {k: orjson.loads(v) for k, v in raw.items()}

    # --- episodes ---------------------------------------------------------------------
    @redis_guard
    async def create_episode(
        self, episode: str, meta: dict[str, Any], questions: Sequence[tuple[str, dict[str, Any]]]
    ) -> bool:
        """Create the episode unless it exists; ``questions`` = (spec, public dict) pairs."""
        k = EpisodeKeys(episode)
        args: list[Any] = [orjson.dumps(meta).decode(), len(questions)]
        for spec, public in questions:
            args += [spec, orjson.dumps(public).decode()]
        raw = await self._create(keys=[k.state, k.qspec, k.qpub, k.meta, k.audit], args=args)
        await self.r.hset(K.EPISODES, episode, orjson.dumps(meta).decode())
        return int(raw[0]) == 1

    @redis_guard
    async def state(self, episode: str) -> dict[str, str]:
        return dict(await self.r.hgetall(EpisodeKeys(episode).state))

    @redis_guard
    async def meta(self, episode: str) -> dict[str, Any]:
        raw = await self.r.get(EpisodeKeys(episode).meta)
        return orjson.loads(raw) if raw else {}

    @redis_guard
    async def public_questions(self, episode: str) -> list[dict[str, Any]]:
        raw = await self.r.hgetall(EpisodeKeys(episode).qpub)
        return [orjson.loads(raw[str(i)]) for i in range(len(raw))]

    @redis_guard
    async def question_specs(self, episode: str) -> list[tuple[int, int, int]]:
        """(answer, options, limit_ms) per question: host-only data."""
        raw = await self.r.hgetall(EpisodeKeys(episode).qspec)
        out = []
        for i in range(len(raw)):
            a, n, lim = raw[str(i)].split("|")
            out.append((int(a), int(n), int(lim)))
        return out

    # --- phase changes ----------------------------------------------------------------
    @redis_guard
    async def transition(
        self,
        episode: str,
        command: Command,
        *,
        expect: int = -1,
        delay_ms: int = 0,
        grace_ms: int = 500,
        cap_ms: int = 0,
        auto: bool = False,
        actor: str = "host",
    ) -> Transition:
        k = EpisodeKeys(episode)
        if command in (Command.VOID, Command.RESET, Command.RERUN):
            raise ValueError("use void() / reset() / rerun()")
        sources = allowed_from(command)
        targets = {next_phase(p, command) for p in sources}
        target = targets.pop().value if len(targets) == 1 else ""
        raw = await self._transition(
            keys=[k.state, k.qspec, k.audit],
            args=[command.value, target, ",".join(p.value for p in sources), expect, delay_ms, grace_ms,
                  1 if auto else 0, actor, cap_ms],
        )
        return _parse_transition(raw)

    @redis_guard
    async def void(self, episode: str, question: int, actor: str, reason: str) -> Transition:
        k = EpisodeKeys(episode)
        count = int(await self.r.hget(k.state, "count") or 0)
        sources = allowed_from(Command.VOID)
        raw = await self._void(
            keys=[k.state, k.audit, k.voided, k.stats, k.rank, k.correct(question), k.qspec]
            + [k.answers(i) for i in range(count)],
            args=[question, Phase.CLOSED.value, ",".join(p.value for p in sources), actor, reason],
        )
        return _parse_transition(raw)

    @redis_guard
    async def rerun(self, episode: str, question: int, actor: str) -> Transition:
        k = EpisodeKeys(episode)
        sources = ",".join(p.value for p in allowed_from(Command.RERUN))
        raw = await self._rerun(keys=[k.state, k.audit, k.voided, *k.question_keys(question)],
                                args=[question, sources, actor])
        return _parse_transition(raw)

    @redis_guard
    async def reset(self, episode: str, actor: str) -> Transition:
        k = EpisodeKeys(episode)
        count = int(await self.r.hget(k.state, "count") or 0)
        qkeys = [key for i in range(count) for key in k.question_keys(i)]
        raw = await self._reset(keys=[k.state, k.audit, k.voided, k.stats, k.rank, k.dq, *qkeys], args=[actor])
        return _parse_transition(raw)

    @redis_guard
    async def disqualify(self, episode: str, player: str, reason: str, actor: str) -> bool:
        k = EpisodeKeys(episode)
        packed = orjson.dumps({"reason": reason, "by": actor}).decode() if reason else ""
        return bool(await self._dq(keys=[k.dq, k.audit, k.state], args=[player, packed, actor]))

    # --- answers ----------------------------------------------------------------------
    @redis_guard
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
                reply = await self._answer(
                    keys=[k.state, k.answers(q), k.correct(q), k.counts(q), k.deliveries(q), k.stats, k.rank, k.audit,
                          k.dq],
                    args=args,
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

    @redis_guard
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
            n = int(await self._deliveries(keys=[k.state, k.deliveries(question), k.audit],
                                           args=[boot, question, release_at, start_us, lead_us, packed]))
            if n < 0:
                return -1
            added += n
        return added

    @redis_guard
    async def delivery(self, episode: str, question: int, player: str) -> str | None:
        """A player's stored delivery record ('boot|start|allowance|lead'), if any."""
        raw = await self.r.hget(EpisodeKeys(episode).deliveries(question), player)
        return str(raw) if raw else None

    @redis_guard
    async def delivered_to(self, episode: str, question: int) -> set[str]:
        """Players the question's release fan-out reached while joined (plus, for episodes played
        before the release clock, the first-delivery records they kept)."""
        k = EpisodeKeys(episode)
        return set(await self.r.hkeys(k.deliveries(question))) | set(await self.r.hkeys(k.legacy_sent(question)))

    @redis_guard
    async def player_answer(self, episode: str, question: int, player: str) -> tuple[int, int, int, str] | None:
        raw = await self.r.hget(EpisodeKeys(episode).answers(question), player)
        return parse_answer_record(raw) if raw else None

    # --- results ----------------------------------------------------------------------
    @redis_guard
    async def counts(self, episode: str, question: int, options: int) -> tuple[list[int], int]:
        raw = await self.r.hgetall(EpisodeKeys(episode).counts(question))
        counts = [int(raw.get(str(i), 0)) for i in range(options)]
        return counts, int(raw.get("n", 0))

    @redis_guard
    async def correct_answers(self, episode: str, question: int, limit: int = -1) -> list[CorrectAnswer]:
        """Correct answers in prize order (response time, then arrival)."""
        stop = -1 if limit < 0 else limit - 1
        raw = await self.r.zrange(EpisodeKeys(episode).correct(question), 0, stop, withscores=True)
        out = []
        for player, score in raw:
            s = int(score)
            out.append(CorrectAnswer(player, s // 10_000_000, s % 10_000_000))
        return out

    @redis_guard
    async def scores(self, episode: str) -> list[PlayerScore]:
        raw = await self.r.hgetall(EpisodeKeys(episode).stats)
        return [parse_score(p, v) for p, v in raw.items()]

    @redis_guard
    async def top_scores(self, episode: str, n: int) -> list[PlayerScore]:
        """At least the top ``n`` by the rank index, plus anyone tied with the n-th entry."""
        k = EpisodeKeys(episode)
        raw = await self.r.zrange(k.rank, 0, n - 1, withscores=True)
        if not raw:
            return []
        edge = raw[-1][1]
        ties = await self.r.zrangebyscore(k.rank, edge, edge)
        players = list(dict.fromkeys([p for p, _ in raw] + list(ties)))
        packed = await self.r.hmget(k.stats, players)
        return [parse_score(p, v) for p, v in zip(players, packed, strict=True) if v]

    @redis_guard
    async def player_score(self, episode: str, player: str) -> PlayerScore | None:
        raw = await self.r.hget(EpisodeKeys(episode).stats, player)
        return parse_score(player, raw) if raw else None

    @redis_guard
    async def disqualified(self, episode: str) -> dict[str, dict[str, Any]]:
        raw = await self.r.hgetall(EpisodeKeys(episode).dq)
        return {p: orjson.loads(v) for p, v in raw.items()}

    @redis_guard
    async def voided(self, episode: str) -> set[int]:
        return {int(x) for x in await self.r.smembers(EpisodeKeys(episode).voided)}

    @redis_guard
    async def all_answers(self, episode: str, question: int) -> dict[str, tuple[int, int, int, str]]:
        raw = await self.r.hgetall(EpisodeKeys(episode).answers(question))
        return {p: parse_answer_record(v) for p, v in raw.items()}

    @redis_guard
    async def audit(self, episode: str) -> list[tuple[str, dict[str, str]]]:
        out: list[tuple[str, dict[str, str]]] = []
        last = "-"
        key = EpisodeKeys(episode).audit
        while True:
            chunk = await self.r.xrange(key, min=last, max="+", count=5000)
            if last != "-":
                chunk = chunk[1:]
            if not chunk:
                return out
            out.extend((i, dict(f)) for i, f in chunk)
            last = chunk[-1][0]

    @redis_guard
    async def add_incident(self, incident: dict[str, Any]) -> None:
        await self.r.lpush(K.INCIDENTS, orjson.dumps(incident).decode())
        await self.r.ltrim(K.INCIDENTS, 0, 49)

    @redis_guard
    async def incidents(self, n: int = 10) -> list[dict[str, Any]]:
        return [orjson.loads(x) for x in await self.r.lrange(K.INCIDENTS, 0, n - 1)]

    # --- nodes and events -------------------------------------------------------------
    @redis_guard
    async def heartbeat(self, node: str, counts: dict[str, int], ttl_ms: int, now_ms: int) -> None:
        value = orjson.dumps({**counts, "expires": now_ms + ttl_ms}).decode()
        await self.r.hset(K.NODES, node, value)

    @redis_guard
    async def node_counts(self, now_ms: int, exclude: str = "") -> dict[str, int]:
        """Connection counts summed over live nodes but ``exclude`` (stale nodes are dropped)."""
        raw = await self.r.hgetall(K.NODES)
        total: dict[str, int] = {}
        for node, value in raw.items():
            info = orjson.loads(value)
            if node == exclude:
                continue
            if info.get("expires", 0) < now_ms:
                await self.r.hdel(K.NODES, node)
                continue
            for key, n in info.items():
                if key != "expires":
                    total[key] = total.get(key, 0) + int(n)
        return total

    @redis_guard
    async def publish(self, event: dict[str, Any]) -> None:
        await self.r.publish(K.EVENTS, orjson.dumps(event))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[aioredis.client.PubSub]:
        pubsub = self.r.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(K.EVENTS)
            yield pubsub
        finally:
            with contextlib.suppress(*_REDIS_DOWN):
                await pubsub.aclose()
