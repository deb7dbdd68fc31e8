"""The phase machine as Redis applies it: every command in every phase, and every guard.

Each command goes straight to a Store (no runner, no mirror): what is refused here is
refused by the scripts, against the stored state. Load, stream delay and season sync are
refused while a question is open even when sent from a second Store (another node).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from quiz_engine.game.phases import MACHINE, Command, Phase, refusal
from quiz_engine.store.keys import EpisodeKeys
from quiz_engine.store.records import QuestionSpec
from quiz_engine.store.redis_store import Store, Transition

EP, OTHER = "m.ep1", "m.ep2"
QUESTIONS = [(QuestionSpec(i % 3, 3, 15000), {"text": f"q{i}", "options": ["a", "b", "c"], "time_limit": 15})
             for i in range(3)]
META = {"title": "machine"}

# how to bring a freshly loaded episode into each phase
ROUTE: dict[Phase, list[Command]] = {
    Phase.LOBBY: [],
    Phase.QUESTION: [Command.OPEN],
    Phase.CLOSED: [Command.OPEN, Command.CLOSE],
    Phase.REVEALED: [Command.OPEN, Command.CLOSE, Command.REVEAL],
    Phase.LEADERBOARD: [Command.OPEN, Command.CLOSE, Command.LEADERBOARD],
    Phase.FINISHED: [Command.FINISH],
}
# the same with the question voided (what a rerun needs)
VOIDED_ROUTE: dict[Phase, list[Command]] = {
    Phase.CLOSED: [Command.OPEN, Command.CLOSE, Command.VOID],
    Phase.REVEALED: [Command.OPEN, Command.CLOSE, Command.VOID, Command.REVEAL],
    Phase.LEADERBOARD: [Command.OPEN, Command.CLOSE, Command.VOID, Command.LEADERBOARD],
}


@pytest.fixture
async def store(fresh_redis: str) -> AsyncIterator[Store]:
    s = Store.from_url(fresh_redis)
    assert (await s.load(EP, META, QUESTIONS)).ok
    yield s
    await s.close()


@pytest.fixture
async def other(fresh_redis: str) -> AsyncIterator[Store]:
    """A second store on the same Redis: another node."""
    s = Store.from_url(fresh_redis)
    yield s
    await s.close()



async def enter(store: Store, phase: Phase, route: list[Command] | None = None) -> None:
    for command in ROUTE[phase] if route is None else route:
        assert (await store.transition(EP, command)).ok, (phase, command)
    assert (await store.state(EP))["phase"] == phase.value


async def issue(store: Store, command: Command, **request: Any) -> Transition:
    """Send ``command`` for EP the way its caller would."""
    if command is Command.LOAD:
        return await store.load(OTHER, META, QUESTIONS)
    if command is Command.SET_DELAY:
        return await store.set_delay(7000)
    if command is Command.PRIZE_RULE:
        return await store.set_prize_rule(EP, False)
    if command is Command.SYNC:
        nxt = int((await store.state(EP))["next"])
        synced = await store.sync_questions(EP, META, QUESTIONS, expect_next=request.get("expect", nxt))
        return Transition(synced.ok, synced.reason, synced.phase, message=synced.message)
    return await store.transition(EP, command, **{"confirm": EP, **request})


async def snapshot(store: Store, raw: aioredis.Redis) -> tuple[Any, ...]:
    k = EpisodeKeys(EP)
    return (await store.state(EP), await store.show(), await raw.xlen(k.audit), await store.question_specs(EP),
            await store.voided(EP))


FORBIDDEN = [(p, c) for c, rule in MACHINE.items() for p in Phase if p not in rule.moves]


@pytest.mark.parametrize(("phase", "command"), FORBIDDEN, ids=[f"{p}-{c}" for p, c in FORBIDDEN])
async def test_every_command_is_refused_in_every_phase_the_table_forbids(
    store: Store, raw: aioredis.Redis, phase: Phase, command: Command
) -> None:
    await enter(store, phase)
    before = await snapshot(store, raw)
    result = await issue(store, command)
    expected = refusal(command, "phase", phase.value, EP)
    assert (result.ok, result.reason, result.phase, result.message) == (False, expected.code, phase.value,
                                                                        expected.message)
    assert await snapshot(store, raw) == before  # nothing changed, not even the audit stream


ALLOWED = [(p, c) for c, rule in MACHINE.items() for p in rule.moves if c is not Command.TIMEOUT]


@pytest.mark.parametrize(("phase", "command"), ALLOWED, ids=[f"{p}-{c}" for p, c in ALLOWED])
async def test_every_allowed_command_leads_where_the_table_says(store: Store, phase: Phase, command: Command) -> None:
    await enter(store, phase, VOIDED_ROUTE[phase] if command is Command.RERUN else None)  # guard is_voided
    result = await issue(store, command)
    assert result.ok, result
    state = await store.state(OTHER if command is Command.LOAD else EP)
    target = MACHINE[command].moves[phase]
    if command is Command.LOAD:
        assert (await store.state(EP))["phase"] == phase.value and (await store.state(EP))["parked"] == "1"
        assert (await store.show())["episode"] == OTHER and state["phase"] == "lobby"
    else:
        assert state["phase"] == target.value


async def test_load_delay_and_sync_are_refused_while_a_question_is_open_from_another_node(
    store: Store, other: Store
) -> None:
    assert (await store.set_delay(3000)).ok
    assert (await store.transition(EP, Command.OPEN)).ok
    specs = await store.question_specs(EP)
    loaded = await other.load(OTHER, META, QUESTIONS)
    assert (loaded.ok, loaded.reason, loaded.phase) == (False, "phase", "question")
    assert loaded.message == "close the open question before loading another episode"
    assert (await other.load(EP, META, QUESTIONS)).reason == "phase"  # reloading it too
    delay = await other.set_delay(9000)
    assert (delay.ok, delay.reason, delay.message) == (False, "phase", "change the stream delay between questions")
    changed = [QUESTIONS[0], *[(QuestionSpec(2, 3, 9000), {"text": "new", "options": ["a", "b", "c"],
                                                           "time_limit": 9})] * 2]  # question 1 was played
    synced = await other.sync_questions(EP, META, changed, expect_next=1)
    assert (synced.ok, synced.reason) == (False, "phase") and "open right now" in synced.message
    # nothing moved: still the same episode, delay and questions; the other episode not created
    show = await store.show()
    assert (show["episode"], show["delay_ms"]) == (EP, "3000")
    assert (await store.state(EP))["delay_ms"] == "3000"
    assert await store.question_specs(EP) == specs
    assert await store.state(OTHER) == {}
    # between questions all three go through
    assert (await store.transition(EP, Command.CLOSE)).ok
    assert (await other.set_delay(9000)).ok
    assert (await other.sync_questions(EP, META, changed, expect_next=1)).changed == (1, 2)
    assert (await other.load(OTHER, META, QUESTIONS)).ok


async def test_a_parked_episode_refuses_commands_from_a_stale_node(store: Store, other: Store) -> None:
    """Once another episode is loaded, a node whose mirror still shows the old one cannot act on it."""
    assert (await store.set_delay(4000)).ok
    loaded = await other.load(OTHER, META, QUESTIONS)
    assert loaded.ok and loaded.created and loaded.delay_ms == 4000  # the delay follows the show
    stale = await store.transition(EP, Command.OPEN)
    assert (stale.ok, stale.reason) == (False, "not_loaded")
    assert (await store.transition(EP, Command.RESET, confirm=EP)).reason == "not_loaded"
    assert (await store.state(EP))["phase"] == "lobby"
    # loading it again makes it the loaded one; the other is parked in turn
    again = await store.load(EP, META, QUESTIONS)
    assert again.ok and not again.created
    assert (await store.transition(EP, Command.OPEN)).ok
    assert (await other.transition(OTHER, Command.OPEN)).reason == "not_loaded"


async def test_guards(store: Store, raw: aioredis.Redis) -> None:
    assert (await store.transition(EP, Command.OPEN, expect=1)).reason == "stale"  # expect_next
    assert (await store.transition(EP, Command.SKIP, expect=2)).reason == "stale"
    assert (await store.transition(EP, Command.OPEN, expect=0)).ok
    assert (await store.transition(EP, Command.CLOSE, expect=1)).reason == "stale"  # expect_current
    early = await store.transition(EP, Command.TIMEOUT, expect=0)  # deadline_passed
    assert (early.ok, early.reason) == (False, "too_early") and 14_000 < early.retry_in_ms <= 15_500
    assert (await store.transition(EP, Command.CLOSE, auto=True)).reason == "too_early"  # the timer's spelling
    now_ms = await store.time_us() // 1000
    await raw.hset(EpisodeKeys(EP).state, mapping={"deadline": now_ms - 600, "grace": 500})
    assert (await store.transition(EP, Command.TIMEOUT, expect=0)).ok
    assert (await store.transition(EP, Command.TIMEOUT, expect=0)).reason == "already_closed"
    assert (await store.transition(EP, Command.RERUN)).reason == "not_voided"  # is_voided
    assert (await store.transition(EP, Command.VOID, expect=1)).reason == "stale"
    assert (await store.transition(EP, Command.VOID)).ok
    assert (await store.transition(EP, Command.VOID)).reason == "already_voided"  # not_voided
    wrong = await store.transition(EP, Command.RESET, confirm="m.ep9")  # confirm_matches
    assert (wrong.ok, wrong.reason) == (False, "phase")
    assert wrong.message == f"reset needs confirm='{EP}' (wipes all results)"
    assert (await store.transition(EP, Command.RERUN, expect=0)).ok
    assert (await store.state(EP))["next"] == "0"
    for _ in range(3):
        assert (await store.transition(EP, Command.SKIP)).ok
    assert (await store.transition(EP, Command.OPEN)).reason == "no_more_questions"  # has_next
    assert (await store.transition(EP, Command.SKIP)).reason == "no_more_questions"
    missing = await store.transition("m.none", Command.OPEN)
    assert (missing.ok, missing.reason, missing.message) == (False, "no_episode", "no episode loaded")


async def test_sync_merged_against_a_stale_next_is_refused(store: Store) -> None:
    assert (await store.transition(EP, Command.SKIP)).ok
    stale = await store.sync_questions(EP, META, QUESTIONS, expect_next=0)
    assert (stale.ok, stale.reason) == (False, "stale")
    assert (await store.sync_questions(EP, META, QUESTIONS, expect_next=1)).ok


async def test_the_delay_an_episode_opens_with_is_its_own(store: Store, other: Store) -> None:
    """set_delay changes the loaded episode's delay atomically with the phase check: the next
    open, on any node, uses it, whatever delay that node's mirror passes."""
    assert (await other.set_delay(6000)).ok
    t = await store.transition(EP, Command.OPEN, delay_ms=1000)  # a stale node's idea of the delay
    assert t.release_at - t.now_ms == 6000
    audit = [f for _, f in await store.audit(EP) if f.get("e") == "delay"]
    assert [f["ms"] for f in audit] == ["6000"]


async def test_the_prize_rule_is_the_episodes_own_and_fixed_once_it_starts(store: Store) -> None:
    """An episode is created under the show's rule (default: one prize per person), may change it
    only before its first question, and the audit records each choice (verify replays it)."""
    assert await store.prize_rule(EP) is True
    assert (await store.set_prize_rule(EP, False)).ok
    assert await store.prize_rule(EP) is False
    assert (await store.transition(EP, Command.SKIP)).ok  # a skipped question counts as started
    refused = await store.set_prize_rule(EP, True)
    assert (refused.ok, refused.reason) == (False, "started")
    assert await store.prize_rule(EP) is False
    events = [(e["e"], e.get("one_prize")) for _, e in await store.audit(EP)]
    assert ("create", "1") in events and ("prize_rule", "0") in events
    assert (await store.transition(EP, Command.RESET, confirm=EP)).ok  # a reset frees it again
    assert (await store.set_prize_rule(EP, True)).ok
