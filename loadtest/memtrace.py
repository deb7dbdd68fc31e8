"""Run ``quiz-engine`` with ``tracemalloc`` on, to find what a long show keeps in memory.

    python loadtest/memtrace.py serve …          (the same arguments as quiz-engine)
    kill -USR2 <pid>                              (each signal appends a report)

The first ``SIGUSR2`` takes a baseline snapshot (after a full collection); every later one
appends to ``QE_TRACE_OUT`` (default ``/tmp/qe-memtrace.txt``) the allocations that grew
most since that baseline, with their tracebacks. Used by ``loadtest/soak.py --trace-every S``. tracemalloc
slows the server down a lot: for memory hunts only, never for speed figures.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOP = 25


def main() -> int:
    tracemalloc.start(int(os.environ.get("QE_TRACE_FRAMES", "12")))
    out = Path(os.environ.get("QE_TRACE_OUT", "/tmp/qe-memtrace.txt"))
    baseline: list[tracemalloc.Snapshot] = []

    def report(signum: int, frame: FrameType | None) -> None:
        gc.unfreeze()  # the server freezes the heap while a question is open: count only what is reachable
        gc.collect()
        snap = tracemalloc.take_snapshot()  # no filter_traces: it is pure Python, minutes on a big heap
        traced = sum(s.size for s in snap.statistics("filename")) / 2**20
        lines = [f"\n=== {time.strftime('%H:%M:%S')} traced {traced:.1f} MiB"]
        if baseline:
            for stat in snap.compare_to(baseline[0], "traceback")[:TOP]:
                lines.append(f"{stat.size_diff / 1024:+.1f} KiB ({stat.count_diff:+d} blocks), "
                             f"now {stat.size / 1024:.1f} KiB")
                lines.extend("    " + line for line in stat.traceback.format(limit=8))
        else:
            baseline.append(snap)
            lines.append("baseline taken")
        with out.open("a") as f:
            f.write("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR2, report)
    from quiz_engine.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
