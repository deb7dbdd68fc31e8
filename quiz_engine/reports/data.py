"""Read what the reports need from Redis and shape it into plain JSON-able dicts.

Definitions (also in docs/reports.md) — all per episode, counted since its last reset:

- **present**: players a question reached (they were joined when it was released and it was
  written to their phone in the release fan-out: the ``q{i}:dlv`` delivery record) or who sent
  any answer attempt.
- **joined** (*participants*): players who sent at least one answer attempt, accepted or
  rejected (late, duplicate, …), read from the audit stream.
- **answered one**: players with at least one accepted answer.
- **answered all**: players with an accepted answer to every question that was opened and
  not voided (skipped and voided questions do not count for anyone).
- **correct rate** of a question: correct accepted answers / accepted answers.
- **dropped after** question *i*: players whose last accepted answer was question *i* although
  later questions were opened (they stopped there).

Players are identified by their player id (one per phone/browser join); units are grouped
case- and whitespace-insensitively and shown in their most common spelling.

Nothing here decides a winner: winners and standings come from :mod:`quiz_engine.results`,
which calls the rule functions in :mod:`quiz_engine.game.standings`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from quiz_engine.banks.model import letter_for, match_key
from quiz_engine.errors import NotFound
from quiz_engine.game.standings import ORDER_BASE, PlayerScore
from quiz_engine.store.records import AnswerRecord
from quiz_engine.store.redis_store import Store

NO_UNIT = ""  # key of players who gave no unit (labelled by the renderers)


@dataclass
class Timeline:
    """What the audit stream says about one episode since its last create/reset."""

    first_open_ms: int | None = None
    opened: list[int] = field(default_factory=list)
    skipped: set[int] = field(default_factory=set)
    attempts: dict[str, set[int]] = field(default_factory=dict)  # player -> question indices tried
    rejections: dict[int, Counter[str]] = field(default_factory=dict)  # question -> reason -> n


def timeline(entries: Iterable[tuple[str, dict[str, str]]], count: int) -> Timeline:
    """Fold the audit stream; a ``reset`` starts over, as it does for the results."""
    t = Timeline()
    for _, e in entries:
        kind = e.get("e")
        if kind in ("create", "reset"):
            t = Timeline()
        elif kind == "open":
            q = int(e["q"])
            if q not in t.opened:
                t.opened.append(q)
            if t.first_open_ms is None:
                t.first_open_ms = int(e.get("now", 0))
        elif kind == "skip":
            t.skipped.add(int(e["q"]))
        elif kind in ("ans", "rej"):
            q = int(e.get("q", -1))
            t.attempts.setdefault(e["p"], set()).add(q)
            if kind == "rej" and 0 <= q < count:
                t.rejections.setdefault(q, Counter())[e.get("why", "")] += 1
    return t


def unit_groups(units: Iterable[str]) -> dict[str, str]:
    """Display spelling per unit key: the most common spelling of each group (ties: first seen)."""
    seen: dict[str, Counter[str]] = {}
    for u in units:
        text = " ".join(u.split())
        seen.setdefault(match_key(text) if text else NO_UNIT, Counter())[text] += 1
    return {key: spellings.most_common(1)[0][0] for key, spellings in seen.items()}


def unit_key(profile: dict[str, Any]) -> str:
    text = " ".join(str(profile.get("unit", "") or "").split())
    return match_key(text) if text else NO_UNIT


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def _reached(store: Store, episode: str, q: int) -> set[str]:
    return await store.delivered_to(episode, q)


async def episode_participation(store: Store, episode: str) -> dict[str, Any]:
    """Participation figures of one episode (definitions in the module docstring)."""
    state = await store.state(episode)
    if not state:
        raise NotFound(f"episode {episode!r} not found")
    meta = await store.meta(episode)
    public = await store.public_questions(episode)
    specs = await store.question_specs(episode)
    voided = await store.voided(episode)
    count = int(state.get("count", 0))
    played = int(state.get("next", 0))
    tl = timeline(await store.audit(episode), count)
    opened = [q for q in range(played) if q not in tl.skipped]
    counted = [q for q in opened if q not in voided]

    answers: dict[int, dict[str, AnswerRecord]] = {}
    reached: dict[int, set[str]] = {}
    for q in opened:
        answers[q] = await store.all_answers(episode, q)
        reached[q] = await _reached(store, episode, q)

    joined = set(tl.attempts)
    answered_by: dict[str, list[int]] = {}
    for q in opened:
        for p in answers[q]:
            answered_by.setdefault(p, []).append(q)
    present = joined | set(answered_by) | {p for s in reached.values() for p in s}
    answered_one = set(answered_by)
    answered_all = {p for p, qs in answered_by.items() if counted and set(counted) <= set(qs)}

    last_opened = opened[-1] if opened else -1
    dropped: Counter[int] = Counter()
    started: Counter[int] = Counter()
    for qs in answered_by.values():
        started[min(qs)] += 1
        if max(qs) != last_opened:
            dropped[max(qs)] += 1

    questions: list[dict[str, Any]] = []
    for q in range(count):
        answer, nopts, _ = specs[q]
        status = "voided" if q in voided else "played" if q in opened else "skipped" if q < played else "unplayed"
        row: dict[str, Any] = {"index": q, "id": public[q].get("id", str(q)), "status": status}
        if q < played:  # never print an unplayed question or its answer: reports get published
            row["text"] = public[q]["text"]
            row["correct_option"] = letter_for(answer) if answer < 6 else str(answer)
        else:
            row["text"] = ""
            row["correct_option"] = ""
        if q in answers:
            given = answers[q]
            right = [r for (o, r, _, _) in given.values() if o == answer]
            per_option = Counter(o for (o, _, _, _) in given.values())
            row.update(
                reached=len(reached[q]),
                answers=len(given),
                correct=len(right),
                wrong=len(given) - len(right),
                correct_rate=_rate(len(right), len(given)),
                counts=[per_option.get(i, 0) for i in range(nopts)],
                median_correct_ms=round(statistics.median(right) / 1000, 1) if right else None,
                rejected=dict(sorted(tl.rejections.get(q, Counter()).items())),
                started=started.get(q, 0),
                dropped_after=dropped.get(q, 0),
            )
        questions.append(row)

    profiles = await store.players(sorted(present))
    units = _units(profiles, joined=joined, present=present, answered_all=answered_all)
    return {
        "kind": "participation",
        "episode": episode,
        "title": meta.get("title", episode),
        "bank": meta.get("bank", episode.partition(".")[0]),
        "bank_title": meta.get("bank_title", ""),
        "date": meta.get("date"),
        "phase": state.get("phase"),
        "count": count,
        "opened": len(opened),
        "first_open_ms": tl.first_open_ms,
        "summary": {
            "present": len(present),
            "joined": len(joined),
            "answered_one": len(answered_one),
            "answered_all": len(answered_all),
            "answers": sum(len(a) for a in answers.values()),
            "correct": sum(int(r.get("correct", 0)) for r in questions),
        },
        "questions": questions,
        "units": units,
        # for the season roll-up (ids only, no personal data)
        "_players": {"present": sorted(present), "joined": sorted(joined), "answered_all": sorted(answered_all)},
    }


def _units(
    profiles: dict[str, dict[str, Any]], *, joined: set[str], present: set[str], answered_all: set[str]
) -> list[dict[str, Any]]:
    """Players per unit, most players first (then by name)."""
    display = unit_groups(str(p.get("unit", "") or "") for p in profiles.values())
    rows: dict[str, dict[str, Any]] = {}
    for pid in present:
        key = unit_key(profiles.get(pid, {}))
        row = rows.setdefault(key, {"unit": display.get(key, ""), "players": 0, "present": 0, "answered_all": 0})
        row["present"] += 1
        row["players"] += pid in joined
        row["answered_all"] += pid in answered_all
    return sorted(rows.values(), key=lambda r: (-r["players"], -r["present"], r["unit"] == "", r["unit"].casefold()))


# --- season -------------------------------------------------------------------------------


async def season_episodes(store: Store, bank: str) -> list[str]:
    """The created episodes of a bank in the order they were played.

    Play order (first ``open`` in the audit stream) is what "an earlier episode" means for
    the one-prize-per-season rule, whatever order the bank file lists them in; episodes not
    played yet come last, by date then id.
    """
    eps = [ep for ep, meta in (await store.episodes()).items() if meta.get("bank") == bank]
    if not eps:
        raise NotFound(f"no created episodes of bank {bank!r} (an episode is created when the host loads it)")
    keyed = []
    for ep in eps:
        state = await store.state(ep)
        tl = timeline(await store.audit(ep), int(state.get("count", 0)))
        meta = await store.meta(ep)
        first = tl.first_open_ms if tl.first_open_ms is not None else 1 << 62
        keyed.append((first, str(meta.get("date") or ""), ep))
    return [ep for *_, ep in sorted(keyed)]


SEASON_ORDER_BASE = ORDER_BASE * 100_000  # episode position * this + the episode's last_order


def season_scores(per_episode: list[list[PlayerScore]]) -> list[PlayerScore]:
    """Season totals, in the shape the episode rule takes: sum of correct, sum of times, and
    the season-wide arrival key of the final correct answer (episode position first)."""
    totals: dict[str, PlayerScore] = {}
    for pos, scores in enumerate(per_episode):
        for s in scores:
            order = pos * SEASON_ORDER_BASE + s.last_order
            prev = totals.get(s.player)
            if prev is None:
                totals[s.player] = PlayerScore(s.player, s.correct, s.total_us, order)
            else:
                totals[s.player] = PlayerScore(
                    s.player, prev.correct + s.correct, prev.total_us + s.total_us, max(prev.last_order, order)
                )
    return list(totals.values())


async def season_participation(store: Store, bank: str) -> dict[str, Any]:
    """Participation per episode of the season, distinct players and units over the season."""
    episodes = await season_episodes(store, bank)
    parts = [await episode_participation(store, ep) for ep in episodes]
    joined_sets = [set(p["_players"]["joined"]) for p in parts]
    present_all = set().union(*(set(p["_players"]["present"]) for p in parts))
    joined_all = set().union(*joined_sets)
    played = [s for s, p in zip(joined_sets, parts, strict=True) if p["opened"]]
    every = set.intersection(*played) if played else set()
    profiles = await store.players(sorted(present_all))
    display = unit_groups(str(p.get("unit", "") or "") for p in profiles.values())
    units: dict[str, dict[str, Any]] = {}
    for pid in joined_all:
        key = unit_key(profiles.get(pid, {}))
        row = units.setdefault(key, {"unit": display.get(key, ""), "players": 0, "per_episode": [0] * len(parts)})
        row["players"] += 1
        for i, s in enumerate(joined_sets):
            row["per_episode"][i] += pid in s
    questions = [
        {**q, "episode": p["episode"], "episode_title": p["title"]} for p in parts for q in p["questions"]
    ]
    return {
        "kind": "season_participation",
        "season": bank,
        "bank_title": next((p["bank_title"] for p in parts if p["bank_title"]), ""),
        "episodes": [
            {k: p[k] for k in ("episode", "title", "date", "phase", "count", "opened", "summary")} for p in parts
        ],
        "summary": {
            "episodes": len(parts),
            "present": len(present_all),
            "joined": len(joined_all),
            "joined_every_episode": len(every),
        },
        "questions": questions,
        "units": sorted(units.values(), key=lambda r: (-r["players"], r["unit"] == "", r["unit"].casefold())),
    }


def public_participation(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the internal player-id lists (for JSON output)."""
    return {k: v for k, v in report.items() if not k.startswith("_")}
