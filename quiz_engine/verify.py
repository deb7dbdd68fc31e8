"""Recompute every result of an episode from its audit stream alone and compare.

The audit stream is append-only: every accepted (and rejected) answer, every phase
change, void, reset, disqualification, and every delivery allowance a fan-out recorded
(``fan``). If the stored answers, ordered sets, counts or totals ever disagree with a replay
of it, ``verify`` lists each difference.

It also checks the timing rule of each accepted answer from the parts the answer script
wrote beside it (docs/protocol.md, "Timing"): response = max(0, arrival − release −
allowance); the allowance is at most the cap the question was opened with; only a player a
fan-out recorded for that opening has one (rule ``fanout``), everyone else has 0 (rule
``release``); so response ≥ (arrival − release) − cap. Answers recorded before the release
clock (no parts) cannot be re-timed: ``notes`` says so instead of passing them silently.

Every prize handover (``handover``) must have gone to the holder of that prize in the
replayed results, and the stored handovers must be the audited ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from quiz_engine.claims import prizes_of
from quiz_engine.game.standings import (
    CorrectAnswer,
    answer_order_key,
    question_winners,
    rank_standings,
    scores_from_answers,
)
from quiz_engine.results import prize_rule
from quiz_engine.store.redis_store import Store


@dataclass
class Replay:
    correct_option: dict[int, int] = field(default_factory=dict)
    answers: dict[int, dict[str, tuple[int, int, int]]] = field(default_factory=dict)  # q -> p -> (o, r, seq)
    voided: set[int] = field(default_factory=set)
    disqualified: set[str] = field(default_factory=set)
    # the current opening of each question: release_at (ms) and allowance cap (µs, None: not recorded)
    openings: dict[int, tuple[int, int | None]] = field(default_factory=dict)
    allowances: dict[int, dict[str, int]] = field(default_factory=dict)  # q -> player -> µs (fan-outs)
    untimed: dict[int, int] = field(default_factory=dict)  # q -> answers recorded without timing parts
    one_prize: bool | None = None  # the prize rule the audit recorded (create / prize_rule), if any
    handovers: list[tuple[str, str, str]] = field(default_factory=list)  # (audit id, prize, player)
    refused_claims: int = 0  # codes the prize desk refused
    problems: list[str] = field(default_factory=list)

    def correct_lists(self, count: int) -> list[list[CorrectAnswer]]:
        out: list[list[CorrectAnswer]] = []
        for q in range(count):
            right = self.correct_option.get(q, -1)
            lst = [CorrectAnswer(p, r, s) for p, (o, r, s) in self.answers.get(q, {}).items() if o == right]
            out.append(sorted(lst, key=answer_order_key))
        return out

    def notes(self) -> list[str]:
        out = [f"question {q + 1}: {n} answer(s) recorded before the release clock carry no timing parts; "
               "their order and winners are checked, their response times cannot be re-derived"
               for q, n in sorted(self.untimed.items())]
        if self.refused_claims:
            out.append(f"the prize desk refused {self.refused_claims} claim code(s) (audit 'claim_refused')")
        return out


def _fanout(rp: Replay, entry_id: str, e: dict[str, str]) -> None:
    q, release = int(e["q"]), int(e["rel"])
    if rp.openings.get(q, (None, None))[0] != release:
        rp.problems.append(f"audit {entry_id}: delivery allowances for an opening of question {q + 1} "
                           "that is not the current one")
        return
    per_q = rp.allowances.setdefault(q, {})
    for item in filter(None, e.get("d", "").split(",")):
        player, _, allowance = item.rpartition(":")
        if player in per_q:
            rp.problems.append(f"audit {entry_id}: second delivery allowance for {player} on question {q + 1}")
            continue
        per_q[player] = int(allowance)


def _timed(rp: Replay, entry_id: str, q: int, p: str, e: dict[str, str]) -> int:
    """The response time re-derived from the answer's parts (problems noted on the way)."""
    if "rule" not in e:
        rp.untimed[q] = rp.untimed.get(q, 0) + 1
        return int(e["r"])
    arr, allowance, rule, stored = int(e["arr"]), int(e["al"]), e["rule"], int(e["r"])
    where = f"question {q + 1}, player {p} (audit {entry_id})"
    cap = rp.openings.get(q, (0, None))[1]
    if cap is not None and allowance > cap:
        rp.problems.append(f"{where}: allowance {allowance} µs exceeds the cap of {cap} µs")
    if rule == "release" and allowance != 0:
        rp.problems.append(f"{where}: timed from the release but given an allowance of {allowance} µs")
    elif rule == "fanout":
        recorded = rp.allowances.get(q, {}).get(p)
        if recorded is None:
            rp.problems.append(f"{where}: given an allowance of {allowance} µs but no fan-out of this opening "
                               "recorded the player (not a broadcast recipient)")
        elif recorded != allowance:
            rp.problems.append(f"{where}: allowance {allowance} µs but the fan-out recorded {recorded} µs")
    elif rule != "release":
        rp.problems.append(f"{where}: unknown timing rule {rule!r}")
    response = max(0, arr - allowance)
    if stored != response:
        rp.problems.append(f"{where}: time {stored} µs but arrival − release − allowance = {response} µs")
    if cap is not None and response < arr - cap:
        rp.problems.append(f"{where}: time {response} µs is below arrival − release − cap ({arr - cap} µs)")
    return response


