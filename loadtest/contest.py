"""Online contest benchmark: thousands of participants in an attempt at once, a burst of starts.

    .venv/bin/python -m loadtest.contest                       # 5,000 in progress, 2,000 of them starting in 60 s
    .venv/bin/python -m loadtest.contest --participants 500 --burst 200 --burst-window 10   # quick

What it does, on this machine only (127.0.0.1), bounded in time, every process stopped at the end:
an embedded Redis, one server node running a generated contest (opened yesterday, 8 questions per
attempt, 30 s per question) and a roster of ``--units`` units; ``--clients`` client processes.
Every participant enters (the entry form over HTTP), then ``participants − burst`` of them start
over the first 20 s and the ``burst`` others start spread over ``--burst-window`` seconds while the
first are mid-attempt; each answers every question after a human think time (``--think``).

It reports, per kind of request (enter, start, question served = ``next``, answer stored =
``answer``): count, latency p50/p95/p99/max as the client saw it, and errors; the most attempts in
progress at once (the organiser's overview, sampled); server and Redis CPU; and **lost**: answers
acknowledged to a client minus answers in the contest's audit in Redis (must be 0), with the
server's own ``verify`` of every draw, answer and score at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from quiz_engine.redis_server import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "contest-bench-host-token"
ZONE = dt.timezone(dt.timedelta(hours=7))
KINDS = ("enter", "start", "next", "answer")
OFFICES = 64  # source addresses per client process
DOC_BEGIN, DOC_END = "<!-- contest-bench:begin -->", "<!-- contest-bench:end -->"


def write_files(folder: Path, units: int) -> tuple[Path, Path]:
    now = dt.datetime.now(ZONE).replace(microsecond=0, tzinfo=None)
    pools = "".join(f'\n[[pools]]\nid = "p{i}"\nepisodes = ["tap-{i}"]\ndraw = 2\n' for i in range(1, 5))
    contest = folder / "bench.contest.toml"
    contest.write_text(f"""[contest]
