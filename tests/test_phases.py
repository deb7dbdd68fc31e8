"""The phase table: every (phase, command) pair is either allowed with a known target or refused."""

import pytest

from quiz_engine.errors import PhaseError
from quiz_engine.game.phases import (
    BUTTONS,
    GUARD_REFUSALS,
    MACHINE,
    TRANSITIONS,
    Command,
    Guard,
    Phase,
    allowed_commands,
    allowed_from,
    next_phase,
    next_step,
    refusal,
)

P, C = Phase, Command

# Expected outcome of every pair; None = refused with 409.
# Not buttons: TIMEOUT (the close timer), LOAD (checked on the outgoing episode), SET_DELAY, SYNC,
# PRIZE_RULE (a setting of the panel), HANDOVER (the prize desk).
TABLE: dict[Phase, dict[Command, Phase | None]] = {
    P.LOBBY: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: P.LOBBY,
              C.VOID: None, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: None,
              C.TIMEOUT: None, C.LOAD: P.LOBBY, C.SET_DELAY: P.LOBBY, C.SYNC: P.LOBBY,
              C.PRIZE_RULE: P.LOBBY, C.HANDOVER: None},
    P.QUESTION: {C.OPEN: None, C.CLOSE: P.CLOSED, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: None,
                 C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: None,
                 C.TIMEOUT: P.CLOSED, C.LOAD: None, C.SET_DELAY: None, C.SYNC: None, C.PRIZE_RULE: None,
                 C.HANDOVER: None},
    P.CLOSED: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: P.REVEALED, C.LEADERBOARD: P.LEADERBOARD,
               C.SKIP: P.CLOSED, C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: P.CLOSED,
               C.TIMEOUT: None, C.LOAD: P.CLOSED, C.SET_DELAY: P.CLOSED, C.SYNC: P.CLOSED, C.PRIZE_RULE: None,
               C.HANDOVER: None},
    P.REVEALED: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: P.LEADERBOARD,
                 C.SKIP: P.REVEALED, C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY,
                 C.RERUN: P.REVEALED,
                 C.TIMEOUT: None, C.LOAD: P.REVEALED, C.SET_DELAY: P.REVEALED, C.SYNC: P.REVEALED, C.PRIZE_RULE: None,
                 C.HANDOVER: None},
    P.LEADERBOARD: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None,
                    C.SKIP: P.LEADERBOARD, C.VOID: None, C.FINISH: P.FINISHED, C.RESET: P.LOBBY,
                    C.RERUN: P.LEADERBOARD,
                    C.TIMEOUT: None, C.LOAD: P.LEADERBOARD, C.SET_DELAY: P.LEADERBOARD, C.SYNC: P.LEADERBOARD,
                    C.PRIZE_RULE: None, C.HANDOVER: None},
    P.FINISHED: {C.OPEN: None, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: None,
                 C.VOID: None, C.FINISH: None, C.RESET: P.LOBBY, C.RERUN: None,
                 C.TIMEOUT: None, C.LOAD: P.FINISHED, C.SET_DELAY: P.FINISHED, C.SYNC: P.FINISHED, C.PRIZE_RULE: None,
                 C.HANDOVER: P.FINISHED},
}
NOT_BUTTONS = {C.TIMEOUT, C.LOAD, C.SET_DELAY, C.SYNC, C.PRIZE_RULE, C.HANDOVER}


@pytest.mark.parametrize(("phase", "command"), [(p, c) for p in Phase for c in Command])
def test_every_pair(phase: Phase, command: Command) -> None:
    expected = TABLE[phase][command]
    if expected is None:
        with pytest.raises(PhaseError) as err:
            next_phase(phase, command)
        assert err.value.phase == phase.value and command.value in err.value.reason
        assert command not in allowed_commands(phase)
        assert phase not in allowed_from(command)
    else:
        assert next_phase(phase, command) is expected
        assert (command in allowed_commands(phase)) == (command not in NOT_BUTTONS)
        assert phase in allowed_from(command)