def replay(entries: Iterable[tuple[str, dict[str, str]]]) -> Replay:
    rp = Replay()
    for entry_id, e in entries:
        kind = e.get("e")
        if kind in ("create", "prize_rule") and "one_prize" in e:
            rp.one_prize = e["one_prize"] == "1"
        if kind in ("create", "reset"):
            rp.answers.clear()
            rp.voided.clear()
            rp.disqualified.clear()
            rp.correct_option.clear()
            rp.openings.clear()
            rp.allowances.clear()
        elif kind == "open":
            q = int(e["q"])
            rp.correct_option[q] = int(e["a"])
            rp.openings[q] = (int(e.get("release", 0)), int(e["cap"]) * 1000 if "cap" in e else None)
            rp.allowances.pop(q, None)
        elif kind == "fan":
            _fanout(rp, entry_id, e)
        elif kind == "ans":
            q, p = int(e["q"]), e["p"]
            per_q = rp.answers.setdefault(q, {})
            if p in per_q:
                rp.problems.append(f"audit {entry_id}: second accepted answer from {p} to question {q + 1}")
                continue
            per_q[p] = (int(e["o"]), _timed(rp, entry_id, q, p, e), int(e["s"]))
        elif kind == "void":
            rp.voided.add(int(e["q"]))
        elif kind == "rerun":
            rp.answers.pop(int(e["q"]), None)
            rp.allowances.pop(int(e["q"]), None)
            rp.voided.discard(int(e["q"]))
        elif kind == "dq":
            rp.disqualified.add(e["p"])
        elif kind == "undq":
            rp.disqualified.discard(e["p"])
        elif kind == "handover":
            rp.handovers.append((entry_id, e["prize"], e["p"]))
        elif kind == "claim_refused":
            rp.refused_claims += 1
    return rp


def _handovers(rp: Replay, winners: list[list[CorrectAnswer]], standings: list[str],
               stored: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """Each handover the audit recorded went to the holder of that prize in the replayed results
    (or to a player disqualified after it: a note), and the stored ones are the audited ones."""
    diffs: list[str] = []
    notes: list[str] = []
    holders = {(p.prize, p.player) for p in prizes_of(winners, standings[0] if standings else None)}
    for entry_id, prize, player in rp.handovers:
        if (prize, player) in holders:
            continue
        if player in rp.disqualified:
            notes.append(f"prize {prize} was handed over to {player} (audit {entry_id}), who is disqualified "
                         "now; the prize has passed on")
        else:
            diffs.append(f"prize {prize} was handed over to {player} (audit {entry_id}), who does not hold it "
                         "in the replayed results")
    audited = {(prize, player) for _, prize, player in rp.handovers}
    kept = {(str(h.get("prize")), str(h.get("player"))) for h in stored}
    if kept != audited:
        diffs.append(f"stored handovers {sorted(kept)} differ from the audit's {sorted(audited)}")
    return diffs, notes


@dataclass
class Verification:
    differences: list[str]
    notes: list[str]


async def verify_episode(store: Store, episode: str, one_prize: bool | None = None) -> list[str]:
    """Differences between stored results and the audit replay (empty: all agree)."""
    return (await verify(store, episode, one_prize)).differences


async def verify(store: Store, episode: str, one_prize: bool | None = None) -> Verification:
    """Differences between stored results and the audit replay, and what could not be checked.

    The winners are recomputed under the prize rule the audit recorded for the episode (or
    ``one_prize``, if given); a stored rule that disagrees with the audit is a difference."""
    state = await store.state(episode)
    if not state:
        return Verification([f"episode {episode!r} does not exist"], [])
    rp = replay(await store.audit(episode))
    diffs = list(rp.problems)
    stored_rule = await store.prize_rule(episode)
    if rp.one_prize is not None and stored_rule is not None and stored_rule != rp.one_prize:
        diffs.append(f"prize rule differs: stored one_prize={int(stored_rule)}, audit one_prize={int(rp.one_prize)}")
    if one_prize is None:
        one_prize = rp.one_prize if rp.one_prize is not None else await prize_rule(store, episode)
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
    given_diffs, given_notes = _handovers(rp, w_replay, s_replay, await store.handovers(episode))
    return Verification(diffs + given_diffs, rp.notes() + given_notes)