id = "bench"
title = "Đo năng lực cuộc thi trực tuyến"
bank = "cchc-2026"
opens = {(now - dt.timedelta(days=1)).isoformat()}
closes = {(now + dt.timedelta(days=20)).isoformat()}
attempts = 2
time_per_question = 30
time_per_attempt = 900
required = ["full_name", "unit", "phone"]
reveal = "after_round"
{pools}
[prediction]
text = "Bao nhiêu lượt thi đúng tất cả?"
""", encoding="utf-8")
    roster = folder / "roster.csv"
    lines = ["Mã đơn vị,Đơn vị,Trực thuộc,Số CBCCVC"]
    lines += [f"u{i:04d},Đơn vị số {i},Huyện {i % 12},{20 + i % 80}" for i in range(units)]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return contest, roster


class Stats:
    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {k: [] for k in KINDS}
        self.errors: dict[str, int] = {}
        self.retries: dict[str, int] = {}
        self.acked = 0

    def error(self, kind: str, what: str) -> None:
        key = f"{kind}:{what}"
        self.errors[key] = self.errors.get(key, 0) + 1

    def retry(self, kind: str, what: str) -> None:
        key = f"{kind}:{what}"
        self.retries[key] = self.retries.get(key, 0) + 1


async def _call(client: httpx.AsyncClient, stats: Stats, kind: str, path: str, token: str | None = None,
                body: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One request as the participant page makes it: a dropped keep-alive connection or a 503/429
    is retried (up to 3 times, 1 s apart, as the page does; an answer sent twice is refused by the
    server, never counted twice); the latency is the whole wait, retries included."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    t0 = time.perf_counter()
    for attempt in range(4):
        try:
            r = await client.post(path, json=body or {}, headers=headers)
        except httpx.HTTPError as exc:
            what = type(exc).__name__
        else:
            if r.status_code == 200:
                stats.ms[kind].append((time.perf_counter() - t0) * 1000)
                return dict(r.json())
            if kind == "answer" and r.status_code == 409 and r.json().get("reason") == "answered" and attempt:
                stats.ms[kind].append((time.perf_counter() - t0) * 1000)  # the first try got through
                return {"ok": True, "retried": True}
            what = str(r.status_code)
            if r.status_code not in (429, 502, 503, 504):
                break
        if attempt < 3:
            stats.retry(kind, what)
            await asyncio.sleep(1.0)
    stats.error(kind, what)
    return None


async def _participant(client: httpx.AsyncClient, stats: Stats, rng: random.Random, idx: int, units: int,
                       start_at: float, think: tuple[float, float]) -> None:
    await asyncio.sleep(max(0.0, start_at - rng.uniform(5, 15) - time.monotonic()))  # enters, reads the rules
    entered = await _call(client, stats, "enter", "/api/contest/enter", body={
        "full_name": f"Người dự thi {idx}", "unit": f"u{idx % units:04d}", "phone": f"09{idx:08d}"})
    if entered is None:
        return
    token = str(entered["token"])
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    started = await _call(client, stats, "start", "/api/contest/start", token, {"prediction": rng.randrange(100)})
    if started is None:
        return
    aid = started["attempt"]
    for _ in range(40):  # 8 questions; a refusal resyncs with another "next"
        step = await _call(client, stats, "next", f"/api/contest/attempts/{aid}/next", token)
        if step is None or "done" in step:
            return
        q = step["question"]
        await asyncio.sleep(rng.uniform(*think))
        answered = await _call(client, stats, "answer", f"/api/contest/attempts/{aid}/answer", token,
                               {"index": q["index"], "option": rng.randrange(len(q["options"]))})
        if answered is not None:
            stats.acked += 1


def _client_process(base: str, first: int, count: int, units: int, t_zero: float, steady: int, burst_window: float,
                    think: tuple[float, float], seed: int, out: Any) -> None:
    async def main() -> None:
        stats = Stats()
        rng = random.Random(seed)
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        # offices: each its own loopback source address (127.0.<process>.<n>), ~20 people behind each
        clients = [httpx.AsyncClient(base_url=base, timeout=60, limits=limits, transport=httpx.AsyncHTTPTransport(
            local_address=f"127.0.{seed}.{n + 2}", limits=limits)) for n in range(OFFICES)]
        tasks = []
        for idx in range(first, first + count):
            # the steady group starts over the first 20 s, the burst group over the window after them
            at = (t_zero + rng.uniform(0, 20)) if idx < steady else (t_zero + 25 + rng.uniform(0, burst_window))
            tasks.append(_participant(clients[idx % OFFICES], stats, random.Random(seed * 100_003 + idx), idx, units,
                                      at, think))
        await asyncio.gather(*tasks)
        for client in clients:
            await client.aclose()
        out.put({"ms": stats.ms, "errors": stats.errors, "retries": stats.retries, "acked": stats.acked})

    import uvloop

    uvloop.run(main())


def _dist(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    s = sorted(values)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))], 1)

    return {"n": len(s), "p50": q(0.5), "p95": q(0.95), "p99": q(0.99), "max": round(s[-1], 1),
            "mean": round(statistics.fmean(s), 1)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="qe-contest-bench-"))
    contest, roster = write_files(tmp, args.units)
    embedded = EmbeddedRedis(tmp / "redis")
    url = embedded.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen([sys.executable, "-m", "quiz_engine", "serve", "--port", str(port), "--redis-url", url,
                               "--host-token", TOKEN, "--bank", str(ROOT / "question_banks"), "--contest",
                               str(contest), "--roster", str(roster), "--log-level", "warning"],
                              cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    procs: list[Any] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError((tmp / "server.log").read_text(errors="replace")[-2000:])
            time.sleep(0.1)
        server_ps = psutil.Process(server.pid)
        redis_pid = int(redis.Redis.from_url(url).info("server")["process_id"])
        redis_ps = psutil.Process(redis_pid)
        cpu0 = sum(server_ps.cpu_times()[:2]), sum(redis_ps.cpu_times()[:2])
        steady = args.participants - args.burst
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        t_zero = time.monotonic() + 20  # starts from here, each entry 5-15 s before its start (one monotonic clock)
        share = -(-args.participants // args.clients)
        wall0 = time.monotonic()
        for i in range(args.clients):
            first, count = i * share, min(share, args.participants - i * share)
            if count <= 0:
                continue
            p = ctx.Process(target=_client_process, args=(base, first, count, args.units, t_zero, steady,
                                                          args.burst_window, (args.think_min, args.think_max), i + 1,
                                                          out), daemon=True)
            p.start()
            procs.append(p)
        peak, samples = 0, []
        host = httpx.Client(base_url=base, headers={"authorization": f"Bearer {TOKEN}"}, timeout=30)
        parts: list[dict[str, Any]] = []
        stop_at = time.monotonic() + args.timeout
        while len(parts) < len(procs) and time.monotonic() < stop_at:
            time.sleep(2)
            try:
                running = host.get("/api/host/contest/overview").json()["counts"]["in_progress"]
                samples.append(running)
                peak = max(peak, running)
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            while not out.empty():
                parts.append(out.get())
        wall = time.monotonic() - wall0
        cpu1 = sum(server_ps.cpu_times()[:2]), sum(redis_ps.cpu_times()[:2])
        ms = {k: [x for p in parts for x in p["ms"][k]] for k in KINDS}
        errors: dict[str, int] = {}
        retries: dict[str, int] = {}
        for p in parts:
            for k, v in p["errors"].items():
                errors[k] = errors.get(k, 0) + v
            for k, v in p["retries"].items():
                retries[k] = retries.get(k, 0) + v
        acked = sum(p["acked"] for p in parts)
        r = redis.Redis.from_url(url, decode_responses=True)
        stored = sum(1 for _, f in r.xrange("qc:{bench}:audit") if f.get("e") == "answer")
        verified = host.get("/api/host/contest/verify", timeout=300).json()
        r.close()
        host.close()
        return {
            "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "participants": args.participants, "burst": args.burst, "burst_window_s": args.burst_window,
            "think_s": [args.think_min, args.think_max], "units": args.units, "clients": len(procs),
            "finished_clients": len(parts), "wall_s": round(wall, 1), "peak_in_progress": peak,
            "latency_ms": {k: _dist(v) for k, v in ms.items()}, "errors": errors, "retries": retries,
            "answers_acked": acked, "answers_stored": stored, "lost": acked - stored,
            "server_cpu_s": round(cpu1[0] - cpu0[0], 1), "redis_cpu_s": round(cpu1[1] - cpu0[1], 1),
            "requests_per_s": round(sum(len(v) for v in ms.values()) / wall, 1),
            "verify": {k: verified.get(k) for k in ("ok", "attempts", "finished", "answers")} | {
                "diffs": verified.get("diffs", [])[:5]},
        }
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        embedded.stop()


def markdown(res: dict[str, Any], command: str) -> str:
    lat = res["latency_ms"]
    rows = "\n".join(f"| {k} | {lat[k]['n']:,} | {lat[k].get('p50')} | {lat[k].get('p95')} | {lat[k].get('p99')} "
                     f"| {lat[k].get('max')} |" for k in KINDS)
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(res["errors"].items())) or "none"
    retries = ", ".join(f"{k}: {v}" for k, v in sorted(res["retries"].items())) or "none"
    return f"""{DOC_BEGIN}
