"""Values that cross the store boundary: requests going in, outcomes coming out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from quiz_engine.game.phases import Command, Guard, refusal
from quiz_engine.game.standings import Standing


@dataclass(frozen=True)
class Transition:
    """A command's outcome: applied (``ok``) or refused with a reason code and message."""

    ok: bool
    reason: str = ""
    phase: str = ""
    seq: int = 0
    qidx: int = -1
    now_ms: int = 0
    release_at: int = 0
    deadline: int = 0
    retry_in_ms: int = 0
    message: str = ""
    delay_ms: int = 0  # load: the stream delay the episode now opens with
    created: bool = False  # load: the episode was created by this load


@dataclass(frozen=True)
class Synced:
    """The outcome of a season sync of one episode's unplayed questions."""

    ok: bool
    reason: str = ""  # refused: no_episode, phase, stale, played_removed, played_changed
    message: str = ""
    phase: str = ""
    next: int = 0
    changed: tuple[int, ...] = ()
    question: int = -1  # played_*: the question index concerned


@dataclass(frozen=True)
class Board:
    """The standings as the index holds them, disqualified players left out."""

    ranked: int  # players with a rank
    top: list[Standing] = field(default_factory=list)
    mine: dict[str, Standing] = field(default_factory=dict)  # the asked-for players that have a rank


@dataclass(frozen=True)
class Handover:
    """The outcome of recording a prize handover: the record stored, or why not (and, for
    ``already_handed_over``, the earlier record)."""

    ok: bool
    reason: str = ""
    message: str = ""
    phase: str = ""
    record: dict[str, Any] = field(default_factory=dict)


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


def transition_of(command: Command, episode: str, raw: Sequence[Any]) -> Transition:
    """A command script's reply, with the refusal's code and message from the phase table."""
    if int(raw[0]) == 1:
        return Transition(True, "", str(raw[2]), int(raw[1]), int(raw[3]), int(raw[4]), int(raw[5]), int(raw[6]),
                          delay_ms=int(raw[7]) if len(raw) > 7 else 0)
    check, phase = str(raw[1]), str(raw[2])
    extra = int(raw[3]) if len(raw) > 3 else 0
    why = refusal(command, check, phase, episode)
    return Transition(False, why.code, phase, retry_in_ms=extra if check == Guard.DEADLINE_PASSED else 0,
                      message=why.message)
