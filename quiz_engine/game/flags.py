"""Cheating signals for the secretariat: reasons to review a winner before a prize is given.

None of these disqualifies anyone by itself (a flag is a question, not a verdict):
- ``too_fast``: a correct answer faster than a person can read the question and tap
  (default 300 ms after it reached their phone);
- ``shared_ip``: many players joined from one address (could also be an office NAT);
- ``same_timing``: two players whose response times match within a few tens of
  milliseconds on several questions — one hand driving two accounts, or a bot.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    kind: str  # too_fast | shared_ip | same_timing
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def too_fast(times: Mapping[str, Mapping[int, int]], correct: Mapping[str, set[int]],
             threshold_us: int) -> dict[str, list[Flag]]:
    """Players with correct answers faster than ``threshold_us``."""
    out: dict[str, list[Flag]] = {}
    for player, per_q in times.items():
        fast = sorted(q for q, t in per_q.items() if t < threshold_us and q in correct.get(player, set()))
        if fast:
            shown = ", ".join(f"Q{q + 1} {per_q[q] / 1000:.0f} ms" for q in fast)
            out[player] = [Flag("too_fast", f"{len(fast)} correct answer(s) under {threshold_us // 1000} ms ({shown})")]
    return out


def shared_ip(ips: Mapping[str, str], min_players: int) -> dict[str, list[Flag]]:
    """Players whose join address is shared by at least ``min_players`` players."""
    groups: dict[str, list[str]] = defaultdict(list)
    for player, ip in ips.items():
        if ip:
            groups[ip].append(player)
    out: dict[str, list[Flag]] = {}
    for ip, players in groups.items():
        if len(players) >= min_players:
            for p in players:
                out[p] = [Flag("shared_ip", f"{len(players)} players joined from {ip}")]
    return out


def same_timing(times: Mapping[str, Mapping[int, int]], candidates: Iterable[str],
                tolerance_us: int = 30_000, min_questions: int = 3) -> dict[str, list[Flag]]:
    """Candidates whose response times match another player's on ``min_questions`` questions.

    Only candidates (winners, reserves, top of the standings) are examined, each against
    everyone, through one sorted list per question — not all pairs of a large audience.
    """
    by_q: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for player, per_q in times.items():
        for q, t in per_q.items():
            by_q[q].append((t, player))
    for lst in by_q.values():
        lst.sort()
    keys = {q: [t for t, _ in lst] for q, lst in by_q.items()}
    out: dict[str, list[Flag]] = {}
    for cand in candidates:
        matches: dict[str, int] = defaultdict(int)
        for q, t in times.get(cand, {}).items():
            lst, ks = by_q[q], keys[q]
            lo = bisect.bisect_left(ks, t - tolerance_us)
            hi = bisect.bisect_right(ks, t + tolerance_us)
            for _, other in lst[lo:hi]:
                if other != cand:
                    matches[other] += 1
        twins = sorted(p for p, n in matches.items() if n >= min_questions)
        if twins:
            names = ", ".join(twins[:3]) + (" …" if len(twins) > 3 else "")
            detail = f"response times within {tolerance_us // 1000} ms of {names} on {min_questions}+ questions"
            out[cand] = [Flag("same_timing", detail)]
    return out


def merge(*parts: Mapping[str, list[Flag]]) -> dict[str, list[Flag]]:
    out: dict[str, list[Flag]] = defaultdict(list)
    for part in parts:
        for player, flags in part.items():
            out[player].extend(flags)
    return dict(out)
