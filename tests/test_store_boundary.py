"""The store as one boundary: its own client, its scripts, and what it promises callers.

- every public Store method raises RedisUnavailable when Redis is down (a real redis-server
  stopped in the test), and nothing outside ``store/`` reaches the client;
- settings are seeded only where absent; shared secrets are set once;
- node counts, incidents: one atomic step each;
- the standings index gives the ranks of the standings rule, disqualified players left out.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from quiz_engine.errors import RedisUnavailable
from quiz_engine.game.phases import Command
from quiz_engine.game.standings import rank_standings
from quiz_engine.redis_server import EmbeddedRedis
from quiz_engine.store import scripts
from quiz_engine.store.records import QuestionSpec
from quiz_engine.store.redis_store import AnswerRequest, Store
from tests.conftest import ServerProc

ROOT = Path(__file__).resolve().parents[1]
EP = "b.ep"
QUESTIONS = [(QuestionSpec(1, 4, 15000), {"text": f"q{i}", "options": list("abcd"), "time_limit": 15})
             for i in range(3)]


@pytest.fixture
async def store(fresh_redis: str) -> AsyncIterator[Store]:
    s = Store.from_url(fresh_redis)
    yield s
    await s.close()


# --- Redis down ------------------------------------------------------------------------------
CALLS: dict[str, Callable[[Store], Awaitable[Any]]] = {
    "ping": lambda s: s.ping(),
    "time_us": lambda s: s.time_us(),
    "secret": lambda s: s.secret("x"),
    "host_token": lambda s: s.host_token("x"),
    "show": lambda s: s.show(),
    "seed_show": lambda s: s.seed_show(delay_ms=0, one_prize=False),
    "set_one_prize": lambda s: s.set_one_prize(True),
    "set_prize_rule": lambda s: s.set_prize_rule("ep", True),
    "prize_rule": lambda s: s.prize_rule("ep"),
    "played_count": lambda s: s.played_count("ep"),
    "stored_secret": lambda s: s.stored_secret(),
    "hand_over": lambda s: s.hand_over("ep", "q1", "p1", "ABCD", "host"),
    "handovers": lambda s: s.handovers("ep"),
    "claim_refused": lambda s: s.claim_refused("ep", "unknown_code", "ABCD", "host"),
    "add_sources": lambda s: s.add_sources({"vtv": "Fanpage VTV"}),
    "sources": lambda s: s.sources(),
    "set_delay": lambda s: s.set_delay(1000),
    "episodes": lambda s: s.episodes(),
    "start_session": lambda s: s.start_session("s", 10),
    "session_exists": lambda s: s.session_exists("s"),
    "end_session": lambda s: s.end_session("s"),
    "add_player": lambda s: s.add_player("p", {}),
    "players": lambda s: s.players(["p"]),
    "all_players": lambda s: s.all_players(),
    "load": lambda s: s.load(EP, {}, QUESTIONS),
    "state": lambda s: s.state(EP),
    "meta": lambda s: s.meta(EP),
    "public_questions": lambda s: s.public_questions(EP),
    "question_specs": lambda s: s.question_specs(EP),
    "sync_questions": lambda s: s.sync_questions(EP, {}, QUESTIONS, expect_next=0),
    "transition": lambda s: s.transition(EP, Command.OPEN),
    "disqualify": lambda s: s.disqualify(EP, "p", "why", "host"),
    "answer_batch": lambda s: s.answer_batch([AnswerRequest(EP, "p", 0, 1, "b", 1, 1, "|||", "r")]),
    "record_deliveries": lambda s: s.record_deliveries(EP, 0, 1, "b", 1, 0, [("p", 1)]),
    "delivery": lambda s: s.delivery(EP, 0, "p"),
    "delivered_to": lambda s: s.delivered_to(EP, 0),
    "player_answer": lambda s: s.player_answer(EP, 0, "p"),
    "counts": lambda s: s.counts(EP, 0, 4),
    "correct_answers": lambda s: s.correct_answers(EP, 0),
    "scores": lambda s: s.scores(EP),
    "standings": lambda s: s.standings(EP, 10, ["p"]),
    "disqualified": lambda s: s.disqualified(EP),
    "voided": lambda s: s.voided(EP),
    "all_answers": lambda s: s.all_answers(EP, 0),
    "audit": lambda s: s.audit(EP),
    "add_incident": lambda s: s.add_incident({"node": "n"}),
    "incidents": lambda s: s.incidents(),
    "heartbeat": lambda s: s.heartbeat("n", {"viewer": 1}, 1000, 1),
    "remove_node": lambda s: s.remove_node("n"),
    "node_counts": lambda s: s.node_counts(1),
    "publish": lambda s: s.publish({"kind": "show"}),
}


def test_every_public_method_is_in_the_outage_table() -> None:
    public = {n for n, f in inspect.getmembers(Store, inspect.iscoroutinefunction) if not n.startswith("_")}
    assert public - {"close"} == set(CALLS)


async def test_every_method_raises_redis_unavailable_when_redis_is_down(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "down")
    server.start()
    # no retries (the production client's retries make each refusal take a second)
    client = aioredis.Redis.from_url(server.url, decode_responses=True, retry=Retry(NoBackoff(), 0),
                                     socket_connect_timeout=1)
    store, production = Store(client), Store.from_url(server.url)
    try:
        assert await store.ping() and await production.ping()
        server.stop()
        for name, call in CALLS.items():
            with pytest.raises(RedisUnavailable):
                await call(store)
            assert name  # (which call failed shows in the traceback)
        with pytest.raises(RedisUnavailable):
            async with store.subscribe():
                pass
        with pytest.raises(RedisUnavailable):
            await production.ping()
    finally:
        server.stop()
        await store.close()
        await production.close()


def test_nothing_outside_the_store_reaches_the_redis_client() -> None:
    raw = re.compile(r"\bstore\.r\b|\._r\b|register_script")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "quiz_engine").rglob("*.py")
                 if "store" not in p.relative_to(ROOT / "quiz_engine").parts and raw.search(p.read_text())]
    assert offenders == []


def test_every_script_is_registered_once_with_the_prelude(store: Store) -> None:
    files = {p.stem for p in (ROOT / "quiz_engine" / "store" / "lua").glob("*.lua")} - {"prelude", "contest_lib"}
    assert set(scripts.NAMES) | set(scripts.CONTEST_NAMES) == files
    assert set(scripts.NAMES) == set(store._scripts)
    assert set(scripts.CONTEST_NAMES) == set(store.contest("c")._scripts)
    assert all(scripts.source(n).startswith(scripts.prelude()) for n in (*scripts.NAMES, *scripts.CONTEST_NAMES))


# --- settings and shared values ------------------------------------------------------------------
async def test_settings_are_seeded_only_where_absent(store: Store) -> None:
    assert await store.seed_show(delay_ms=3000, one_prize=True) == {"delay_ms": "3000", "one_prize": "1"}
    # a node restarted with other settings (say --stream-delay 2) keeps what is stored
    assert await store.seed_show(delay_ms=2000, one_prize=False) == {"delay_ms": "3000", "one_prize": "1"}
    assert (await store.load(EP, {}, QUESTIONS)).ok
    assert (await store.set_delay(10_000)).ok  # the host's live delay
    await store.set_one_prize(False)
    show = await store.seed_show(delay_ms=2000, one_prize=True)
    assert (show["delay_ms"], show["one_prize"], show["episode"]) == ("10000", "0", EP)
    assert (await store.state(EP))["delay_ms"] == "10000"


def test_a_restarted_node_keeps_the_delay_the_host_set(make_server: Callable[..., ServerProc]) -> None:
    first = make_server("--load", "test/ep1", "--stream-delay", "2")
    assert first.cmd("settings", delay_s=5).status_code == 200
    first.stop()
    again = make_server("--load", "test/ep1", "--stream-delay", "2")
    with again.host() as host:
        assert host.get("/api/host/state").json()["settings"]["delay_s"] == 5
    opened = again.cmd("open").json()
    assert opened["release_at"] - opened["now"] > 4000  # the question opens with it too


async def test_secret_and_host_token_are_set_once_unless_configured(store: Store) -> None:
    assert await store.secret("first") == "first"
    assert await store.secret("second") == "first"
    assert await store.host_token("generated") == "generated"
    assert await store.host_token("another node's") == "generated"
    assert await store.host_token("configured", replace=True) == "configured"
    assert await store.host_token("generated again") == "configured"


async def test_node_counts_drop_expired_nodes(store: Store, fresh_redis: str) -> None:
    await store.heartbeat("a", {"viewer": 3, "host": 1}, 6000, 1000)
    await store.heartbeat("b", {"viewer": 4, "overlay": 1}, 6000, 1000)
    await store.heartbeat("stale", {"viewer": 100}, 6000, -9000)
    assert await store.node_counts(2000, exclude="a") == {"viewer": 4, "overlay": 1}
    assert await store.node_counts(2000) == {"viewer": 7, "host": 1, "overlay": 1}
    client = aioredis.Redis.from_url(fresh_redis, decode_responses=True)
    assert set(await client.hkeys("qe:nodes")) == {"a", "b"}  # the stale one is gone
    await store.remove_node("b")
    assert await store.node_counts(2000) == {"viewer": 3, "host": 1}
    await client.aclose()


async def test_incidents_keep_the_newest(store: Store) -> None:
    for i in range(60):
        shown = await store.add_incident({"n": i})
    assert [x["n"] for x in shown] == list(range(59, 49, -1))
    assert len(await store.incidents(100)) == 50


# --- standings from the index ------------------------------------------------------------------------
async def test_the_standings_index_ranks_like_the_rule(store: Store) -> None:
    assert (await store.load(EP, {}, QUESTIONS)).ok
    players = [f"p{i:02d}" for i in range(30)]
    rid = iter(range(10**6))
    for q in range(3):
        t = await store.transition(EP, Command.OPEN)
        release_us = t.release_at * 1000
        batch = []
        for i, p in enumerate(players):
            option = 1 if (i + q) % 3 else 2  # two in three right
            resp = 1_000_000 + (i % 5) * 250_000  # plenty of ties on time: arrival order decides
            batch.append(AnswerRequest(EP, p, q, option, "n1", 0, release_us + resp, "|||", f"r{next(rid)}"))
        assert all(r.ok for r in await store.answer_batch(batch))
        assert (await store.transition(EP, Command.CLOSE)).ok
        if q == 1:  # a void folds the totals again, through the same index
            assert (await store.transition(EP, Command.VOID)).ok
    for p in ("p03", "p07", "p11"):
        await store.disqualify(EP, p, "two accounts", "host")
    expected = rank_standings(await store.scores(EP), await store.disqualified(EP))
    board = await store.standings(EP, 10, players)
    assert board.ranked == len(expected)
    assert board.top == expected[:10]
    assert board.mine == {s.score.player: s for s in expected}
    await store.disqualify(EP, "p03", "", "host")  # reinstated: ranked again
    expected = rank_standings(await store.scores(EP), await store.disqualified(EP))
    board = await store.standings(EP, len(players), ["p03"])
    assert board.top == expected and board.mine["p03"] in expected
    reset = await store.transition(EP, Command.RESET, confirm=EP)
    assert reset.ok and (await store.standings(EP, 10, players)).ranked == 0


async def test_an_episode_scored_before_the_index_gets_one(store: Store, fresh_redis: str) -> None:
    client = aioredis.Redis.from_url(fresh_redis, decode_responses=True)
    await client.hset(f"qe:{{{EP}}}:stats", mapping={"old1": "2|300|10000001", "old2": "2|300|2", "old3": "1|5|3"})
    board = await store.standings(EP, 2, ["old3"])
    assert [s.score.player for s in board.top] == ["old2", "old1"] and board.mine["old3"].rank == 3
    await client.aclose()


async def test_every_step_runs_on_redis_cluster(redis_cluster: Any) -> None:
    """Each script touches one hash slot; the show-level steps of load and set_delay too."""
    redis_cluster.flush()
    store = Store.from_url(redis_cluster.url)
    try:
        assert await store.seed_show(delay_ms=2000, one_prize=False) == {"delay_ms": "2000", "one_prize": "0"}
        assert await store.secret("s") == "s" and await store.host_token("t") == "t"
        assert (await store.load(EP, {"bank": "b"}, QUESTIONS)).delay_ms == 2000
        assert (await store.set_delay(0)).ok
        t = await store.transition(EP, Command.OPEN, cap_ms=1000)
        assert t.ok and t.release_at == t.now_ms
        assert await store.record_deliveries(EP, 0, t.release_at, "n1", 10, 0, [("p", 5)]) == 1
        [ok] = await store.answer_batch([AnswerRequest(EP, "p", 0, 1, "n2", 0, t.release_at * 1000 + 9, "|||", "r1")])
        assert ok.ok and ok.response_us == 4
        refused = await store.load("b.other", {"bank": "b"}, QUESTIONS)
        assert (refused.ok, refused.reason) == (False, "phase")
        assert (await store.transition(EP, Command.CLOSE)).ok
        assert (await store.transition(EP, Command.VOID)).ok and (await store.transition(EP, Command.RERUN)).ok
        assert (await store.sync_questions(EP, {"bank": "b"}, QUESTIONS[:2], expect_next=0)).changed == (2,)
        await store.disqualify(EP, "p", "why", "host")
        assert (await store.standings(EP, 10, ["p"])).ranked == 0
        assert (await store.transition(EP, Command.RESET, confirm=EP)).ok
        assert (await store.load("b.other", {"bank": "b"}, QUESTIONS)).ok
        assert (await store.transition(EP, Command.OPEN)).reason == "not_loaded"
        assert set(await store.episodes()) == {EP, "b.other"}
        await store.heartbeat("n1", {"viewer": 2}, 6000, 1000)
        assert await store.node_counts(2000) == {"viewer": 2}
        await store.remove_node("n1")
        assert [x["n"] for x in await store.add_incident({"n": 1})] == [1]
        assert [f["e"] for _, f in await store.audit(EP)][:3] == ["create", "load", "delay"]
    finally:
        await store.close()
