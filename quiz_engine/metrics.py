"""Prometheus metrics for ops during a show (``GET /metrics``).

With several worker processes (``serve --workers N``) the parent calls
:func:`share_across_workers` before the workers start; prometheus-client then keeps one file
per process and ``/metrics`` (served by any worker) sums them, so the numbers are for the whole
host, not for whichever worker answered the scrape. The engine reads its configuration only
through :mod:`quiz_engine.config`; whether this process is in multiprocess mode is asked of
prometheus-client, which decided it when it was imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import multiprocess as mp

_LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

CONNECTED = Gauge("quiz_connections", "Open WebSocket connections by role", ["role"], multiprocess_mode="livesum")
JOINS = Counter("quiz_joins_total", "Viewer joins and resumes", ["kind"])
ANSWERS = Counter("quiz_answers_total", "Answers by outcome (accepted or the rejection reason)", ["outcome"])
ACK_LATENCY = Histogram("quiz_answer_ack_seconds", "Answer frame arrival to acknowledgement written", buckets=_LATENCY)
REDIS_BATCH = Histogram("quiz_redis_answer_batch_seconds", "Round trip of one pipelined answer batch to Redis",
                        buckets=_LATENCY)
BATCH_SIZE = Histogram("quiz_redis_answer_batch_size", "Answers per Redis pipeline",
                       buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500))
FANOUT = Histogram("quiz_fanout_seconds", "Time to write one broadcast frame to every local socket of a role",
                   ["role"], buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0))
FANOUT_PER_CONN = Gauge("quiz_fanout_us_per_connection", "Last fan-out: microseconds per connection", ["role"],
                        multiprocess_mode="max")
SLOW_CONSUMERS = Counter("quiz_slow_consumer_disconnects_total", "Sockets cut off for not reading")
PROTOCOL_ERRORS = Counter("quiz_protocol_errors_total", "Client frames refused", ["code"])
FRONT_DOOR_REFUSED = Counter(
    "quiz_front_door_refused_total",
    "Connections closed before their first request head (timeout, too_large, busy)",
    ["reason"],
)
GC_BETWEEN_QUESTIONS = Histogram("quiz_gc_between_questions_seconds",
                                 "Full garbage collections between questions (the heap is frozen while one is open)",
                                 buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0))
LOOP_LAG = Histogram("quiz_event_loop_lag_seconds",
                     "How late a 50 ms timer fires: the longest the event loop was busy (a pause for every socket)",
                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
RELEASE_LAG = Histogram("quiz_release_lag_seconds",
                        "How late after release_at this node started writing a question to its phones",
                        buckets=_LATENCY)
REDIS_UP = Gauge("quiz_redis_up", "1 when this node reaches Redis", multiprocess_mode="min")


def share_across_workers(directory: Path) -> None:
    """Put the worker processes started after this call in prometheus-client's multiprocess mode,
    with a fresh ``directory`` for their files. prometheus-client takes it only from the
    environment, at import, so it is set for the children; this process stays as it is."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


def multiprocess() -> bool:
    """Whether this process records into the shared files (prometheus-client chose its value
    class at import from the environment ``share_across_workers`` set for it)."""
    return values.ValueClass is not values.MutexValue


def render() -> bytes:
    if multiprocess():
        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


_OUTCOMES: dict[str, Any] = {}


def answer_outcome(outcome: str) -> Any:
    """``ANSWERS.labels(outcome)``, looked up once per outcome (``labels`` takes a lock and
    builds a key on every call; this runs once per answer)."""
    child = _OUTCOMES.get(outcome)
    if child is None:
        child = _OUTCOMES[outcome] = ANSWERS.labels(outcome)
    return child