def test_table_has_nothing_unexpected() -> None:
    listed = {(p, c) for p, row in TABLE.items() for c, target in row.items() if target is not None}
    assert set(TRANSITIONS) == listed
    assert set(MACHINE) == set(Command)
    assert set(BUTTONS) == set(Command) - NOT_BUTTONS


def test_every_guard_has_a_refusal_and_the_refusals_keep_their_codes() -> None:
    assert set(GUARD_REFUSALS) == set(Guard)
    codes = {g: refusal(C.OPEN, g.value, "lobby").code for g in Guard}
    assert codes == {
        Guard.LOADED: "not_loaded", Guard.HAS_NEXT: "no_more_questions", Guard.EXPECT_NEXT: "stale",
        Guard.EXPECT_CURRENT: "stale", Guard.DEADLINE_PASSED: "too_early", Guard.NOT_VOIDED: "already_voided",
        Guard.IS_VOIDED: "not_voided", Guard.CONFIRM_MATCHES: "phase", Guard.NONE_PLAYED: "started",
        Guard.NONE_HANDED_OVER: "handed_over",
    }
    assert refusal(C.REVEAL, "phase", "lobby").message == "'reveal' is not allowed in phase 'lobby'"
    assert refusal(C.TIMEOUT, "phase", "closed").code == "already_closed"
    assert refusal(C.RESET, "confirm_matches", "closed", "b.e1").message == (
        "reset needs confirm='b.e1' (wipes all results)")
    assert refusal(C.LOAD, "phase", "question").message == "close the open question before loading another episode"
    assert refusal(C.SET_DELAY, "phase", "question").message == "change the stream delay between questions"
    assert "open right now" in refusal(C.SYNC, "phase", "question", "b.e1").message
    assert refusal(C.OPEN, "no_episode", "").code == "no_episode"


def test_buttons_follow_the_guards_the_panel_knows() -> None:
    # after the last question nothing is left to open or skip; only a voided question re-runs
    facts = {Guard.HAS_NEXT: False, Guard.IS_VOIDED: False, Guard.NOT_VOIDED: True}
    assert allowed_commands(P.REVEALED, facts) == [C.LEADERBOARD, C.VOID, C.FINISH, C.RESET]
    assert C.RERUN in allowed_commands(P.CLOSED, {Guard.IS_VOIDED: True, Guard.NOT_VOIDED: False})
    assert C.VOID not in allowed_commands(P.CLOSED, {Guard.IS_VOIDED: True, Guard.NOT_VOIDED: False})


@pytest.mark.parametrize(("phase", "facts", "step"), [
    (P.LOBBY, {}, C.OPEN),
    (P.QUESTION, {}, C.CLOSE),
    (P.CLOSED, {Guard.IS_VOIDED: False}, C.REVEAL),  # the bug: the panel still highlighted "open"
    (P.CLOSED, {Guard.IS_VOIDED: True, Guard.NOT_VOIDED: False}, C.RERUN),
    (P.REVEALED, {Guard.IS_VOIDED: False}, C.OPEN),
    (P.REVEALED, {Guard.HAS_NEXT: False, Guard.IS_VOIDED: False}, C.LEADERBOARD),
    (P.LEADERBOARD, {Guard.HAS_NEXT: False, Guard.IS_VOIDED: False}, C.FINISH),
    (P.FINISHED, {}, None),
])
def test_next_step_is_the_one_sensible_command(phase: Phase, facts: dict[Guard, bool], step: Command | None) -> None:
    allowed = allowed_commands(phase, facts)
    assert next_step(phase, allowed) is step
    assert step is None or step in allowed


def test_a_rerun_question_is_opened_next() -> None:
    allowed = allowed_commands(P.CLOSED, {Guard.IS_VOIDED: False})
    assert next_step(P.CLOSED, allowed, replay=True) is C.OPEN
