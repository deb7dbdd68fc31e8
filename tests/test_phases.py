"""The phase table: every (phase, command) pair is either allowed with a known target or refused."""

import pytest

from quiz_engine.errors import PhaseError
from quiz_engine.game.phases import TRANSITIONS, Command, Phase, allowed_commands, allowed_from, next_phase

P, C = Phase, Command

# Expected outcome of every pair; None = refused with 409.
TABLE: dict[Phase, dict[Command, Phase | None]] = {
    P.LOBBY: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: P.LOBBY,
              C.VOID: None, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: None},
    P.QUESTION: {C.OPEN: None, C.CLOSE: P.CLOSED, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: None,
                 C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: None},
    P.CLOSED: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: P.REVEALED, C.LEADERBOARD: P.LEADERBOARD,
               C.SKIP: P.CLOSED, C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY, C.RERUN: P.CLOSED},
    P.REVEALED: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: P.LEADERBOARD,
                 C.SKIP: P.REVEALED, C.VOID: P.CLOSED, C.FINISH: P.FINISHED, C.RESET: P.LOBBY,
                 C.RERUN: P.REVEALED},
    P.LEADERBOARD: {C.OPEN: P.QUESTION, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None,
                    C.SKIP: P.LEADERBOARD, C.VOID: None, C.FINISH: P.FINISHED, C.RESET: P.LOBBY,
                    C.RERUN: P.LEADERBOARD},
    P.FINISHED: {C.OPEN: None, C.CLOSE: None, C.REVEAL: None, C.LEADERBOARD: None, C.SKIP: None,
                 C.VOID: None, C.FINISH: None, C.RESET: P.LOBBY, C.RERUN: None},
}


@pytest.mark.parametrize(("phase", "command"), [(p, c) for p in Phase for c in Command])
def test_every_pair(phase: Phase, command: Command) -> None:
    expected = TABLE[phase][command]
    if expected is None:
        with pytest.raises(PhaseError) as err:
            next_phase(phase, command)
        assert err.value.phase == phase.value and command.value in err.value.reason
        assert command not in allowed_commands(phase)
    else:
        assert next_phase(phase, command) is expected
        assert command in allowed_commands(phase)
        assert phase in allowed_from(command)


def test_table_has_nothing_unexpected() -> None:
    listed = {(p, c) for p, row in TABLE.items() for c, target in row.items() if target is not None}
    assert set(TRANSITIONS) == listed
