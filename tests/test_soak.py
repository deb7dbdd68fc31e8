"""A short soak (~40 s of churn, two episodes) through loadtest/soak.py; the 10-minute run is
the same script with ``--duration 600`` (see docs/reliability.md for its figures).

Viewers keep joining, answering, dropping and resuming while the show plays episodes back to
back: no unexpected error, every acknowledged answer stored once, ``verify`` ok after each
episode, RSS flat and file descriptors back at their baseline when everyone has gone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_short_soak(tmp_path: Path) -> None:
    report = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "loadtest" / "soak.py"), "--duration", "10", "--viewers", "40",
         "--sample-s", "2", "--max-rss-growth-mb", "20", "--report", str(report)],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )
    assert report.exists(), proc.stdout + proc.stderr
    summary = json.loads(report.read_text())["summary"]
    print("\n[soak]", json.dumps({k: v for k, v in summary.items() if k != "errors"}, ensure_ascii=False))
    assert summary["errors"] == [], summary["errors"]
    assert summary["episodes"] >= 2 and summary["episodes_verified"] == summary["episodes"]
    assert summary["answers_lost"] == 0 and summary["answers_doubled"] == 0
    assert summary["answers_acked"] > 50 and summary["resumes"] > 0 and summary["joins"] > 40
    fds = summary["fds"]
    assert fds["client_sockets_final"] == 0 and fds["other_final"] <= fds["other_baseline"] + 2, fds
    assert proc.returncode == 0, proc.stdout[-3000:]
