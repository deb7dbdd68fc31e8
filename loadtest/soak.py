# ruff: noqa: ASYNC210, ASYNC220, ASYNC230, ASYNC240 - a script: blocking set-up calls are fine
"""Soak test: a real server for a long time under constant churn; memory and fds must stay flat.

    .venv/bin/python loadtest/soak.py --duration 600 --viewers 120 --report soak.json

Starts its own ``redis-server`` (AOF, in a temporary directory) unless ``--redis-url`` is
given, and its own ``quiz-engine serve`` child on a free port. Then, until the time is up:

- a show driver plays episodes back to back (two episodes, alternating; each is reset
  before it is played again): open → closed by the server's timer → reveal → leaderboard …
  → finish, then checks that every acknowledged answer is stored exactly once and that
  ``verify`` agrees;
- N viewers keep joining, answering, dropping their socket, reconnecting with ``resume``,
  and now and then leaving for good (a new player takes the seat);
- the server's RSS, open file descriptors and thread count are sampled (psutil) every few
  seconds.

Pass (exit 0) when: no unexpected error, every episode verified with 0 acknowledged answers
lost or doubled, RSS growth between the first and the last quarter of the run under
``--max-rss-growth-mb``, and once every viewer has gone: no client socket left open and the
file descriptors other than sockets to Redis back at their baseline (the Redis connection pool
keeps idle connections up to the peak concurrency; its size is reported apart). The JSON
report has every figure.

All viewers share 127.0.0.1, so the per-IP join limits are raised for the child server
(QUIZ_JOIN_RATE / QUIZ_JOIN_BURST); the limits themselves are tested in tests/test_abuse.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis as redis_lib
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from quiz_engine.redis_server import EmbeddedRedis, free_port  # noqa: E402
from quiz_engine.store.keys import EpisodeKeys  # noqa: E402

HOST_TOKEN = "soak-host-token-123456"
EPISODES = ("e1", "e2")
QUESTIONS = 3
TIME_LIMIT = 5
# answers racing a close (late, not_open) or the next open (wrong_question), or sent twice
EXPECTED_REJECTIONS = {"late", "duplicate", "not_open", "wrong_question"}


def write_bank(directory: Path) -> Path:
    out = ['[bank]\nid = "soak"\ntitle = "Soak"\nlanguage = "vi"\n']
    for ep in EPISODES:
        ids = ", ".join(f'"{ep}q{i}"' for i in range(QUESTIONS))
        out.append(f'[[episodes]]\nid = "{ep}"\ntitle = "Soak {ep}"\nquestions = [{ids}]\n')
    for ep in EPISODES:
        for i in range(QUESTIONS):
            out.append(f'[[questions]]\nid = "{ep}q{i}"\ntext = "Câu hỏi {ep} số {i + 1}: thủ tục nào?"\n'
                       f'options = ["Một", "Hai", "Ba", "Bốn"]\nanswer = "{"ABCD"[i % 4]}"\n'
                       f"time_limit = {TIME_LIMIT}\n")
    path = directory / "soak.toml"
    path.write_text("\n".join(out), encoding="utf-8")
    return path


@dataclass
class Report:
    started: float = field(default_factory=time.time)
    errors: list[str] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, float]] = field(default_factory=list)
    joins: int = 0
    resumes: int = 0
    connects: int = 0
    acked: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    # (cycle, question) -> player -> option, for every ack ok:true
    acks: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    cycle: int = 0

    def error(self, what: str) -> None:
        if len(self.errors) < 200:
            self.errors.append(f"{time.time() - self.started:7.1f}s {what}")


class Viewer:
    def __init__(self, url: str, report: Report, rng: random.Random, n: int) -> None:
        self.url, self.report, self.rng, self.n = url, report, rng, n
        self.token: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.rng.random() < 0.1:
                self.token = None  # leaves for good; a new player takes the seat
            stay = self.rng.uniform(2, 25)
            try:
                await asyncio.wait_for(self.session(stop), stay)
            except TimeoutError:
                pass  # the viewer drops its socket (network switch, app in background...)
            except (OSError, websockets.WebSocketException) as exc:
                if not stop.is_set():
                    self.report.error(f"viewer {self.n}: {type(exc).__name__}: {exc}")
            await asyncio.sleep(self.rng.uniform(0, 2))

    async def session(self, stop: asyncio.Event) -> None:
        async with websockets.connect(self.url, open_timeout=20, ping_interval=None, close_timeout=2) as ws:
            self.report.connects += 1
            if self.token:
                await ws.send(json.dumps({"type": "resume", "token": self.token}))
            else:
                await ws.send(json.dumps({"type": "join", "name": f"Khán giả {self.n}", "unit": f"Sở {self.n % 7}"}))
            answering: asyncio.Task[None] | None = None
            joined = False  # answer only once this connection has joined/resumed
            try:
                async for raw in ws:
                    if stop.is_set():
                        return
                    frame = json.loads(raw)
                    kind = frame["type"]
                    if kind == "welcome":
                        self.token, joined = frame["token"], True
                        if frame["resumed"]:
                            self.report.resumes += 1
                        else:
                            self.report.joins += 1
                    elif kind == "error":
                        if frame["code"] == "bad_token":
                            self.token = None  # the episode store was reset? never expected here
                        self.report.error(f"viewer {self.n}: error {frame}")
                    elif joined and (kind == "question" or (kind == "snapshot" and frame.get("phase") == "question"
                                                            and frame.get("you") is None)):
                        index = frame["index"]
                        left_s = (frame.get("deadline", 0) - frame.get("now", 0)) / 1000
                        if self.rng.random() < 0.85 and (answering is None or answering.done()):
                            answering = asyncio.create_task(self.answer(ws, index, self.report.cycle, left_s))
                    elif kind == "ack":
                        self.on_ack(frame)
            finally:
                if answering is not None:
                    answering.cancel()
            if ws.close_code not in (1000, 1001, 1012, None):
                self.report.error(f"viewer {self.n}: closed with {ws.close_code}")

    async def answer(self, ws: Any, index: int, cycle: int, left_s: float) -> None:
        # mostly inside the window; about 5% deliberately a little after the deadline
        await asyncio.sleep(self.rng.uniform(0.1, max(0.2, left_s * 1.05)))
        ref = f"{cycle}:{index}:{self.n}"
        await ws.send(json.dumps({"type": "answer", "question": index, "option": self.rng.randrange(4), "ref": ref}))

    def on_ack(self, ack: dict[str, Any]) -> None:
        cycle, index, _ = (int(x) for x in str(ack.get("ref", "0:0:0")).split(":"))
        if ack["ok"]:
            self.report.acked += 1
            player = (self.token or "").split(".")[0]
            self.report.acks.setdefault((cycle, index), {})[player] = ack["option"]
        else:
            reason = ack["reason"]
            self.report.rejected[reason] = self.report.rejected.get(reason, 0) + 1
            if reason not in EXPECTED_REJECTIONS:
                self.report.error(f"viewer {self.n}: {ack}")


class Show:
    def __init__(self, base: str, redis_url: str, report: Report, timeout: float = 30) -> None:
        self.http = httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {HOST_TOKEN}"},
                                      timeout=timeout)
        self.redis_url, self.report = redis_url, report

    async def cmd(self, command: str, **body: Any) -> dict[str, Any]:
        r = await self.http.post(f"/api/host/{command}", json=body)
        if r.status_code != 200:
            raise RuntimeError(f"{command} {body}: {r.status_code} {r.text}")
        return dict(r.json())

    async def state(self) -> dict[str, Any]:
        try:
            return dict((await self.http.get("/api/host/state")).json())
        except (httpx.ReadError, httpx.RemoteProtocolError):
            # a kept-alive connection the server closed just as it was reused: a GET is safe to retry
            return dict((await self.http.get("/api/host/state")).json())

    async def episode(self, ep: str) -> None:
        self.report.cycle += 1
        cycle = self.report.cycle
        started = time.monotonic()
        await self.cmd("load", bank="soak", episode=ep)
        if (await self.state())["phase"] != "lobby":
            await self.cmd("reset", confirm=f"soak.{ep}")
        await asyncio.sleep(0.5)
        for q in range(QUESTIONS):
            await self.cmd("open", expect=q)
            for _ in range(200):  # the server's timer closes it
                await asyncio.sleep(0.25)
                if (await self.state())["phase"] == "closed":
                    break
            else:
                raise RuntimeError(f"question {q} of {ep} never closed by itself")
            await self.cmd("reveal")
            await asyncio.sleep(0.3)
            await self.cmd("leaderboard")
            await asyncio.sleep(0.3)
        await self.cmd("finish")
        await asyncio.sleep(0.5)
        verify = (await self.http.get("/api/host/verify")).json()
        lost, doubled, stored_total = self.check_acks(ep, cycle)
        entry = {"cycle": cycle, "episode": ep, "verify_ok": verify["ok"], "differences": verify["differences"][:5],
                 "acked": sum(len(self.report.acks.get((cycle, q), {})) for q in range(QUESTIONS)),
                 "stored": stored_total, "lost": lost, "doubled": doubled,
                 "seconds": round(time.monotonic() - started, 1)}
        self.report.episodes.append(entry)
        print(f"episode {cycle} ({ep}): {entry}", flush=True)
        if not verify["ok"] or lost or doubled:
            self.report.error(f"episode {cycle}: {entry}")

    def check_acks(self, ep: str, cycle: int) -> tuple[int, int, int]:
        keys = EpisodeKeys(f"soak.{ep}")
        r = redis_lib.Redis.from_url(self.redis_url, decode_responses=True)
        lost = doubled = total = 0
        try:
            entries = [f for _, f in r.xrange(keys.audit)]
            last_reset = max((i for i, f in enumerate(entries) if f.get("e") == "reset"), default=-1)
            audit = [f for f in entries[last_reset + 1 :] if f.get("e") == "ans"]  # this cycle only
            for q in range(QUESTIONS):
                stored = {p: int(v.split("|")[0]) for p, v in r.hgetall(keys.answers(q)).items()}
                total += len(stored)
                for player, option in self.report.acks.get((cycle, q), {}).items():
                    if stored.get(player) != option:
                        lost += 1
                in_audit = [f["p"] for f in audit if f.get("q") == str(q)]
                n = int(r.hget(keys.counts(q), "n") or 0)
                doubled += (len(in_audit) - len(set(in_audit))) + abs(n - len(stored))
        finally:
            r.close()
        return lost, doubled, total


def sample(proc: psutil.Process, report: Report, base: str, redis_port: int) -> None:
    try:
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        match = re.search(r'^quiz_connections\{role="viewer"\} ([0-9.]+)$', metrics, re.MULTILINE)
        server_port = int(base.rsplit(":", 1)[1])
        tcp = proc.net_connections(kind="tcp")
        report.samples.append({
            "t": round(time.time() - report.started, 1), "rss_mb": proc.memory_info().rss / 2**20,
            "fds": proc.num_fds(), "threads": proc.num_threads(),
            # established only: the /metrics request just above leaves its own socket closing
            "client_sockets": sum(1 for c in tcp if c.laddr and c.laddr.port == server_port and c.raddr
                                  and c.status == psutil.CONN_ESTABLISHED),
            "redis_sockets": sum(1 for c in tcp if c.raddr and c.raddr.port == redis_port),
            "viewers": float(match.group(1)) if match else -1.0})
    except (psutil.Error, httpx.HTTPError) as exc:
        report.error(f"sampling failed: {exc}")


async def soak(args: argparse.Namespace) -> int:
    report = Report()
    tmp = Path(tempfile.mkdtemp(prefix="qe-soak-"))
    own_redis = None
    redis_url = args.redis_url
    if not redis_url:
        own_redis = EmbeddedRedis(tmp / "redis")
        redis_url = own_redis.start()
    redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    port = free_port()
    log_path = tmp / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "QUIZ_JOIN_RATE": "1000", "QUIZ_JOIN_BURST": "1000"}
    entry = [str(ROOT / "loadtest" / "memtrace.py")] if args.trace_every else ["-m", "quiz_engine"]
    if args.trace_every:
        env["QE_TRACE_OUT"] = str(Path(args.trace_out).resolve())
        env.setdefault("QE_TRACE_FRAMES", "6")
    cmd = [sys.executable, *entry, "serve", "--port", str(port), "--redis-url", redis_url,
           "--host-token", HOST_TOKEN, "--bank", str(write_bank(tmp)), "--load", "soak/e1", "--log-level", "warning"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if server.poll() is not None:
                raise RuntimeError(log_path.read_text())
            await asyncio.sleep(0.1)
        proc = psutil.Process(server.pid)
        await asyncio.sleep(1.0)
        sample(proc, report, base, redis_port)
        first = report.samples[-1]
        baseline_fds = first["fds"]
        baseline_other = first["fds"] - first["client_sockets"] - first["redis_sockets"]
        rng = random.Random(args.seed)
        viewers = [Viewer(f"ws://127.0.0.1:{port}/ws/viewer", report, random.Random(rng.random()), i)
                   for i in range(args.viewers)]
        tasks = [asyncio.create_task(v.run(stop)) for v in viewers]
        show = Show(base, redis_url, report, timeout=300 if args.trace_every else 30)  # snapshots stall it

        async def sampler() -> None:
            while not stop.is_set():
                await asyncio.sleep(args.sample_s)
                await asyncio.to_thread(sample, proc, report, base, redis_port)

        tasks.append(asyncio.create_task(sampler()))

        async def tracer() -> None:  # memtrace.py: baseline once the seats are filled, then reports
            await asyncio.sleep(30)
            while not stop.is_set():
                server.send_signal(signal.SIGUSR2)
                await asyncio.sleep(args.trace_every)

        if args.trace_every:
            tasks.append(asyncio.create_task(tracer()))
        deadline = time.monotonic() + args.duration
        i = 0
        while time.monotonic() < deadline or len(report.episodes) < args.min_episodes:
            await show.episode(EPISODES[i % len(EPISODES)])
            i += 1
        stop.set()
        for t in tasks:
            t.cancel()  # viewers leave at once (an abrupt close is one more thing to survive)
        await asyncio.gather(*tasks, return_exceptions=True)
        await show.http.aclose()
        await asyncio.sleep(3.0)  # every viewer has gone: fds must be back at the baseline
        sample(proc, report, base, redis_port)
        for _ in range(10):  # a socket may still be finishing its close handshake: give it time
            if report.samples[-1].get("client_sockets", 0) == 0:
                break
            await asyncio.sleep(1.0)
            sample(proc, report, base, redis_port)
        final = report.samples[-1]
        if server.poll() is not None:
            report.error(f"server exited with {server.returncode}")
    finally:
        stop.set()
        for t in tasks:
            t.cancel()
        if server.poll() is not None:  # it died: say why before the temporary directory goes
            print(f"server exited with {server.returncode}; its log ends:\n"
                  f"{log_path.read_text(errors='replace')[-3000:]}", file=sys.stderr)
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if own_redis is not None:
            own_redis.stop()

    log_text = log_path.read_text(errors="replace")
    for line in log_text.splitlines():
        if re.search(r"\b(ERROR|Traceback|CRITICAL)\b", line):
            report.error(f"server log: {line[:300]}")
    rss = [s["rss_mb"] for s in report.samples[1:-1]] or [report.samples[0]["rss_mb"]]
    quarter = max(1, len(rss) // 4)
    growth = statistics.median(rss[-quarter:]) - statistics.median(rss[:quarter])
    fds = [s["fds"] for s in report.samples]
    summary = {
        "duration_s": round(time.time() - report.started, 1),
        "viewers": args.viewers,
        "episodes": len(report.episodes),
        "episodes_verified": sum(1 for e in report.episodes if e["verify_ok"] and not e["lost"] and not e["doubled"]),
        "connects": report.connects, "joins": report.joins, "resumes": report.resumes,
        "answers_acked": report.acked, "answers_rejected": report.rejected,
        "answers_lost": sum(e["lost"] for e in report.episodes),
        "answers_doubled": sum(e["doubled"] for e in report.episodes),
        "rss_mb": {"first": round(rss[0], 1), "last": round(rss[-1], 1), "min": round(min(rss), 1),
                   "max": round(max(rss), 1), "growth_first_to_last_quarter": round(growth, 1)},
        "fds": {"baseline": baseline_fds, "max": max(fds), "final": final["fds"],
                "client_sockets_final": final["client_sockets"],
                "redis_sockets_max": max(x["redis_sockets"] for x in report.samples),
                "redis_sockets_final": final["redis_sockets"],
                "other_final": final["fds"] - final["client_sockets"] - final["redis_sockets"],
                "other_baseline": baseline_other},
        "threads_max": max(s["threads"] for s in report.samples),
        "errors": report.errors,
    }
    ok = (not report.errors and summary["episodes_verified"] == len(report.episodes)
          and growth < args.max_rss_growth_mb and summary["fds"]["client_sockets_final"] == 0
          and summary["fds"]["other_final"] <= baseline_other + 2)
    summary["ok"] = ok
    if args.report:
        Path(args.report).write_text(json.dumps({"summary": summary, "episodes": report.episodes,
                                                 "samples": report.samples}, indent=1, ensure_ascii=False))
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=600, help="seconds of churn (default 600)")
    parser.add_argument("--viewers", type=int, default=120, help="concurrent viewer seats (default 120)")
    parser.add_argument("--redis-url", help="use this Redis (default: start one)")
    parser.add_argument("--report", help="write the full JSON report here")
    parser.add_argument("--sample-s", type=float, default=5.0, help="seconds between psutil samples")
    parser.add_argument("--max-rss-growth-mb", type=float, default=25.0)
    parser.add_argument("--min-episodes", type=int, default=2, help="play at least this many episodes")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--trace-every", type=float, default=0,
                        help="run the server under loadtest/memtrace.py (tracemalloc) and report allocation "
                             "growth every S seconds (memory hunts only: the server gets much slower)")
    parser.add_argument("--trace-out", default="memtrace.txt", help="where --trace-every appends its reports")
    args = parser.parse_args()
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
