"""Dispute support: every answer to one question, in the order Redis received it.

The audit stream is append-only and written by the answer script itself, so its order is
the arrival order that breaks ties between equal response times, and each entry carries
the decision (accepted / rejected and why) made at that moment. Phase events (open,
close, void, reset) are interleaved so a reader sees where the window opened and closed.
Each accepted answer shows the parts of its time (docs/protocol.md, "Timing"): arrival after
the release, the delivery allowance and which rule applied.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from quiz_engine.reports.safe import csv_writer
from quiz_engine.store.redis_store import Store

PHASE_EVENTS = ("open", "close", "void")
BOUNDARIES = ("create", "reset")


def redis_time(value: int) -> str:
    """UTC wall time of an audit ``now`` (µs for answers, ms for phase events)."""
    us = value if value > 10**14 else value * 1000
    return dt.datetime.fromtimestamp(us / 1_000_000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def question_audit(store: Store, episode: str, question: int) -> list[dict[str, Any]]:
    """Rows for one question (0-based), oldest first: answers (``kind`` ans/rej) and events."""
    entries = await store.audit(episode)
    q = str(question)
    picked = [
        (i, e)
        for i, e in entries
        if e.get("e") in BOUNDARIES or (e.get("q") == q and e.get("e") in ("ans", "rej", *PHASE_EVENTS))
    ]
    profiles = await store.players(sorted({e["p"] for _, e in picked if "p" in e}))
    rows: list[dict[str, Any]] = []
    for entry_id, e in picked:
        kind = e["e"]
        row: dict[str, Any] = {"entry": entry_id, "kind": kind, "redis_time": redis_time(int(e.get("now", 0)))}
        if kind in ("ans", "rej"):
            profile = profiles.get(e["p"], {})
            option = int(e.get("o", -1))
            row.update(
                player=e["p"],
                name=profile.get("name", ""),
                full_name=profile.get("full_name", ""),
                unit=profile.get("unit", ""),
                option="ABCDEF"[option] if 0 <= option < 6 else str(option),
                seq=int(e["s"]) if kind == "ans" else None,
                time_ms=round(int(e["r"]) / 1000, 3) if kind == "ans" else None,
                accepted=kind == "ans",
                correct=e.get("c") == "1" if kind == "ans" else None,
                reason="" if kind == "ans" else e.get("why", ""),
                after_release_ms=round(int(e["arr"]) / 1000, 3) if "arr" in e else None,
                allowance_ms=round(int(e["al"]) / 1000, 3) if "al" in e else None,
                rule=e.get("rule", ""),
            )
        else:
            row.update(by=e.get("by", ""), reason=e.get("why", ""))
        rows.append(row)
    # boundaries only matter around this question's entries: drop leading/trailing bare ones
    while rows and rows[-1]["kind"] in BOUNDARIES:
        rows.pop()
    return rows


def decision(row: dict[str, Any]) -> str:
    if row["kind"] == "ans":
        return "accepted, correct" if row["correct"] else "accepted, wrong"
    if row["kind"] == "rej":
        return f"rejected: {row['reason']}"
    return str(row["kind"])


AUDIT_CSV_COLUMNS = ["redis_time_utc", "event", "arrival_seq", "player", "name", "full_name", "unit", "option",
                     "time_ms", "after_release_ms", "allowance_ms", "timing_rule", "decision", "reason", "by",
                     "audit_id"]


def _blank(value: Any) -> Any:
    return "" if value is None else value


def audit_csv(rows: list[dict[str, Any]]) -> str:
    """The dispute table as CSV; names and reasons are neutralised like every report cell."""
    buf = io.StringIO()
    w = csv_writer(buf)  # formula-safe cells (reports/safe.py)
    w.writerow(AUDIT_CSV_COLUMNS)
    for r in rows:
        answer = r["kind"] in ("ans", "rej")
        w.writerow([
            r["redis_time"], r["kind"], r.get("seq") or "", r.get("player", ""), r.get("name", ""),
            r.get("full_name", ""), r.get("unit", ""), r.get("option", ""),
            _blank(r.get("time_ms")), _blank(r.get("after_release_ms")), _blank(r.get("allowance_ms")),
            r.get("rule", ""), decision(r) if answer else "", r.get("reason", ""),
            r.get("by", ""), r["entry"],
        ])
    return buf.getvalue()


def audit_text(rows: list[dict[str, Any]]) -> str:
    """The table a secretariat shows in a dispute (arrival order, one line per answer)."""
    head = (f"{'arrival':>7}  {'redis time (UTC)':<26} {'player':<14} {'name':<20} {'opt':>3} {'time ms':>10}"
            f"  {'timing (after release − allowance)':<36}")
    lines = [f"{head}  decision"]
    n = accepted = 0
    for r in rows:
        if r["kind"] not in ("ans", "rej"):
            by = f" ({r['by']})" if r.get("by") else ""
            extra = f": {r['reason']}" if r.get("reason") else ""
            lines.append(f"{'':>7}  {r['redis_time']:<26} --- {r['kind']}{by}{extra}")
            continue
        n += 1
        accepted += r["accepted"]
        seq = "" if r["seq"] is None else str(r["seq"])
        ms = "" if r["time_ms"] is None else f"{r['time_ms']:.1f}"
        lines.append(f"{seq:>7}  {r['redis_time']:<26} {r['player']:<14} {r['name'][:20]:<20} {r['option']:>3} "
                     f"{ms:>10}  {_timing(r):<36}  {decision(r)}")
    lines.append(f"{n} answer(s): {accepted} accepted, {n - accepted} rejected")
    return "\n".join(lines) + "\n"


def _timing(row: dict[str, Any]) -> str:
    """How the time was made: 'fan-out: 2013.2 − 4.1' or 'release: 3001.0' ('' if not recorded)."""
    after, allowance = row.get("after_release_ms"), row.get("allowance_ms")
    if after is None:
        return ""
    if row.get("rule") == "fanout":
        return f"fan-out: {after:.1f} − {allowance or 0:.1f}"
    return f"release: {after:.1f}"
