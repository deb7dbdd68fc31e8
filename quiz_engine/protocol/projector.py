"""The projector: this node's mirror of the episode -> the frames each role is sent. Pure.

Everything here is a function of plain values (:class:`EpisodeView`, the time, the show
settings), so what the overlay, the host panel and the phones see in each phase is decided
in one place and tested by calling functions. The live parts fetch the values (``live/``)
and send the frames; nothing here reads Redis, a clock or a socket.

Roles see different things: the host gets the correct option with the question; a phone
during the stream delay gets ``waiting`` (the stream has not shown the phase yet), and
personal parts (its own answer, its standing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from quiz_engine.game.phases import Guard, Phase, allowed_commands, next_step
from quiz_engine.game.standings import Standing
from quiz_engine.protocol import server_frames as F

VIEWER, OVERLAY, HOST = "viewer", "overlay", "host"
RESULT_PHASES = (Phase.REVEALED, Phase.LEADERBOARD, Phase.FINISHED)  # phones get their standing after these
CUE_MIN_MS = 500  # a question released sooner than this after the open needs no "coming" cue


@dataclass
class EpisodeView:
    """This node's mirror of the current episode: Redis values, rebuilt on every change."""

    episode: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)  # public data
    specs: Sequence[tuple[int, int, int]] = field(default_factory=list)  # (answer, options, limit_ms) per question
    state: dict[str, str] = field(default_factory=dict)
    seq: int = 0
    # what the current phase shows, fetched by the mirror for that phase
    answers: int = 0  # answers to the current question (closed, revealed)
    counts: list[int] = field(default_factory=list)  # per option (revealed)
    voided: frozenset[int] = frozenset()
    fastest: dict[str, Any] | None = None  # the current question's prize winner (revealed)
    top: list[dict[str, Any]] = field(default_factory=list)
    standings: dict[str, Standing] = field(default_factory=dict)
    disqualified: frozenset[str] = frozenset()
    players_ranked: int = 0  # players with at least one correct answer (in the standings)
    players_played: int = 0  # players with any answer stored (right or wrong)

    @property
    def phase(self) -> Phase:
        return Phase(self.state.get("phase", "lobby"))

    @property
    def qidx(self) -> int:
        return int(self.state.get("qidx", -1))

    def num(self, key: str) -> int:
        return int(self.state.get(key, 0) or 0)

    @property
    def has_question(self) -> bool:
        return 0 <= self.qidx < len(self.questions)


@dataclass(frozen=True)
class Projection:
    """The frames of one phase change: ``public`` for the overlay (and phones), ``host`` for
    the panel, and when the phones get theirs (Redis ms: the stream delay after the studio)."""

    public: dict[str, Any]
    host: dict[str, Any]
    viewer_at: int
    results: bool  # phones get their personal standing once it is out
    cue: dict[str, Any] | None = None  # for the phones now: a question is on its way (stream delay)


def info(v: EpisodeView) -> dict[str, Any]:
    return F.episode_info(v.episode, v.meta, len(v.questions), v.num("next"))


def source(v: EpisodeView, idx: int) -> str:
    sources = v.meta.get("sources") or []
    return str(sources[idx]) if idx < len(sources) else ""


def question_frame(v: EpisodeView, now_ms: int) -> dict[str, Any]:
    idx = v.qidx
    release = v.num("release_at")
    return F.question(v.seq, v.episode, idx, len(v.questions), v.questions[idx], release, v.num("deadline"),
                      now_ms, v.num("opened_at") or release)


def project(v: EpisodeView, now_ms: int, delay_ms: int) -> Projection:
    """The frames of the view's phase, and when the phones get them."""
    phase, seq, idx = v.phase, v.seq, v.qidx
    viewer_at = (v.num("phase_at") or now_ms) + delay_ms
    if phase is Phase.LOBBY:
        frame = F.lobby(seq, info(v))
    elif phase is Phase.QUESTION:
        frame = question_frame(v, now_ms)
        host = F.host_question(frame, v.specs[idx][0], source(v, idx))
        release = v.num("release_at")
        cue = F.waiting(seq - 1, idx, release, now_ms) if release > now_ms + CUE_MIN_MS else None
        return Projection(frame, host, release, results=False, cue=cue)
    elif phase is Phase.CLOSED:
        frame = F.closed(seq, idx, v.answers, now_ms, idx in v.voided)
        viewer_at = v.num("phase_at") or now_ms  # the window closed for everyone at once: no delay
    elif phase is Phase.REVEALED:
        frame = F.reveal(seq, idx, v.specs[idx][0], v.counts, v.answers, v.fastest, idx in v.voided)
    elif phase is Phase.LEADERBOARD:
        frame = F.leaderboard(seq, idx, v.top, v.players_ranked, v.players_played)
    else:  # FINISHED
        frame = F.finished(seq, v.top[0] if v.top else None, v.top, v.players_ranked, v.players_played)
    return Projection(frame, frame, viewer_at, results=phase in RESULT_PHASES)


