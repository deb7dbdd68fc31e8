"""The season definition: bank files define episodes; Redis keeps what was played.

Rule (issue 5): episodes can be re-ordered and a question replaced *before it is played,
never after*.

- An episode not yet created in Redis (never loaded by the host) simply follows its bank
  file: edit the file freely, the episode is created from it at its first load.
- An episode already created keeps the questions it was created with. ``season sync``
  copies the bank file's current questions into it for every question not played yet
  (index ≥ the episode's ``next``: neither opened nor skipped) and refuses — naming the
  question — if the file changes any played one. The change is the phase machine's ``sync``
  command, one Lua script (``store/lua/replace_unplayed.lua``): refused while a question of
  the episode is open, and it cannot interleave with an ``open``.
"""

from __future__ import annotations

from typing import Any

from quiz_engine.banks.model import Bank, Question
from quiz_engine.errors import NotFound, QuizError
from quiz_engine.library import episode_key, episode_meta, question_public, question_spec
from quiz_engine.reports.data import timeline
from quiz_engine.store.records import QuestionSpec
from quiz_engine.store.redis_store import Store, Synced

SYNC_ATTEMPTS = 3  # a host opening or skipping meanwhile moves 'next': merge again and retry


class SyncRefused(QuizError):
    """The bank file changes a question that was already played (or a question is open)."""


def _differences(old_spec: QuestionSpec | None, old_pub: dict[str, Any], q: Question) -> list[str]:
    new_pub = question_public(q)
    out = [f for f in ("id", "text", "options", "time_limit") if old_pub.get(f) != new_pub.get(f)]
    if old_spec is None or old_spec.answer != q.answer:
        out.append("answer")
    return out


async def season_show(store: Store, bank: Bank) -> dict[str, Any]:
    """Every episode of the bank file with each question's status in Redis.

    Status per question: ``unplayed`` (not created or not reached), ``played``, ``skipped``,
    ``voided``; ``file_differs`` lists fields the bank file now changes (a sync would replace
    an unplayed question; a played one can never change). Episodes created in Redis but no
    longer in the file are listed under ``orphans``.
    """
    created = {ep: meta for ep, meta in (await store.episodes()).items() if meta.get("bank") == bank.id}
    loaded = (await store.show()).get("episode", "")
    rows = []
    for ep_def in bank.episodes:
        key = episode_key(bank.id, ep_def.id)
        questions = bank.episode_questions(ep_def.id)
        state = await store.state(key) if key in created else {}
        entry: dict[str, Any] = {
            "episode": ep_def.id,
            "key": key,
            "title": ep_def.title,
            "date": ep_def.date,
            "created": bool(state),
            "loaded": key == loaded,
            "phase": state.get("phase"),
            "next": int(state.get("next", 0)),
            "questions": [],
        }
        if not state:
            entry["questions"] = [
                {"index": i, "id": q.id, "status": "unplayed", "file_differs": []} for i, q in enumerate(questions)
            ]
            rows.append(entry)
            continue
        count = int(state.get("count", 0))
        specs = await store.question_specs(key)
        pubs = await store.public_questions(key)
        voided = await store.voided(key)
        tl = timeline(await store.audit(key), count)
        nxt = entry["next"]
        for i in range(max(count, len(questions))):
            pub = pubs[i] if i < count else {}
            if i >= count:
                status = "new in file"
            elif i in voided:
                status = "voided"
            elif i in tl.skipped:
                status = "skipped"
            elif i < nxt:
                status = "played"
            else:
                status = "unplayed"
            if i < len(questions):
                diff = _differences(specs[i] if i < len(specs) else None, pub, questions[i]) if i < count else ["new"]
            else:
                diff = ["removed from file"]
            entry["questions"].append(
                {
                    "index": i,
                    "id": pub.get("id") or (questions[i].id if i < len(questions) else ""),
                    "status": status,
                    "answers": (await store.counts(key, i, 0))[1] if i < nxt else 0,
                    "file_differs": diff,
                }
            )
        rows.append(entry)
    listed = {episode_key(bank.id, e.id) for e in bank.episodes}
    return {"bank": bank.id, "title": bank.title, "episodes": rows, "orphans": sorted(set(created) - listed)}


async def season_sync(store: Store, bank: Bank, episode_id: str, actor: str = "cli") -> dict[str, Any]:
    """Replace the unplayed questions of a created episode with the bank file's current ones.

    Returns ``{"episode", "next", "changed": [indices]}``; raises :class:`SyncRefused` if a
    played question would change, or while a question of the episode is open.
    """
    questions = bank.episode_questions(episode_id)
    key = episode_key(bank.id, episode_id)
    encoded = [(question_spec(q), question_public(q)) for q in questions]
    result = Synced(False, "no_episode")
    nxt = 0
    for _ in range(SYNC_ATTEMPTS):
        state = await store.state(key)
        if not state:
            raise NotFound(
                f"episode {key!r} is not created in Redis yet: nothing to sync, it will be created "
                "from the bank file when the host loads it"
            )
        nxt = int(state.get("next", 0))
        meta = _merged_meta(bank, episode_id, await store.meta(key), nxt)
        result = await store.sync_questions(key, meta, encoded, expect_next=nxt, actor=actor)
        if result.reason != "stale":
            break
    if not result.ok:
        raise await _refused(store, result, key, episode_id, questions, nxt)
    if (await store.show()).get("episode") == key:  # running nodes re-read the questions
        await store.publish({"kind": "questions", "ep": key})
    return {"episode": key, "next": result.next, "changed": list(result.changed), "count": len(questions)}


def _merged_meta(bank: Bank, episode_id: str, old_meta: dict[str, Any], nxt: int) -> dict[str, Any]:
    """The bank file's metadata, except that played questions keep their recorded source/id
    lines even if only the citation was edited."""
    meta = episode_meta(bank, episode_id)
    for field_name in ("sources", "ids"):
        old = list(old_meta.get(field_name) or [])
        meta[field_name] = [old[i] if i < nxt and i < len(old) else v for i, v in enumerate(meta[field_name])]
    return meta


async def _refused(store: Store, result: Synced, key: str, episode_id: str, questions: list[Question],
                   nxt: int) -> QuizError:
    """The error that explains a refused sync (naming the played question it would change)."""
    if result.reason == "played_removed":
        return SyncRefused(
            f"{key}: the bank file now has {len(questions)} question(s) but {nxt} were already played; "
            "played questions can never be removed"
        )
    if result.reason == "played_changed":
        index = result.question
        specs = await store.question_specs(key)
        pubs = await store.public_questions(key)
        fields = _differences(specs[index], pubs[index], questions[index])
        return SyncRefused(
            f"{key}: question {index + 1} (id {pubs[index].get('id', '?')!r}) was already played; the bank "
            f"file changes its {', '.join(fields) or 'definition'} — a played question can never change. "
            f"Restore it in the file (question {index + 1} of episode {episode_id!r})."
        )
    if result.reason == "no_episode":
        return NotFound(f"episode {key!r} does not exist")
    return SyncRefused(result.message)
