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
- **dropped after** question *i* (:func:`drop_offs`): players whose last accepted answer was
  question *i*, with later questions opened, who after *i* did nothing the server saw — no
  answer or attempt to a later question, and no later question reached their phone. Someone
  still there who skipped questions (the last one, or any in the middle) has not dropped off.

Players are identified by their player id (one per phone/browser join); units are grouped
case- and whitespace-insensitively and shown in their most common spelling.

Nothing here decides a winner: winners and standings come from :mod:`quiz_engine.results`,
which calls the rule functions in :mod:`quiz_engine.game.standings`.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from quiz_engine.banks.model import letter_for, match_key
from quiz_engine.errors import NotFound
from quiz_engine.game.standings import ORDER_BASE, PlayerScore
from quiz_engine.store.records import AnswerRecord
from quiz_engine.store.redis_store import Store
from quiz_engine.tokens import public_tag

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


def drop_offs(opened: Sequence[int], answered: dict[str, set[int]], seen: dict[str, set[int]]) -> Counter[int]:
    """Players who stopped after each question: the drop-off (definition in the module docstring).

    ``opened`` are the opened questions in play order, ``answered`` each player's questions
    with an accepted answer, ``seen`` the questions where the player was there otherwise: the
    question reached their phone in the release fan-out, or they sent an attempt (late,
    duplicate…). A player is counted once, after their last answered question, and only if
    none of the later opened questions saw them.
    """
    out: Counter[int] = Counter()
    for player, qs in answered.items():
        stop = drop_point(opened, qs, seen.get(player, set()))
        if stop is not None:
            out[stop] += 1
    return out


def drop_point(opened: Sequence[int], answered: set[int], seen: set[int]) -> int | None:
    """The question one player dropped off after, or None (see :func:`drop_offs`)."""
    played = [i for i, q in enumerate(opened) if q in answered]
    if not played:
        return None
    last = played[-1]
    later = set(opened[last + 1 :])
    return opened[last] if later and not (later & (answered | seen)) else None


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

    seen: dict[str, set[int]] = {p: set(qs) for p, qs in tl.attempts.items()}
    for q, players in reached.items():
        for p in players:
            seen.setdefault(p, set()).add(q)
    dropped = drop_offs(opened, {p: set(qs) for p, qs in answered_by.items()}, seen)
    started: Counter[int] = Counter()
    for qs in answered_by.values():
        started[min(qs)] += 1

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
    sources = _sources(await store.sources(), profiles, joined=joined, present=present, answered_one=answered_one,
                       answered_all=answered_all)
    per_player = []
    for pid in present:
        profile = profiles.get(pid, {})
        mine = {q: answers[q][pid] for q in opened if pid in answers[q]}
        per_player.append({
            **_public_person(profile, pid),
            "answers": {q: letter_for(r.option) if 0 <= r.option < 6 else str(r.option) for q, r in mine.items()},
            "correct": sum(1 for q, r in mine.items() if q not in voided and r.option == specs[q][0]),
            "dropped_after": drop_point(opened, set(answered_by.get(pid, ())), seen.get(pid, set())),
        })
    per_player.sort(key=lambda r: (r["name"].casefold(), r["tag"], r["player"]))
    return {
        "kind": "participation",
        "episode": episode,
        "title": meta.get("title", episode),
        "bank": meta.get("bank", episode.partition(".")[0]),
        "bank_title": meta.get("bank_title", ""),
        "language": meta.get("language", ""),
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
        "sources": sources,
        # for the season roll-up (ids only, no personal data)
        "_players": {"present": sorted(present), "joined": sorted(joined), "answered_all": sorted(answered_all)},
        # for the wide CSV: one row per player (display name and unit, no full name or phone)
        "_per_player": per_player,
    }


def _public_person(profile: dict[str, Any], player: str) -> dict[str, Any]:
    return {"player": player, "tag": public_tag(player), "name": str(profile.get("name", "") or ""),
            "unit": " ".join(str(profile.get("unit", "") or "").split())}


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


def _sources(
    labels: dict[str, str], profiles: dict[str, dict[str, Any]], *, joined: set[str], present: set[str],
    answered_one: set[str], answered_all: set[str],
) -> list[dict[str, Any]]:
    """Players per join source (the page whose link or QR code they came by), every configured
    source listed even at 0, then those who came by the plain link (``src`` ""). Empty when the
    show has no sources and no player came by one."""
    def empty(tag: str) -> dict[str, Any]:
        return {"src": tag, "label": labels.get(tag, tag), "players": 0, "present": 0, "answered_one": 0,
                "answered_all": 0}

    rows = {tag: empty(tag) for tag in labels}
    for pid in present:
        tag = str(profiles.get(pid, {}).get("src", "") or "")
        row = rows.setdefault(tag, empty(tag))
        row["present"] += 1
        row["players"] += pid in joined
        row["answered_one"] += pid in answered_one
        row["answered_all"] += pid in answered_all
    if set(rows) <= {""}:
        return []
    return sorted(rows.values(), key=lambda r: (r["src"] == "", -r["players"], r["label"].casefold()))


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
        "language": next((p["language"] for p in parts if p.get("language")), ""),
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
        "_per_player": _season_players(parts),
    }


def _season_players(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per player over the season: answers keyed ``(episode position, question)``."""
    rows: dict[str, dict[str, Any]] = {}
    for pos, part in enumerate(parts):
        for r in part["_per_player"]:
            row = rows.setdefault(r["player"], {**{k: r[k] for k in ("player", "tag", "name", "unit")},
                                                "answers": {}, "correct": 0, "dropped_after": None})
            row["answers"].update({(pos, q): v for q, v in r["answers"].items()})
            row["correct"] += r["correct"]
    return sorted(rows.values(), key=lambda r: (r["name"].casefold(), r["tag"], r["player"]))


def public_participation(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the internal player-id lists (for JSON output)."""
    return {k: v for k, v in report.items() if not k.startswith("_")}