def viewer_due(v: EpisodeView, delay_ms: int) -> int:
    """When the phones may show the view's phase (Redis ms)."""
    if v.phase is Phase.QUESTION:
        return v.num("release_at")
    if v.phase is Phase.CLOSED:
        return v.num("phase_at")
    return v.num("phase_at") + delay_ms


def snapshot(
    v: EpisodeView,
    role: str,
    now_ms: int,
    settings: dict[str, Any],
    *,
    delay_ms: int,
    player: str | None = None,
    you: tuple[int, int] | None = None,
    prizes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Everything a (re)connecting client needs to show the current phase. ``you``: the
    viewer's own answer to the current question (option, µs), if any; ``prizes``: the prizes
    (claim codes) the viewer holds in a finished episode."""
    base: dict[str, Any] = {"type": "snapshot", "now": now_ms, "role": role, "settings": settings}
    if not v.episode:
        return {**base, "seq": 0, "phase": "idle", "episode": None}
    phase = v.phase
    snap: dict[str, Any] = {**base, "episode": info(v)}
    if role == OVERLAY and v.meta.get("branding"):
        snap["branding"] = v.meta["branding"]  # the organiser's logo and colours (banks/branding.py)
    if role == VIEWER and phase is not Phase.CLOSED:
        due = viewer_due(v, delay_ms)
        if now_ms < due:  # the stream has not shown this yet: keep the phone in step with the stream
            return {**snap, "seq": v.seq - 1, "phase": "waiting", "until": due}
    snap.update(seq=v.seq, phase=phase.value, index=v.qidx)
    if phase in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED) and v.has_question:
        q = question_frame(v, now_ms)
        for key in ("type", "seq"):
            q.pop(key, None)
        if role == HOST:
            q["correct"] = v.specs[v.qidx][0]
        snap["question"] = q
        snap["release_at"] = v.num("release_at")
        snap["deadline"] = v.num("deadline")
    if phase is Phase.CLOSED:
        snap["closed"] = {"answers": v.answers, "voided": v.qidx in v.voided}
    if phase is Phase.REVEALED and v.has_question:
        result = F.reveal(v.seq, v.qidx, v.specs[v.qidx][0], v.counts, v.answers, v.fastest, v.qidx in v.voided)
        snap["result"] = {k: val for k, val in result.items() if k not in ("type", "seq")}
    if phase in (Phase.LEADERBOARD, Phase.FINISHED):
        snap["top"] = v.top
        snap["players"] = v.players_ranked
        snap["played"] = v.players_played
        if phase is Phase.FINISHED:
            snap["winner"] = v.top[0] if v.top else None
    if role == VIEWER and player:
        if v.qidx >= 0 and phase in (Phase.QUESTION, Phase.CLOSED, Phase.REVEALED):
            snap["you"] = {"option": you[0], "time_ms": round(you[1] / 1000, 1)} if you else None
        if v.standings:
            snap["standing"] = standing(v, player)
        if phase is Phase.FINISHED and prizes is not None:
            snap["prizes"] = prizes
    return snap


def standing(v: EpisodeView, player: str) -> dict[str, Any]:
    """A phone's personal standing after results are out."""
    s = v.standings.get(player)
    if s is None:
        return F.standing(None, v.players_ranked, 0, 0, player in v.disqualified)
    return F.standing(s.rank, v.players_ranked, s.score.correct, s.score.total_us, False)


def host_state(v: EpisodeView, now_ms: int, settings: dict[str, Any], *, viewers: int, redis_ok: bool,
               incidents: list[dict[str, Any]]) -> dict[str, Any]:
    """The host panel's whole state (the reply to every host command, and its first load)."""
    nxt = v.num("next")
    voided = v.qidx in v.voided
    # what this mirror knows of the guards: the panel never offers a button Redis would refuse
    facts = {Guard.HAS_NEXT: nxt < len(v.questions), Guard.IS_VOIDED: voided, Guard.NOT_VOIDED: not voided}
    allowed = allowed_commands(v.phase, facts)
    step = next_step(v.phase, allowed, replay=v.has_question and nxt <= v.qidx)  # after a re-run

    def with_answer(idx: int) -> dict[str, Any]:
        return {**v.questions[idx], "index": idx, "correct": v.specs[idx][0], "source": source(v, idx)}

    return {
        "episode": info(v) if v.episode else None,
        "phase": v.phase.value if v.episode else None,
        "seq": v.seq,
        "question": with_answer(v.qidx) if v.episode and v.has_question else None,
        "next_question": with_answer(nxt) if v.episode and nxt < len(v.questions) else None,
        "release_at": v.num("release_at") or None,
        "deadline": v.num("deadline") or None,
        "now": now_ms,
        "allowed": [c.value for c in allowed] if v.episode else [],
        "next_step": step.value if v.episode and step else None,  # the one button the panel highlights
        "players": {"played": v.players_played, "ranked": v.players_ranked},
        "settings": settings,
        "viewers": viewers,
        "redis_ok": redis_ok,
        "incidents": incidents,
    }
