"""Episode phases and the host commands that move between them, as one table.

The table is the single statement of what is allowed; the Redis transition script is
given the allowed source phases from here and checks them atomically, so two nodes (or a
double press on a Stream Deck) can never both apply a command.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from quiz_engine.errors import PhaseError


class Phase(StrEnum):
    LOBBY = "lobby"
    QUESTION = "question"  # open: answers accepted from release_at until deadline + grace
    CLOSED = "closed"  # answers locked; correct option not yet revealed
    REVEALED = "revealed"  # correct option, distribution and fastest responder shown
    LEADERBOARD = "leaderboard"
    FINISHED = "finished"


class Command(StrEnum):
    OPEN = "open"  # open the next question
    CLOSE = "close"  # close early (the timer sends the same command at the deadline)
    REVEAL = "reveal"
    LEADERBOARD = "leaderboard"
    SKIP = "skip"  # do not play the next question
    VOID = "void"  # cancel the current question: its answers stop counting
    FINISH = "finish"
    RERUN = "rerun"  # make a voided question the next one to open, answers wiped
    RESET = "reset"  # wipe the episode's results (needs explicit confirmation)


_BETWEEN: Final = (Phase.LOBBY, Phase.CLOSED, Phase.REVEALED, Phase.LEADERBOARD)

#: (phase, command) -> next phase.  Anything missing is refused with HTTP 409.
TRANSITIONS: Final[dict[tuple[Phase, Command], Phase]] = {
    **{(p, Command.OPEN): Phase.QUESTION for p in _BETWEEN},
    **{(p, Command.SKIP): p for p in _BETWEEN},
    (Phase.QUESTION, Command.CLOSE): Phase.CLOSED,
    (Phase.QUESTION, Command.VOID): Phase.CLOSED,
    (Phase.CLOSED, Command.VOID): Phase.CLOSED,
    (Phase.REVEALED, Command.VOID): Phase.CLOSED,
    (Phase.CLOSED, Command.REVEAL): Phase.REVEALED,
    (Phase.REVEALED, Command.LEADERBOARD): Phase.LEADERBOARD,
    (Phase.CLOSED, Command.LEADERBOARD): Phase.LEADERBOARD,
    **{(p, Command.RERUN): p for p in (Phase.CLOSED, Phase.REVEALED, Phase.LEADERBOARD)},
    **{(p, Command.FINISH): Phase.FINISHED for p in (Phase.QUESTION, *_BETWEEN)},
    **{(p, Command.RESET): Phase.LOBBY for p in Phase},
}


def allowed_from(command: Command) -> tuple[Phase, ...]:
    """Phases in which ``command`` is allowed (what the Redis script checks)."""
    return tuple(p for (p, c) in TRANSITIONS if c is command)


def next_phase(phase: Phase, command: Command) -> Phase:
    """The phase after ``command``; PhaseError when the table has no such move."""
    try:
        return TRANSITIONS[(phase, command)]
    except KeyError:
        raise PhaseError(phase.value, command.value) from None


def allowed_commands(phase: Phase) -> list[Command]:
    """Commands the host panel should enable in ``phase``."""
    return [c for c in Command if (phase, c) in TRANSITIONS]
