"""Episode results for the host and the secretariat: question winners with reserves,
standings, disqualifications. One builder, used by the host API, the CLI and the
reports in :mod:`quiz_engine.reports` alike, so every output shows the same winners.

Personal data (full name, unit, phone) is in here on purpose: these results are for the
host and the organisers only, never for the overlay or viewers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from quiz_engine.claims import Prize, claim_code, prizes_of, question_prize, shown_check
from quiz_engine.game.phases import Phase
from quiz_engine.game.standings import CorrectAnswer, question_winners, rank_standings
from quiz_engine.review import episode_flags
from quiz_engine.store.redis_store import Store
from quiz_engine.tokens import public_tag


def person(profile: dict[str, Any], player: str) -> dict[str, Any]:
    """The profile fields every results row carries (organiser-only: includes the phone)."""
    return {
        "player": player,
        "tag": public_tag(player),
        "name": profile.get("name", ""),
        "full_name": profile.get("full_name", ""),
        "unit": profile.get("unit", ""),
        "phone": profile.get("phone", ""),
    }


def shown_name(p: dict[str, Any]) -> str:
    """The display name as the screens show it, with the public tag (``Lan #K7QM``)."""
    return f"{p['name']} #{p['tag']}" if p.get("tag") else str(p.get("name", ""))


async def prize_rule(store: Store, episode: str, override: bool | None = None) -> bool:
    """Whether ``episode`` gives one question prize per person: ``override`` if given (a CLI
    flag), else the rule the episode was played under, else (an episode created before the rule
    was the episode's own) the show's setting."""
    if override is not None:
        return override
    rule = await store.prize_rule(episode)
    if rule is not None:
        return rule
    return (await store.show()).get("one_prize", "1") == "1"


@dataclass(frozen=True)
class Holders:
    """Who holds each prize of an episode now, and who could have (for the prize desk)."""

    prizes: list[Prize]
    reserves: list[Prize]  # each question's reserves, in order (the prize passes to them)
    disqualified: frozenset[str]
    finished: bool
    played: int  # questions opened or skipped (each may have a prize)


async def prize_holders(store: Store, episode: str, one_prize: bool | None = None, reserves: int = 3) -> Holders:
    """The prizes of ``episode`` without reading every answer: the first few correct answers
    of each question are enough for the same :func:`question_winners` (a question's winner and
    reserves are at most the players passed over, earlier winners and the disqualified, plus
    ``reserves + 1``), and the episode winner is the head of the standings index."""
    one_prize = await prize_rule(store, episode, one_prize)
    state = await store.state(episode)
    played = int(state.get("next", 0))
    dq = await store.disqualified(episode)
    voided = await store.voided(episode)
    limit = played + len(dq) + reserves + 1
    per_q = [await store.correct_answers(episode, i, limit=limit) if i not in voided else [] for i in range(played)]
    winners = question_winners(per_q, dq, one_prize, voided, reserves)
    board = await store.standings(episode, 1)
    top = board.top[0].score.player if board.top else None
    return Holders(prizes_of(winners, top),
                   [Prize(question_prize(i), i, a.player) for i, w in enumerate(winners) for a in w[1:]],
                   frozenset(dq), state.get("phase") == Phase.FINISHED.value, played)


def _claims(secret: str, episode: str, prizes: list[Prize],
            handovers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per prize: the holder's code's check part (never the code) and the handover, if any."""
    given = {(h.get("prize"), h.get("player")): h for h in handovers}
    return {p.prize: {"check": shown_check(claim_code(secret, episode, p.prize, p.player)) if secret else "",
                      "handed_over": given.get((p.prize, p.player))} for p in prizes}


async def episode_results(store: Store, episode: str, one_prize: bool | None = None, reserves: int = 3,
                          fast_answer_ms: int = 300, flag_top: int = 20) -> dict[str, Any]:
    """Everything the winners report needs for one episode; ``phase`` is None if it does not exist.
    ``one_prize`` overrides the episode's own prize rule (:func:`prize_rule`).

    Prizes and standings come from :mod:`quiz_engine.game.standings` (the one statement of
    the rules); this function only reads Redis and attaches profiles.
    """
    one_prize = await prize_rule(store, episode, one_prize)
    meta = await store.meta(episode)
    public = await store.public_questions(episode)
    specs = await store.question_specs(episode)
    state = await store.state(episode)
    voided = await store.voided(episode)
    dq = await store.disqualified(episode)
    played = int(state.get("next", 0))
    per_q: list[list[CorrectAnswer]] = [await store.correct_answers(episode, i) for i in range(played)]
    winners = question_winners(per_q, dq, one_prize, voided, reserves)
    standings = rank_standings(await store.scores(episode), dq)
    prizes = prizes_of(winners, standings[0].score.player if standings else None)
    handovers = await store.handovers(episode)
    claims = _claims(await store.stored_secret(), episode, prizes, handovers)
    holders = {(p.prize, p.player) for p in prizes}
    ids = ({a.player for w in winners for a in w} | {s.score.player for s in standings} | set(dq)
           | {str(h.get("player", "")) for h in handovers})
    profiles = await store.players(sorted(ids))
    # review flags for everyone who could receive a prize (winners, reserves, top of the standings)
    candidates = {a.player for w in winners for a in w} | {s.score.player for s in standings[:flag_top]}
    flags = {p: [str(f) for f in fs] for p, fs in
             (await episode_flags(store, episode, candidates, fast_answer_ms)).items()}

    def who(player: str) -> dict[str, Any]:
        return {**person(profiles.get(player, {}), player), "flags": flags.get(player, [])}

    questions = []
    for i in range(played):
        counts, total = await store.counts(episode, i, specs[i][1])
        picked = winners[i]
        questions.append(
            {
                "index": i,
                "id": public[i].get("id", str(i)),
                "text": public[i]["text"],
                "options": public[i]["options"],
                "correct": specs[i][0],
                "answers": total,
                "counts": counts,
                "correct_answers": len(per_q[i]),
                "voided": i in voided,
                "winner": (
                    {**who(picked[0].player), "time_ms": round(picked[0].response_us / 1000, 1),
                     "claim": claims[question_prize(i)]} if picked else None
                ),
                "reserves": [{**who(a.player), "time_ms": round(a.response_us / 1000, 1)} for a in picked[1:]],
            }
        )
    return {
        "episode": episode,
        "title": meta.get("title", episode),
        "bank": meta.get("bank", episode.partition(".")[0]),
        "bank_title": meta.get("bank_title", ""),
        "language": meta.get("language", ""),
        "date": meta.get("date"),
        "phase": state.get("phase"),
        "count": int(state.get("count", 0)),
        "played": played,
        "reserves": reserves,
        "one_prize_per_person": one_prize,
        "questions": questions,
        "standings": [
            {
                "rank": s.rank,
                **who(s.score.player),
                "correct": s.score.correct,
                "time_ms": round(s.score.total_us / 1000, 1),
            }
            for s in standings
        ],
        "episode_winner": (
            {**who(standings[0].score.player), "claim": claims["episode"]} if standings else None
        ),
        # every handover recorded; ``current``: to the prize's holder now (not: disqualified since)
        "handovers": [
            {**h, **person(profiles.get(str(h.get("player", "")), {}), str(h.get("player", ""))),
             "current": (h.get("prize"), h.get("player")) in holders}
            for h in handovers
        ],
        "disqualified": [
            {**person(profiles.get(p, {}), p), "reason": info.get("reason", "")} for p, info in dq.items()
        ],
    }


def results_csv(results: dict[str, Any], lang: str = "en") -> str:
    """Question winners (with reserves), then the standings, then disqualifications, in one CSV.

    The writer is :func:`quiz_engine.reports.tables.results_csv` (English column names by
    default, the format ``GET /api/host/results?format=csv`` has always had; ``lang="vi"`` for
    Vietnamese ones); cells go through :mod:`quiz_engine.reports.safe`, so a name like
    ``=cmd|...`` is not run as a formula by the spreadsheet that opens the file."""
    # imported here: quiz_engine.reports imports this module, a top-level import would be circular
    from quiz_engine.reports.tables import results_csv as write

    return write(results, lang)
