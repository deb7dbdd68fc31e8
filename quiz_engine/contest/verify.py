"""``verify`` for the online contest: every draw, answer and score recomputed from the audit alone,
and compared with what Redis holds. Pure: the audit entries and the stored results come in.

From the contest file, the bank and the shared secret, each ``start`` must hold the draw the
secret gives for (contest, round, person, attempt number), the attempt numbers of a person in a
round must run 1, 2, … up to the limit, one at a time. Each ``answer`` must be timed from its
question's ``deliver`` (never over the limit) and its correctness must follow the draw's key.
Each ``finish`` must add up: correct answers, total time (a question that ran out counts its
limit), the answers list; and the finished attempts Redis ranks must be exactly those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from quiz_engine.banks.model import Bank
from quiz_engine.contest import draw as D
from quiz_engine.contest.model import Contest
from quiz_engine.store.contest import Finished, round_of

GRACE_MS = 1_500


@dataclass
class Verified:
    ok: bool = True
    attempts: int = 0
    finished: int = 0
    answers: int = 0
    diffs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def bad(self, text: str) -> None:
        self.ok = False
        if len(self.diffs) < 200:
            self.diffs.append(text)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "attempts": self.attempts, "finished": self.finished, "answers": self.answers,
                "diffs": self.diffs, "notes": self.notes}


def verify(contest: Contest, bank: Bank, secret: str, audit: Iterable[dict[str, str]],
           stored: Mapping[str, Sequence[Finished]]) -> Verified:
    out = Verified()
    per_q = (contest.time_per_question or 0) * 1000
    starts: dict[str, dict[str, str]] = {}
    delivered: dict[str, dict[int, int]] = defaultdict(dict)
    answered: dict[str, dict[int, tuple[int, int]]] = defaultdict(dict)
    finishes: dict[str, dict[str, str]] = {}
    numbers: dict[tuple[str, str], list[int]] = defaultdict(list)
    running: dict[str, str] = {}  # person -> attempt in progress, in audit order
    for e in audit:
        kind, aid = e.get("e"), e.get("a", "")
        if kind == "start":
            out.attempts += 1
            person, round_id, n = e["p"], e["r"], int(e["n"])
            expected = D.draw(contest, bank, D.seed(secret, contest.id, round_id, person, n)).pack()
            if e.get("draw") != expected:
                out.bad(f"{aid}: the draw is not the one the secret gives for attempt {n} of {person} in {round_id}")
            numbers[(round_id, person)].append(n)
            if person in running:
                out.bad(f"{aid}: started while {running[person]} was still in progress")
            running[person] = aid
            starts[aid] = e
        elif kind == "deliver":
            i = int(e["i"])
            if i in delivered[aid]:
                out.bad(f"{aid}: question {i + 1} delivered twice (its clock would restart)")
            delivered[aid].setdefault(i, int(e["t"]))
        elif kind == "answer":
            out.answers += 1
            i, ms, t = int(e["i"]), int(e["ms"]), int(e["t"])
            start = starts.get(aid)
            if start is None or i not in delivered[aid]:
                out.bad(f"{aid}: an answer to question {i + 1} that was never delivered")
                continue
            if i in answered[aid]:
                out.bad(f"{aid}: question {i + 1} answered twice")
            expected_ms = min(t - delivered[aid][i], per_q) if per_q else t - delivered[aid][i]
            if ms != expected_ms:
                out.bad(f"{aid}: question {i + 1} timed {ms} ms, the audit's times give {expected_ms}")
            if per_q and t - delivered[aid][i] > per_q + GRACE_MS:
                out.bad(f"{aid}: question {i + 1} answered after its limit")
            key = D.unpack(start["draw"], bank).key
            right = int(int(e["o"]) == int(key[i]))
            if right != int(e["ok"]):
                marked = "right" if int(e["ok"]) else "wrong"
                out.bad(f"{aid}: question {i + 1} marked {marked}, the draw says otherwise")
            answered[aid][i] = (int(e["o"]), ms)
        elif kind == "finish":
            out.finished += 1
            finishes[aid] = e
            if running.get(e.get("p", "")) == aid:
                del running[e["p"]]
    for (round_id, person), ns in numbers.items():
        if ns != list(range(1, len(ns) + 1)) or len(ns) > contest.attempts_per_round:
            out.bad(f"{person} in {round_id}: attempts numbered {ns} (the limit is {contest.attempts_per_round})")
    for aid, e in finishes.items():
        start = starts.get(aid)
        if start is None:
            out.bad(f"{aid}: finished but never started")
            continue
        key = D.unpack(start["draw"], bank).key
        parts, correct, total = [], 0, 0
        for i in range(len(key)):
            if i in answered[aid]:
                option, ms = answered[aid][i]
                correct += int(option == int(key[i]))
            else:  # never answered: its limit if it was delivered (what the attempt had left without one)
                option = -1
                ms = 0 if i not in delivered[aid] else per_q or int(e["t"]) - delivered[aid][i]
            total += ms
            parts.append(f"{option}:{ms};")
        if (int(e["ok"]), int(e["tm"]), e.get("ans", "")) != (correct, total, "".join(parts)):
            out.bad(f"{aid}: the result ({e['ok']} right, {e['tm']} ms) is not what its answers give "
                    f"({correct} right, {total} ms)")
    audit_done = {aid for aid in finishes}
    stored_done = {f.attempt: f for fs in stored.values() for f in fs}
    for aid in sorted(audit_done - set(stored_done)):
        out.bad(f"{aid}: finished in the audit, missing from the stored results")
    for aid in sorted(set(stored_done) - audit_done):
        out.bad(f"{aid}: in the stored results, with no finish in the audit")
    for aid in sorted(audit_done & set(stored_done)):
        f, e = stored_done[aid], finishes[aid]
        if (f.correct, f.time_ms, f.person, round_of(aid)) != (int(e["ok"]), int(e["tm"]), e["p"],
                                                                 starts.get(aid, {}).get("r")):
            out.bad(f"{aid}: the stored result differs from the audit's")
    if running:
        out.notes.append(f"{len(running)} attempt(s) still in progress")
    return out
