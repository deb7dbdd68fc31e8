"""Season results: every episode's winners, the episode prizes and the season standings.

The season standings apply the episode rule (:func:`quiz_engine.game.standings.rank_standings`)
to season totals (:func:`quiz_engine.reports.data.season_scores`): most correct answers over
the season, then least total response time, then the earliest final correct answer.

A player disqualified in any episode of the season is left out of the season standings
(their prizes already passed to the next in order in that episode) and listed with the
episode and the reason.

Review flags (:mod:`quiz_engine.review`) are episode facts; a season row carries those of
every episode, each prefixed with the episode's title, so the season lists show the same
"to review" notes as the episode lists they are made of.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quiz_engine.game.standings import Standing, rank_standings
from quiz_engine.reports.data import season_episodes, season_scores
from quiz_engine.results import episode_results, person
from quiz_engine.review import episode_flags
from quiz_engine.store.redis_store import Store

SEASON_FLAG_TOP = 20  # season standings rows that get review flags (as the episode lists do)


def episode_prizes(
    standings_by_episode: Sequence[Sequence[Standing]], one_per_season: bool, reserves: int = 3
) -> list[list[Standing]]:
    """Per episode (in play order): the episode prize winner, then up to ``reserves`` next.

    The order inside an episode is its standings (the rule is not restated here). With
    ``one_per_season`` a player who already won an earlier episode's prize is passed over
    and the prize goes to the next in that episode's standings.
    """
    already: set[str] = set()
    out: list[list[Standing]] = []
    for standings in standings_by_episode:
        picked: list[Standing] = []
        for s in standings:
            if one_per_season and s.score.player in already:
                continue
            picked.append(s)
            if len(picked) > reserves:
                break
        if picked:
            already.add(picked[0].score.player)
        out.append(picked)
    return out


def _standing_row(s: Standing, profile: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank": s.rank,
        **person(profile, s.score.player),
        "correct": s.score.correct,
        "time_ms": round(s.score.total_us / 1000, 1),
    }


def _known_flags(res: dict[str, Any]) -> dict[str, list[str]]:
    """The review flags an episode's results already carry, per player."""
    rows = [*res["standings"], *(p for q in res["questions"] for p in ([q["winner"]] if q["winner"] else []) + q[
        "reserves"])]
    return {r["player"]: list(r.get("flags", [])) for r in rows}


async def season_results(
    store: Store, bank: str, one_prize: bool | None = None, reserves: int = 3, one_episode_prize: bool = False,
    fast_answer_ms: int = 300,
) -> dict[str, Any]:
    """Winners of every created episode of ``bank`` plus episode prizes and season standings.

    Each episode's question prizes follow the prize rule it was played under (``one_prize``
    overrides them all); the season's ``one_prize_per_person`` is that rule when every episode
    shares it, else None (the exports then say it was set per episode)."""
    episodes = await season_episodes(store, bank)
    per_episode = [await episode_results(store, ep, one_prize, reserves=reserves, fast_answer_ms=fast_answer_ms)
                   for ep in episodes]
    scores = [await store.scores(ep) for ep in episodes]
    dq_by_episode = [await store.disqualified(ep) for ep in episodes]
    out_all = {p for dq in dq_by_episode for p in dq}
    ep_standings = [rank_standings(s, dq) for s, dq in zip(scores, dq_by_episode, strict=True)]
    prizes = episode_prizes(ep_standings, one_episode_prize, reserves)
    season = rank_standings(season_scores(scores), out_all)
    played_in: dict[str, int] = {}
    for s in scores:
        for sc in s:
            played_in[sc.player] = played_in.get(sc.player, 0) + 1
    ids = {s.score.player for s in season} | {s.score.player for p in prizes for s in p} | out_all
    profiles = await store.players(sorted(ids))

    # review flags per episode: those the episode results carry, plus the season's top players
    # and the episode prize picks where the episode list did not reach them
    wanted = {s.score.player for s in season[:SEASON_FLAG_TOP]}
    flags: list[dict[str, list[str]]] = []
    for ep, res, picked in zip(episodes, per_episode, prizes, strict=True):
        known = _known_flags(res)
        missing = (wanted | {s.score.player for s in picked}) - set(known)
        if missing:
            extra = await episode_flags(store, ep, missing, fast_answer_ms)
            known.update({p: [str(f) for f in fs] for p, fs in extra.items()})
        flags.append(known)

    for res, picked, ep_flags in zip(per_episode, prizes, flags, strict=True):
        rows = [{**_standing_row(s, profiles.get(s.score.player, {})), "flags": ep_flags.get(s.score.player, [])}
                for s in picked]
        res["episode_prize"] = {"winner": rows[0] if rows else None, "reserves": rows[1:]}

    def season_flags(player: str) -> list[str]:
        if player not in wanted:
            return []
        return [f"{res['title']}: {f}" for res, ep_flags in zip(per_episode, flags, strict=True)
                for f in ep_flags.get(player, [])]

    return {
        "kind": "season_results",
        "season": bank,
        "bank_title": next((r["bank_title"] for r in per_episode if r.get("bank_title")), ""),
        "language": next((r["language"] for r in per_episode if r.get("language")), ""),
        "one_prize_per_person": (per_episode[0]["one_prize_per_person"]
                                 if len({r["one_prize_per_person"] for r in per_episode}) == 1 else None),
        "one_episode_prize_per_season": one_episode_prize,
        "reserves": reserves,
        "episodes": per_episode,
        "standings": [
            {**_standing_row(s, profiles.get(s.score.player, {})), "episodes": played_in.get(s.score.player, 0),
             "flags": season_flags(s.score.player)}
            for s in season
        ],
        "disqualified": [
            {
                "episode": ep,
                **person(profiles.get(p, {}), p),
                "reason": info.get("reason", ""),
            }
            for ep, dq in zip(episodes, dq_by_episode, strict=True)
            for p, info in dq.items()
        ],
    }


def limit_top(results: dict[str, Any], top: int | None) -> dict[str, Any]:
    """A copy whose standings (episode or season, and each season episode) stop at ``top``.

    ``standings_total`` keeps the full count so a report can say "top 10 of 1 873".
    """
    if top is None or top < 0:
        return results
    out = {**results, "standings": results["standings"][:top], "standings_total": len(results["standings"])}
    if "episodes" in results and results.get("kind") == "season_results":
        out["episodes"] = [limit_top(e, top) for e in results["episodes"]]
    return out
