"""The prize desk: check a claim code a winner reads out (or shows as a QR) and record the
handover. One implementation behind the host API, the host panel (which calls the API) and
the ``quiz-engine claim`` command, so all three refuse the same codes for the same reasons.

Every refusal is written to the episode's audit stream (``claim_refused``, with the check
part of what was typed, never a whole code), so a run of wrong codes at the desk is on the
record beside the handovers.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from quiz_engine.claims import (
    CHECK_LEN,
    EPISODE_PRIZE,
    Match,
    Prize,
    match,
    normalize,
    question_prize,
    shown_check,
)
from quiz_engine.results import person, prize_holders
from quiz_engine.store.redis_store import Store

log = logging.getLogger("quiz_engine.prizes")

#: refusal reason -> (HTTP status, message)
REFUSALS: dict[str, tuple[int, str]] = {
    "malformed": (400, "a claim code is ten letters and digits, like K7QM2-X9ABC"),
    "unknown_code": (404, "no prize has this code: check it letter by letter with the winner's phone"),
    "passed_on": (409, "this code's prize has passed on: its holder was disqualified, or a reserve's turn "
                       "ended when the winner was reinstated"),
    "not_finished": (409, "prizes are handed over once the episode has finished"),
    "disqualified": (409, "the player is disqualified"),
    "already_handed_over": (409, "this prize has already been handed over"),
}


@dataclass
class ClaimCheck:
    """What the desk is told about a code: whose prize it is, and whether it may be handed over."""

    ok: bool
    reason: str = ""
    message: str = ""
    episode: str = ""
    prize: str = ""  # 'q3' or 'episode'
    question: int | None = None  # 0-based
    holder: dict[str, Any] = field(default_factory=dict)  # the code's player: name, unit, phone, ...
    check: str = ""  # the code's check part as lists show it
    handed_over: dict[str, Any] | None = None  # the handover already recorded for this prize

    @property
    def status(self) -> int:
        return 200 if self.ok else REFUSALS.get(self.reason, (400, ""))[0]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _refused(reason: str, **found: Any) -> ClaimCheck:
    return ClaimCheck(False, reason, REFUSALS[reason][1], **found)


async def _episodes(store: Store, episode: str | None, loaded: str | None) -> list[str]:
    """Where to look for a code: the episode named, else the loaded one and then every other."""
    if episode:
        return [episode]
    every = list(await store.episodes())
    return [e for e in dict.fromkeys([loaded or "", *sorted(every)]) if e]


async def _find(store: Store, secret: str, code: str, episodes: list[str]) -> tuple[str, Match, bool] | None:
    for ep in episodes:
        holders = await prize_holders(store, ep)
        # whose codes may still be shown somewhere: reserves (a prize that passed to them and back)
        # and the disqualified (any prize they held before)
        former = [*holders.reserves,
                  *(Prize(question_prize(i), i, d) for i in range(holders.played) for d in holders.disqualified),
                  *(Prize(EPISODE_PRIZE, None, d) for d in holders.disqualified)]
        found = match(secret, ep, code, holders.prizes, former)
        if found is not None:
            return ep, found, holders.finished
    return None


async def check(store: Store, code: str, actor: str, *, episode: str | None = None,
                loaded: str | None = None) -> ClaimCheck:
    """Whose prize ``code`` is, and whether it may be handed over now (a refusal is audited)."""
    result = await _check(store, code, episode, loaded)
    if not result.ok or result.handed_over:
        await _log_refusal(store, result, code, actor, episode or loaded)
    return result


async def _check(store: Store, code: str, episode: str | None, loaded: str | None) -> ClaimCheck:
    norm = normalize(code)
    if norm is None:
        return _refused("malformed")
    secret = await store.stored_secret()
    found = await _find(store, secret, norm, await _episodes(store, episode, loaded)) if secret else None
    if found is None:
        return _refused("unknown_code")
    ep, m, finished = found
    profile = (await store.players([m.prize.player])).get(m.prize.player, {})
    where: dict[str, Any] = {"episode": ep, "prize": m.prize.prize, "question": m.prize.question,
                             "holder": person(profile, m.prize.player), "check": shown_check(norm)}
    if not m.current:
        return _refused("passed_on", **where)
    if not finished:
        return _refused("not_finished", **where)
    given = [h for h in await store.handovers(ep) if h.get("prize") == m.prize.prize]
    mine = next((h for h in given if h.get("player") == m.prize.player), None)
    if mine is not None:
        return ClaimCheck(True, "already_handed_over", REFUSALS["already_handed_over"][1], handed_over=mine, **where)
    return ClaimCheck(True, **where)


async def hand_over(store: Store, code: str, actor: str, *, episode: str | None = None,
                    loaded: str | None = None, note: str = "") -> ClaimCheck:
    """Record the handover of the prize ``code`` is for, to its holder, once."""
    result = await _check(store, code, episode, loaded)
    if result.ok and not result.handed_over:
        done = await store.hand_over(result.episode, result.prize, result.holder["player"], result.check[-CHECK_LEN:],
                                     actor, note[:200])
        if done.ok:
            log.info("prize %s of %s handed over to %s by %s", result.prize, result.episode,
                     result.holder["player"], actor)
            result.handed_over = done.record
            return result
        result = ClaimCheck(False, done.reason, done.message, result.episode, result.prize, result.question,
                            result.holder, result.check, done.record or None)
    elif result.ok:  # the same code again: a reused code is refused
        result = ClaimCheck(False, "already_handed_over", REFUSALS["already_handed_over"][1], result.episode,
                            result.prize, result.question, result.holder, result.check, result.handed_over)
    await _log_refusal(store, result, code, actor, episode or loaded)
    return result


async def _log_refusal(store: Store, result: ClaimCheck, code: str, actor: str, fallback: str | None) -> None:
    ep = result.episode or fallback
    typed = (normalize(code) or "".join(c for c in str(code)[:40] if c.isalnum()).upper())[-CHECK_LEN:]
    log.warning("claim code …%s refused (%s) for %s", typed, result.reason, actor)
    if ep:
        await store.claim_refused(ep, result.reason, typed, actor)
