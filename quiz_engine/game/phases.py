"""Episode phases and every command that acts on them: one table, the single statement of
what is allowed (h11's rule: everything that affects the state machine lives here).

:data:`MACHINE` maps each command to a :class:`Rule`: the phases it may be issued in, the
phase it leads to, the named guards that must also hold, and the audit event it writes.
The Redis scripts never name a phase or a guard themselves: ``store/scripts.py`` renders
this table into the Lua prelude every script is registered with, and the prelude's
``machine_check`` applies it to the stored state, atomically, in the same script that makes
the change. So two nodes (or a double press on a Stream Deck) can never both apply a
command, and a node's possibly stale mirror of the state is never what decides.

======================  =====================================  ==========================
command                 from -> to                             guards
======================  =====================================  ==========================
open                    lobby/closed/revealed/leaderboard      loaded, has_next,
                        -> question                            expect_next
skip                    lobby/closed/revealed/leaderboard      loaded, has_next,
                        (stays)                                expect_next
close (host)            question -> closed                     loaded, expect_current
timeout (close timer)   question -> closed                     expect_current,
                                                               deadline_passed
reveal                  closed -> revealed                     loaded, expect_current
leaderboard             closed/revealed -> leaderboard         loaded, expect_current
void                    question/closed/revealed -> closed     loaded, expect_current,
                                                               not_voided
finish                  any but finished -> finished           loaded, expect_current
rerun                   closed/revealed/leaderboard (stays)    loaded, is_voided
reset                   any -> lobby                           loaded, confirm_matches,
                                                               none_handed_over
load (outgoing ep.)     any but question (stays)               —
set_delay               any but question (stays)               loaded
sync                    any but question (stays)               expect_next
prize_rule              lobby (stays)                          loaded, none_played
handover                finished (stays)                       —
======================  =====================================  ==========================

Guards (implemented in ``store/lua/prelude.lua``, one Lua predicate per name):

- ``loaded``: the episode is the show's loaded one (a ``load`` of another episode parks it).
- ``has_next``: a question is left to open or skip.
- ``expect_next`` / ``expect_current``: the question index the command was sent for, if
  given, is the next / the current one, so a late duplicate press never skips a question
  (``sync`` passes the ``next`` it merged the episode's metadata against).
- ``deadline_passed``: the timer closes at deadline + grace by Redis's clock, never earlier.
- ``not_voided`` / ``is_voided``: void once; only a voided question can be re-run.
- ``confirm_matches``: a reset names the episode it wipes.
- ``none_played``: no question has been opened or skipped yet (the prize rule an episode is
  played under is fixed from its first question on; a reset frees it again).
- ``none_handed_over``: no prize of the episode has been handed over (``handover``): a reset
  would wipe the results the prizes were given for.

``handover`` records a prize given to its winner at the prize desk (``claims.py``); it is
checked in ``handover.lua``, which also refuses a disqualified player and a prize already
handed over.

Each refusal has a reason code (the API's ``reason``) and a message: :func:`refusal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    CLOSE = "close"  # close early
    REVEAL = "reveal"
    LEADERBOARD = "leaderboard"
    SKIP = "skip"  # do not play the next question
    VOID = "void"  # cancel the current question: its answers stop counting
    FINISH = "finish"
    RERUN = "rerun"  # make a voided question the next one to open, answers wiped
    RESET = "reset"  # wipe the episode's results (needs explicit confirmation)
    TIMEOUT = "timeout"  # the close timer at deadline + grace (any node's; applies once)
    LOAD = "load"  # load another episode: checked on the one loaded now
    SET_DELAY = "set_delay"  # change the stream delay
    SYNC = "sync"  # season sync: replace the episode's unplayed questions
    PRIZE_RULE = "prize_rule"  # one question prize per person, or not: chosen before the first question
    HANDOVER = "handover"  # a prize handed over at the prize desk (once the episode is finished)


class Guard(StrEnum):
    LOADED = "loaded"
    HAS_NEXT = "has_next"
    EXPECT_NEXT = "expect_next"
    EXPECT_CURRENT = "expect_current"
    DEADLINE_PASSED = "deadline_passed"
    NOT_VOIDED = "not_voided"
    IS_VOIDED = "is_voided"
    CONFIRM_MATCHES = "confirm_matches"
    NONE_PLAYED = "none_played"
    NONE_HANDED_OVER = "none_handed_over"


@dataclass(frozen=True)
class Refusal:
    code: str  # machine-readable reason (API ``reason``, PhaseError.code)
    message: str  # may name {command}, {phase} and {episode}


@dataclass(frozen=True)
class Rule:
    moves: Mapping[Phase, Phase]  # allowed source phase -> next phase
    guards: tuple[Guard, ...] = ()
    button: bool = True  # a host button: /api/host/<command>, listed in the host state's "allowed"
    event: str = ""  # the audit event written when applied ('' = the command's name)
    wrong_phase: Refusal | None = None  # refusal when the phase is not a source (default: "phase")


_BETWEEN: Final = (Phase.LOBBY, Phase.CLOSED, Phase.REVEALED, Phase.LEADERBOARD)
_NOT_OPEN: Final = tuple(p for p in Phase if p is not Phase.QUESTION)


def _stay(phases: tuple[Phase, ...]) -> dict[Phase, Phase]:
    return {p: p for p in phases}


G = Guard

#: The one phase machine. Anything not listed is refused (HTTP 409).
MACHINE: Final[Mapping[Command, Rule]] = {
    Command.OPEN: Rule({p: Phase.QUESTION for p in _BETWEEN}, (G.LOADED, G.HAS_NEXT, G.EXPECT_NEXT)),
    Command.SKIP: Rule(_stay(_BETWEEN), (G.LOADED, G.HAS_NEXT, G.EXPECT_NEXT)),
    Command.CLOSE: Rule({Phase.QUESTION: Phase.CLOSED}, (G.LOADED, G.EXPECT_CURRENT)),
    Command.TIMEOUT: Rule(
        {Phase.QUESTION: Phase.CLOSED}, (G.EXPECT_CURRENT, G.DEADLINE_PASSED), button=False, event="close",
        wrong_phase=Refusal("already_closed", "the question is already closed"),
    ),
    Command.REVEAL: Rule({Phase.CLOSED: Phase.REVEALED}, (G.LOADED, G.EXPECT_CURRENT)),
    Command.LEADERBOARD: Rule({Phase.CLOSED: Phase.LEADERBOARD, Phase.REVEALED: Phase.LEADERBOARD},
                              (G.LOADED, G.EXPECT_CURRENT)),
    Command.VOID: Rule({p: Phase.CLOSED for p in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED)},
                       (G.LOADED, G.EXPECT_CURRENT, G.NOT_VOIDED)),
    Command.FINISH: Rule({p: Phase.FINISHED for p in (Phase.QUESTION, *_BETWEEN)}, (G.LOADED, G.EXPECT_CURRENT)),
    Command.RERUN: Rule(_stay((Phase.CLOSED, Phase.REVEALED, Phase.LEADERBOARD)), (G.LOADED, G.IS_VOIDED)),
    Command.RESET: Rule({p: Phase.LOBBY for p in Phase}, (G.LOADED, G.CONFIRM_MATCHES, G.NONE_HANDED_OVER)),
    Command.LOAD: Rule(_stay(_NOT_OPEN), button=False, event="unload", wrong_phase=Refusal(
        "phase", "close the open question before loading another episode")),
    Command.SET_DELAY: Rule(_stay(_NOT_OPEN), (G.LOADED,), button=False, event="delay", wrong_phase=Refusal(
        "phase", "change the stream delay between questions")),
    Command.SYNC: Rule(_stay(_NOT_OPEN), (G.EXPECT_NEXT,), button=False, wrong_phase=Refusal(
        "phase", "episode {episode!r} has a question open right now; sync between questions")),
    Command.PRIZE_RULE: Rule(_stay((Phase.LOBBY,)), (G.LOADED, G.NONE_PLAYED), button=False, wrong_phase=Refusal(
        "started", "the prize rule is fixed once the episode has started (reset it to change the rule)")),
    Command.HANDOVER: Rule(_stay((Phase.FINISHED,)), button=False, wrong_phase=Refusal(
        "not_finished", "prizes are handed over once the episode has finished (it is in phase '{phase}')")),
}

STALE: Final = Refusal("stale", "the show has moved on since this command was sent (double press?)")

#: Why each guard refuses.
GUARD_REFUSALS: Final[Mapping[Guard, Refusal]] = {
    G.LOADED: Refusal("not_loaded", "another episode has been loaded since; reload the panel"),
    G.HAS_NEXT: Refusal("no_more_questions", "there is no next question; finish the episode"),
    G.EXPECT_NEXT: STALE,
    G.EXPECT_CURRENT: STALE,
    G.DEADLINE_PASSED: Refusal("too_early", "the deadline has not passed yet"),
    G.NOT_VOIDED: Refusal("already_voided", "this question is already voided"),
    G.IS_VOIDED: Refusal("not_voided", "only a voided question can be re-run (void it first)"),
    G.CONFIRM_MATCHES: Refusal("phase", "reset needs confirm='{episode}' (wipes all results)"),
    G.NONE_PLAYED: Refusal("started", "the prize rule is fixed once the episode has started (reset it to change "
                           "the rule)"),
    G.NONE_HANDED_OVER: Refusal("handed_over", "prizes of {episode!r} have been handed over; a reset would wipe the "
                                "results they were given for"),
}

#: Why ``handover.lua`` refuses, beyond the phase.
HANDOVER_REFUSALS: Final[Mapping[str, Refusal]] = {
    "disqualified": Refusal("disqualified", "the player is disqualified in {episode!r}"),
    "already_handed_over": Refusal("already_handed_over", "this prize has already been handed over"),
}

GUARD_NAMES: Final = frozenset(g.value for g in Guard)
WRONG_PHASE: Final = Refusal("phase", "'{command}' is not allowed in phase '{phase}'")
NO_EPISODE: Final = Refusal("no_episode", "no episode loaded")

#: Host buttons (each has a route ``/api/host/<command>``).
BUTTONS: Final[tuple[Command, ...]] = tuple(c for c, rule in MACHINE.items() if rule.button)

#: (phase, command) -> next phase, the table flattened.
TRANSITIONS: Final[dict[tuple[Phase, Command], Phase]] = {
    (p, c): target for c, rule in MACHINE.items() for p, target in rule.moves.items()
}


def refusal(command: Command, check: str, phase: str, episode: str = "") -> Refusal:
    """The refusal for a failed check as the scripts report it: 'no_episode', 'phase' or a
    guard name. The message is formatted; unknown checks pass through as their own code."""
    if check == "no_episode":
        base = NO_EPISODE
    elif check == "phase":
        base = MACHINE[command].wrong_phase or WRONG_PHASE
    elif check in GUARD_NAMES:
        base = GUARD_REFUSALS[Guard(check)]
    elif command is Command.HANDOVER and check in HANDOVER_REFUSALS:
        base = HANDOVER_REFUSALS[check]
    else:
        return Refusal(check, check)
    return Refusal(base.code, base.message.format(command=command.value, phase=phase, episode=episode))


def allowed_from(command: Command) -> tuple[Phase, ...]:
    """Phases in which ``command`` may be issued."""
    return tuple(MACHINE[command].moves)


def next_phase(phase: Phase, command: Command) -> Phase:
    """The phase after ``command``; PhaseError when the table has no such move."""
    try:
        return TRANSITIONS[(phase, command)]
    except KeyError:
        raise PhaseError(phase.value, command.value) from None


def allowed_commands(phase: Phase, facts: Mapping[Guard, bool] | None = None) -> list[Command]:
    """Host buttons the panel should enable in ``phase``. ``facts`` are the guards the caller's
    mirror can tell (e.g. ``has_next``, ``is_voided``); a button whose known guard fails is left
    out too, so the panel never offers what Redis would refuse. Unknown guards count as holding:
    Redis still decides every press."""
    known = facts or {}
    return [c for c in BUTTONS
            if (phase, c) in TRANSITIONS and all(known.get(g, True) for g in MACHINE[c].guards)]


#: The one sensible next command in each phase, first allowed one wins: what the panel highlights
#: (and what its Enter/Space key would mean). A voided question is re-run before moving on.
NEXT_STEP: Final[Mapping[Phase, tuple[Command, ...]]] = {
    Phase.LOBBY: (Command.OPEN, Command.FINISH),
    Phase.QUESTION: (Command.CLOSE,),
    Phase.CLOSED: (Command.RERUN, Command.REVEAL),
    Phase.REVEALED: (Command.RERUN, Command.OPEN, Command.LEADERBOARD),
    Phase.LEADERBOARD: (Command.RERUN, Command.OPEN, Command.FINISH),
    Phase.FINISHED: (),
}


def next_step(phase: Phase, allowed: list[Command], replay: bool = False) -> Command | None:
    """The command to highlight: the first of :data:`NEXT_STEP` that ``allowed`` holds, or, with
    ``replay`` (a re-run question waits to be opened again), ``open``."""
    if replay and Command.OPEN in allowed:
        return Command.OPEN
    return next((c for c in NEXT_STEP[phase] if c in allowed), None)
