"""Recompute every result of an episode from its audit stream alone and compare.

The audit stream is append-only: every accepted (and rejected) answer, every phase
change, void, reset and disqualification. If the stored answers, ordered sets, counts or
totals ever disagree with a replay of it, ``verify`` lists each difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from quiz_engine.game.standings import (
    CorrectAnswer,
    answer_order_key,
    question_winners,
    rank_standings,
    scores_from_answers,
)
from quiz_engine.store.redis_store import Store


@dataclass
class Replay:
    correct_option: dict[int, int] = field(default_factory=dict)
    answers: dict[int, dict[str, tuple[int, int, int]]] = field(default_factory=dict)  # q -> p -> (o, r, seq)
    voided: set[int] = field(default_factory=set)
    disqualified: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    def correct_lists(self, count: int) -> list[list[CorrectAnswer]]:
        out: list[list[CorrectAnswer]] = []
        for q in range(count):
            right = self.correct_option.get(q, -1)
            lst = [CorrectAnswer(p, r, s) for p, (o, r, s) in self.answers.get(q, {}).items() if o == right]
            out.append(sorted(lst, key=answer_order_key))
        return out


def replay(entries: Iterable[tuple[str, dict[str, str]]]) -> Replay:
    rp = Replay()
    for entry_id, e in entries:
        kind = e.get("e")
        if kind in ("create", "reset"):
            rp.answers.clear()
            rp.voided.clear()
            rp.disqualified.clear()
            rp.correct_option.clear()
        elif kind == "open":
            rp.correct_option[int(e["q"])] = int(e["a"])
        elif kind == "ans":
            q, p = int(e["q"]), e["p"]
            per_q = rp.answers.setdefault(q, {})
            if p in per_q:
                rp.problems.append(f"audit {entry_id}: second accepted answer from {p} to question {q + 1}")
                continue
            per_q[p] = (int(e["o"]), int(e["r"]), int(e["s"]))
        elif kind == "void":
            rp.voided.add(int(e["q"]))
        elif kind == "rerun":
            rp.answers.pop(int(e["q"]), None)
            rp.voided.discard(int(e["q"]))
        elif kind == "dq":
            rp.disqualified.add(e["p"])
        elif kind == "undq":
            rp.disqualified.discard(e["p"])
    return rp


async def verify_episode(store: Store, episode: str, one_prize: bool) -> list[str]:
    """Differences between stored results and the audit replay (empty: all agree)."""
    state = await store.state(episode)
    if not state:
        return [f"episode {episode!r} does not exist"]
    rp = replay(await store.audit(episode))
    diffs = list(rp.problems)
    count = int(state.get("count", 0))
    specs = await store.question_specs(episode)
    for q in range(count):
        stored = await store.all_answers(episode, q)
        replayed = rp.answers.get(q, {})
        for p in sorted(set(stored) | set(replayed)):
            s = stored.get(p)
            r = replayed.get(p)
            if s is None:
                diffs.append(f"question {q + 1}: audit has an answer from {p} that is not stored")
            elif r is None:
                diffs.append(f"question {q + 1}: stored answer from {p} is not in the audit stream")
            elif s[:3] != r:
                diffs.append(f"question {q + 1}: {p} stored (option, time µs, seq) {s[:3]} but audit says {r}")
        if q in rp.correct_option and rp.correct_option[q] != specs[q][0]:
            diffs.append(
                f"question {q + 1}: audit records correct option {rp.correct_option[q]}, spec says {specs[q][0]}"
            )
        counts, total = await store.counts(episode, q, specs[q][1])
        want = [0] * specs[q][1]
        for o, _, _ in replayed.values():
            if 0 <= o < len(want):
                want[o] += 1
        if counts != want or total != len(replayed):
            diffs.append(
                f"question {q + 1}: stored counts {counts} (total {total}) but audit gives {want} "
                f"(total {len(replayed)})"
            )
    stored_correct = [await store.correct_answers(episode, q) for q in range(count)]
    replay_correct = rp.correct_lists(count)
    for q in range(count):
        if stored_correct[q] != replay_correct[q]:
            diffs.append(f"question {q + 1}: stored order of correct answers differs from the audit replay")
    stored_dq = set(await store.disqualified(episode))
    if stored_dq != rp.disqualified:
        diffs.append(f"disqualified players differ: stored {sorted(stored_dq)}, audit {sorted(rp.disqualified)}")
    stored_voided = await store.voided(episode)
    if stored_voided != rp.voided:
        diffs.append(f"voided questions differ: stored {sorted(stored_voided)}, audit {sorted(rp.voided)}")
    replay_scores = scores_from_answers(replay_correct, rp.voided)
    stored_scores = {s.player: s for s in await store.scores(episode)}
    for p in sorted(set(replay_scores) | set(stored_scores)):
        if replay_scores.get(p) != stored_scores.get(p):
            diffs.append(f"totals of {p}: stored {stored_scores.get(p)} but audit gives {replay_scores.get(p)}")
    w_stored = question_winners(stored_correct, stored_dq, one_prize, stored_voided)
    w_replay = question_winners(replay_correct, rp.disqualified, one_prize, rp.voided)
    for q in range(count):
        a = w_stored[q][0].player if w_stored[q] else None
        b = w_replay[q][0].player if w_replay[q] else None
        if a != b:
            diffs.append(f"question {q + 1}: stored winner {a} but audit replay gives {b}")
    s_stored = [s.score.player for s in rank_standings(stored_scores.values(), stored_dq)]
    s_replay = [s.score.player for s in rank_standings(replay_scores.values(), rp.disqualified)]
    if s_stored != s_replay:
        diffs.append("episode standings differ between stored totals and the audit replay")
    return diffs