## Online contest (issue 14)

`{command}` on {res['when']}: {res['participants']:,} participants ({res['burst']:,} of them starting
within {res['burst_window_s']:.0f} s while the others were mid-attempt), 8 questions per attempt,
think time {res['think_s'][0]}–{res['think_s'][1]} s, {res['units']} units, one server node, {res['clients']}
client processes, all on this 2-core machine. Wall {res['wall_s']} s; the most attempts in progress
at once (the organiser's overview, sampled every 2 s): **{res['peak_in_progress']:,}**;
{res['requests_per_s']} requests/s on average.

| request | count | p50 ms | p95 ms | p99 ms | max ms |
|---|---:|---:|---:|---:|---:|
{rows}

Answers acknowledged {res['answers_acked']:,}, in the audit {res['answers_stored']:,}: **lost
{res['lost']}**. Requests that failed for good: {errors}; retried (as the page retries a dropped
connection or a 503, 1 s later): {retries}. `verify` (every draw, answer and score from the audit):
{'OK' if res['verify']['ok'] else 'DIFFERENCES'} ({res['verify']['finished']:,} attempts finished,
{res['verify']['answers']:,} answers). CPU: server {res['server_cpu_s']} s, Redis {res['redis_cpu_s']} s.
Latency is as the client processes saw it (their own event loop included), on a machine shared
with the server and Redis.
{DOC_END}"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--participants", type=int, default=5000)
    p.add_argument("--burst", type=int, default=2000, help="of them, starting within --burst-window")
    p.add_argument("--burst-window", type=float, default=60.0, metavar="S")
    p.add_argument("--think-min", type=float, default=6.0, metavar="S")
    p.add_argument("--think-max", type=float, default=14.0, metavar="S")
    p.add_argument("--units", type=int, default=300)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--timeout", type=float, default=600.0, metavar="S", help="stop waiting for the clients")
    p.add_argument("--out", default="", help="write the results JSON here")
    p.add_argument("--doc", default="", help="replace the contest section of this markdown file (docs/benchmarks.md)")
    args = p.parse_args(argv)
    if not 0 <= args.burst <= args.participants:
        p.error("--burst must be between 0 and --participants")
    res = run(args)
    print(json.dumps(res, indent=1, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    if args.doc:
        doc = Path(args.doc)
        text = doc.read_text(encoding="utf-8")
        command = ".venv/bin/python -m loadtest.contest " + " ".join(argv if argv is not None else sys.argv[1:])
        block = markdown(res, command.strip())
        if DOC_BEGIN in text:
            head, rest = text.split(DOC_BEGIN, 1)
            text = head + block + rest.split(DOC_END, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
        doc.write_text(text, encoding="utf-8")
    return 0 if res["lost"] == 0 and res["verify"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
