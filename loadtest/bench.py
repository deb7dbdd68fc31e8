# ruff: noqa: ASYNC220, ASYNC230, ASYNC240 - a harness: blocking setup between measurements is fine
"""Capacity benchmark: N viewer sockets against one server node, fan-out and answer bursts.

    .venv/bin/python -m loadtest.bench --matrix 1000,5000,10000,19500,10000:msgpack \\
        --out docs/bench/results.json

For each size (``N`` or ``N:msgpack``) it starts a fresh server process (``quiz-engine serve``,
real code path) on an embedded Redis, opens N viewer sockets from several client processes
(``loadtest.swarm``), joins them, then plays three questions of episode ``load/bench``:

- **q0, fan-out only**: nobody answers — the question's delivery and the server's fan-out alone.
- **q1, window burst**: every viewer answers at release + U(0, window) s (3 s by default);
  correct answers never sooner than 1 s after the viewer got the question, except one viewer
  in this process that answers correctly the moment it sees the question — it must be the
  question's fastest correct responder.
- **q2, flood burst**: every viewer answers the moment its question frame arrives (the worst
  case: all answers land during and right after the fan-out) — the answers/s capacity.

It records client-observed delivery latency (receipt − the frame's ``now``), ack latency,
sent = acknowledged = stored in Redis, server RSS per connection, server CPU per 1,000 answers,
the server's own fan-out time from ``/metrics``, and the longest stall of the server's event
loop seen by 8 probe sockets pinging every 20 ms. Results go to a JSON file (merged by size with
what is already there) and ``docs/benchmarks.md`` is regenerated from it.

Everything runs on 127.0.0.1, every wait is bounded, and every process started is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import platform
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from loadtest.swarm import Group, Plan, client_loop, raise_nofile, worker_main
from quiz_engine.redis_server import EmbeddedRedis, find_redis_server, free_port

ROOT = Path(__file__).resolve().parents[1]
BANK = ROOT / "loadtest" / "banks" / "load.toml"
EPISODE = ("load", "bench")
EPISODE_KEY = "load.bench"
TOKEN = "bench-host-token-0123456789"
PER_CLIENT = 5000  # sockets per client process (auto mode)
SIZE_TIMEOUT_S = 420.0


# --- small helpers -----------------------------------------------------------------------
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))
    return round(s[k], 2)


def dist(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50": pct(values, 0.50),
        "p90": pct(values, 0.90),
        "p99": pct(values, 0.99),
        "max": round(max(values), 2) if values else None,
        "mean": round(statistics.fmean(values), 2) if values else None,
    }


_METRIC = re.compile(r"^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN|[+-]Inf)$")


def parse_metrics(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = _METRIC.match(line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


LAG_BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf")


def loop_lag(m1: dict[str, float], m0: dict[str, float]) -> dict[str, Any]:
    """The server's own pause measure over the interval (``quiz_event_loop_lag_seconds``):
    how many 50-ms ticks fired over 100 ms late, and the bucket bounding the latest one."""
    def count(le: str) -> float:
        return delta(m1, m0, f'quiz_event_loop_lag_seconds_bucket{{le="{le}"}}') or 0.0

    total = count("+Inf")
    worst = next((le for le in LAG_BUCKETS if count(le) >= total), "+Inf") if total else None
    return {"ticks": int(total), "over_100ms": int(total - count("0.1")),
            "max_ms_at_most": None if worst in (None, "+Inf") else round(float(worst or 0) * 1000)}


def delta(m1: dict[str, float], m0: dict[str, float], key: str) -> float | None:
    if key not in m1:
        return None
    return m1[key] - m0.get(key, 0.0)


def machine_info() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for pkg in ("quiz-engine", "uvicorn", "starlette", "websockets", "redis", "orjson", "msgpack",
                "prometheus-client", "uvloop", "httptools", "psutil"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        rv = subprocess.run([find_redis_server(), "--version"], capture_output=True, text=True, timeout=5).stdout
        versions["redis-server"] = (re.search(r"v=(\S+)", rv) or [None, None])[1]
    except Exception:  # noqa: BLE001
        versions["redis-server"] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "nofile": list(raise_nofile()),
        "commit": commit.strip(),
    }


# --- one server + swarm -------------------------------------------------------------------------
class Worker:
    """A client process running a swarm Group, driven through a pipe."""

    def __init__(self, ctx: Any, port: int, start: int, n: int, binary: bool, n_ips: int) -> None:
        self.pipe, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, port, start, n, binary, n_ips), daemon=True)
        self.proc.start()
        self.n = n

    async def call(self, cmd: str, _timeout: float = 300.0, **arg: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.pipe.send((cmd, arg))
        ok = await loop.run_in_executor(None, self.pipe.poll, _timeout)
        if not ok:
            raise TimeoutError(f"client process did not answer {cmd} in {_timeout}s")
        status, out = self.pipe.recv()
        if status != "ok":
            raise RuntimeError(f"client process failed {cmd}: {out}")
        return out

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.pipe.send(("stop", {}))
            self.pipe.poll(3)
        self.proc.join(3)
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(3)
        if self.proc.is_alive():
            self.proc.kill()


class Run:
    def __init__(self, args: argparse.Namespace, redis_url: str, redis_pid: int, n: int, codec: str) -> None:
        self.args, self.redis_url, self.n, self.codec = args, redis_url, n, codec
        self.redis_ps = psutil.Process(redis_pid)
        self.ports = [free_port() for _ in range(args.nodes)]
        self.port = self.ports[0]  # host commands, the chosen player and the probes use node 1
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = httpx.AsyncClient(base_url=self.base, headers={"authorization": f"Bearer {TOKEN}"}, timeout=60)
        self.servers: list[subprocess.Popen[bytes]] = []
        self.server_ps: list[psutil.Process] = []
        self.logs: list[Any] = []
        self.workers: list[Worker] = []
        self.chosen: Group | None = None
        self.probes: Group | None = None
        self.r = redis.Redis.from_url(redis_url, decode_responses=True)
        self.log_path = Path(tempfile.gettempdir()) / f"qe-bench-server-{self.port}.log"
        self.spy: subprocess.Popen[bytes] | None = None

    # --- processes ---------------------------------------------------------------------
    async def start_server(self) -> None:
        """One node per port (``--nodes``), all on the same Redis; node 1 loads the episode."""
        self.r.flushall()
        entry = [str(Path(self.args.server_wrapper).resolve())] if self.args.server_wrapper else ["-m", "quiz_engine"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join([*self.args.extra_path, str(ROOT)])}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        if self.args.fixes is not None:
            env["QE_FIXES"] = self.args.fixes
        for i, port in enumerate(self.ports):
            cmd = [sys.executable, *entry, "serve", "--port", str(port), "--redis-url", self.redis_url,
                   "--host-token", TOKEN, "--bank", str(BANK), "--log-level", "warning"]
            if i == 0:
                cmd += ["--load", "/".join(EPISODE)]
            log_path = self.log_path.with_name(f"qe-bench-server-{port}.log")
            self.logs.append(open(log_path, "wb"))  # noqa: SIM115 - closed in stop()
            server = subprocess.Popen(cmd, cwd=ROOT, stdout=self.logs[-1], stderr=subprocess.STDOUT, env=env)
            self.servers.append(server)
            self.server_ps.append(psutil.Process(server.pid))
            for _ in range(200):
                if server.poll() is not None:
                    raise RuntimeError(f"server exited: {log_path.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await self.http.get(f"http://127.0.0.1:{port}/healthz", timeout=1)).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"server on port {port} did not start")

    def stop(self) -> None:
        for w in self.workers:
            w.stop()
        for g in (self.chosen, self.probes):
            if g is not None:
                g.close()
        self.stop_spy()
        for server in self.servers:
            if server.poll() is None:
                server.terminate()
        for server in self.servers:
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)
        for log in self.logs:
            with contextlib.suppress(Exception):
                log.close()
        self.r.close()

    def rss(self) -> int:
        """All nodes together."""
        return sum(int(ps.memory_info().rss) for ps in self.server_ps)

    def client_cpu(self) -> float:
        """The load generator's CPU seconds: client processes and this one (probes, chosen player)."""
        total = 0.0
        for ps in [psutil.Process(w.proc.pid) for w in self.workers if w.proc.pid] + [psutil.Process()]:
            with contextlib.suppress(psutil.Error):
                t = ps.cpu_times()
                total += t.user + t.system
        return total

    def cpu(self) -> tuple[float, float]:
        a = [ps.cpu_times() for ps in self.server_ps]
        b = self.redis_ps.cpu_times()
        return sum(t.user + t.system for t in a), b.user + b.system

    async def metrics(self) -> dict[str, float]:
        """Every node's /metrics: counters summed, the per-connection fan-out gauge the worst node's."""
        merged: dict[str, float] = {}
        for port in self.ports:
            with contextlib.suppress(httpx.HTTPError):
                resp = await self.http.get(f"http://127.0.0.1:{port}/metrics")
                if resp.status_code == 200:
                    for k, v in parse_metrics(resp.text).items():
                        gauge = k.startswith("quiz_fanout_us_per")
                        merged[k] = max(merged.get(k, v), v) if gauge else merged.get(k, 0) + v
        return merged

    async def host(self, command: str, ok_409: bool = False, **body: Any) -> dict[str, Any]:
        resp = await self.http.post(f"/api/host/{command}", json=body)
        if resp.status_code == 409 and ok_409:
            return {}
        if resp.status_code != 200:
            raise RuntimeError(f"host {command}: {resp.status_code} {resp.text[:300]}")
        return resp.json()  # type: ignore[no-any-return]

    # --- the run ---------------------------------------------------------------------------
    async def run(self) -> dict[str, Any]:
        args, n = self.args, self.n
        binary = self.codec == "msgpack"
        out: dict[str, Any] = {"viewers": n, "codec": self.codec, "variant": args.label, "nodes": args.nodes,
                               "commit": _commit(), "loadavg_before": os.getloadavg(),
                               "server_loop": os.environ.get("QUIZ_LOOP") or "auto", "client_loop": client_loop(),
                               "fanout_threads": int(os.environ.get("QUIZ_FANOUT_THREADS") or 2)}
        await self.start_server()
        await asyncio.sleep(2.0)
        rss0 = self.rss()
        clients = args.clients or max(1, min(4, math.ceil(n / PER_CLIENT)))
        clients = math.ceil(clients / args.nodes) * args.nodes  # the same number of clients per node
        out["client_processes"] = clients
        ctx = mp.get_context("spawn")
        share = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
        starts = [sum(share[:i]) for i in range(clients)]
        self.workers = [Worker(ctx, self.ports[i % len(self.ports)], starts[i], share[i], binary, args.source_ips)
                        for i in range(clients)]
        # connect
        t0 = time.time()
        conc = max(20, args.connect_concurrency // clients)
        res = await asyncio.gather(*(w.call("connect", concurrency=conc) for w in self.workers))
        connected = sum(r["connected"] for r in res)
        out["connect"] = {"secs": round(time.time() - t0, 2), "connected": connected,
                          "failed": _merge([r["failed"] for r in res]),
                          "per_s": round(connected / max(0.001, time.time() - t0))}
        self.chosen = Group(self.port, n, 1, binary, args.source_ips)
        self.probes = Group(self.port, n + 1, 8, binary, args.source_ips)
        await self.chosen.connect()
        await self.probes.connect()
        await asyncio.sleep(1.0)
        rss1 = self.rss()
        # join
        t0 = time.time()
        jconc = max(1, args.join_concurrency // clients)
        res = await asyncio.gather(*(w.call("join", concurrency=jconc) for w in self.workers))
        await self.chosen.join()
        joined = sum(r["joined"] for r in res)
        out["join"] = {"secs": round(time.time() - t0, 2), "joined": joined,
                       "refused": _merge([r["refused"] for r in res]),
                       "per_s": round(joined / max(0.001, time.time() - t0)), "concurrency": args.join_concurrency}
        await asyncio.sleep(2.0)
        rss2 = self.rss()
        out["memory"] = {
            "rss_idle_mb": round(rss0 / 2**20, 1),
            "rss_connected_mb": round(rss1 / 2**20, 1),
            "rss_joined_mb": round(rss2 / 2**20, 1),
            "kb_per_conn_connected": round((rss1 - rss0) / 1024 / max(1, connected), 2),
            "kb_per_conn_joined": round((rss2 - rss0) / 1024 / max(1, connected), 2),
            "server_fds": sum(ps.num_fds() for ps in self.server_ps),
        }
        print(f"  {n} {self.codec}: connected {connected} in {out['connect']['secs']} s, joined {joined} in "
              f"{out['join']['secs']} s, {out['memory']['kb_per_conn_joined']} KB/conn", flush=True)
        if n in args.py_spy:  # profile the two questions only (not the lobby, not verify)
            self.start_spy(n)
            out["profiled"] = True
        out["silent"] = await self.question(0, "silent")
        out["window"] = await self.question(1, "window")
        out["flood"] = await self.question(2, "flood")
        self.stop_spy()
        t0 = time.time()
        verify = (await self.http.get("/api/host/verify", timeout=300)).json()
        out["verify"] = {"ok": verify.get("ok"), "differences": len(verify.get("differences", [])),
                         "secs": round(time.time() - t0, 2)}
        out["server_log_errors"] = [line for log in self.logs
                                    for line in Path(log.name).read_text(errors="replace").splitlines()
                                    if " ERROR " in line or "Traceback" in line][:20]
        out["loadavg_after"] = os.getloadavg()
        return out

    def start_spy(self, n: int) -> None:
        path = Path(self.args.out).parent / f"profile-{n}-{self.codec}.txt"
        self.spy = subprocess.Popen(  # node 1 only
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(self.servers[0].pid), "--rate", "100",
             "--nonblocking", "--format", "raw", "-o", str(path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)

    def stop_spy(self) -> None:
        if self.spy is not None and self.spy.poll() is None:
            self.spy.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.spy.wait(30)
        self.spy = None

    async def probe(self, stop: asyncio.Event) -> None:
        """Ping from 8 sockets in turn, one ping every 20 ms (each socket 6/s, under its rate limit)."""
        assert self.probes is not None
        i = 0
        while not stop.is_set():
            conn = self.probes.conns[i % len(self.probes.conns)]
            conn.send({"type": "ping", "t": time.time() * 1000})
            i += 1
            await asyncio.sleep(0.02)

    async def question(self, idx: int, mode: str) -> dict[str, Any]:
        args = self.args
        assert self.chosen is not None and self.probes is not None
        plan = {"question": idx, "correct": 2, "options": 4, "mode": mode, "window_s": args.window,
                "correct_share": args.correct_share, "min_think_s": 1.0, "seed": idx + 1}
        await asyncio.gather(*(w.call("arm", **plan) for w in self.workers))
        self.chosen.arm(Plan(**{**plan, "chosen": True}))
        self.probes.pongs.clear()
        m0 = await self.metrics()
        cpu0, rcpu0 = self.cpu()
        ccpu0, wall0, sys0 = self.client_cpu(), time.monotonic(), psutil.cpu_times()
        stop = asyncio.Event()
        prober = asyncio.create_task(self.probe(stop))
        await asyncio.sleep(0.3)
        t_open = time.time()
        state = await self.host("open", expect=idx)
        release_s = (state.get("release_at") or t_open * 1000) / 1000
        timeout = args.window + 30
        done = await asyncio.gather(*(w.call("wait", _timeout=timeout + 5, timeout=timeout)
                                      for w in self.workers), self.chosen.wait(timeout))
        cpu1, rcpu1 = self.cpu()
        ccpu1, wall1, sys1 = self.client_cpu(), time.monotonic(), psutil.cpu_times()
        m1 = await self.metrics()
        await asyncio.sleep(0.2)
        stop.set()
        await prober
        parts = await asyncio.gather(*(w.call("collect") for w in self.workers))
        mine = self.chosen.collect()
        allp = [*parts, mine]
        if mode == "silent":
            await asyncio.sleep(0.5)  # (answers: none; the close below is the host's)
        stored = int(self.r.hget(f"qe:{{{EPISODE_KEY}}}:q{idx}:cnt", "n") or 0)
        fastest = self.r.zrange(f"qe:{{{EPISODE_KEY}}}:q{idx}:ok", 0, 0)
        await self.host("close", ok_409=True, expect=idx)  # 409: the server's timer closed it already
        await self.host("reveal")
        delivery = [x for p in allp for x in p["delivery_ms"]]
        acks = [x for p in parts for x in p["ack_ms"]]
        sent = sum(p["sent"] for p in allp)
        acked = sum(p["acked"] for p in allp)
        ok = sum(p["ack_ok"] for p in allp)
        first_sent = min((p["sent_first"] for p in allp if p["sent_first"]), default=0.0)
        last_ack = max((p["ack_last"] for p in allp), default=0.0)
        recv_first = min((p["recv_first"] for p in allp if p["recv_first"]), default=0.0)
        recv_last = max((p["recv_last"] for p in allp), default=0.0)
        pongs = [rtt for t, rtt in self.probes.pongs if t / 1000 >= t_open - 0.1]
        fanout_n = delta(m1, m0, 'quiz_fanout_seconds_count{role="viewer"}')
        fanout_s = delta(m1, m0, 'quiz_fanout_seconds_sum{role="viewer"}')
        batches = delta(m1, m0, "quiz_redis_answer_batch_size_count")
        batched = delta(m1, m0, "quiz_redis_answer_batch_size_sum")
        ack_srv_n = delta(m1, m0, "quiz_answer_ack_seconds_count")
        ack_srv_s = delta(m1, m0, "quiz_answer_ack_seconds_sum")
        burst_s = max(0.001, last_ack - first_sent)
        res = {
            "mode": mode,
            "all_done": all(bool(d) for d in done),
            "received": sum(p["received"] for p in allp),
            "delivery_ms": dist(delivery),
            "delivery_spread_ms": round((recv_last - recv_first) * 1000, 1),
            "server_fanout_us_per_conn": m1.get('quiz_fanout_us_per_connection{role="viewer"}'),
            "server_fanout_ms": round(fanout_s / fanout_n * 1000, 1) if fanout_n and fanout_s is not None else None,
            "sent": sent, "acked": acked, "ack_ok": ok, "stored": stored,
            "lost": sent - ok - sum(sum(p["reasons"].values()) for p in allp),
            "reasons": _merge([p["reasons"] for p in allp]),
            "errors": _merge([p["errors"] for p in allp]),
            "ack_ms": dist(acks),
            "server_ack_mean_ms": round(ack_srv_s / ack_srv_n * 1000, 2) if ack_srv_n else None,
            "answers_per_s": round(ok / burst_s),
            "burst_s": round(burst_s, 3),
            "last_ack_after_release_s": round(last_ack - release_s, 3) if last_ack else None,
            "redis_round_trips_per_answer": round(batches / batched, 4) if batches and batched else None,
            "answers_per_batch": round(batched / batches, 1) if batches and batched else None,
            "server_cpu_s": round(cpu1 - cpu0, 3),
            "redis_cpu_s": round(rcpu1 - rcpu0, 3),
            # where the machine's CPU went from open until every client was done
            "client_cpu_s": round(ccpu1 - ccpu0, 3),
            "wall_s": round(wall1 - wall0, 3),
            # the whole machine (kernel network work on loopback included): share of all cores busy
            "machine_busy": _busy(sys0, sys1),
            "server_cpu_s_per_1000": round((cpu1 - cpu0) / max(1, ok) * 1000, 4),
            "redis_cpu_s_per_1000": round((rcpu1 - rcpu0) / max(1, ok) * 1000, 4),
            "chosen_player": mine["players"][0] if mine["players"] else None,
            "chosen_response_ms": mine["response_ms"][0] if mine["response_ms"] else None,
            "fastest_player": fastest[0] if fastest else None,
            "gc_gen2_collections": delta(m1, m0, 'python_gc_collections_total{generation="2"}'),
            "loop_lag": loop_lag(m1, m0),
            "probe_pings": len(pongs),
            "probe_rtt_ms": dist(pongs),
        }
        res["fastest_is_chosen"] = res["fastest_player"] == res["chosen_player"] and res["chosen_player"] is not None
        print(f"    q{idx} {mode}: delivery p50 {res['delivery_ms']['p50']} p99 {res['delivery_ms']['p99']} ms, "
              f"fan-out {res['server_fanout_us_per_conn']} us/conn; sent {sent} ok {ok} stored {stored}; "
              f"ack p99 {res['ack_ms']['p99']} ms; {res['answers_per_s']}/s; last ack +"
              f"{res['last_ack_after_release_s']} s; max stall {res['probe_rtt_ms']['max']} ms "
              f"(server loop lag ≤ {res['loop_lag']['max_ms_at_most']} ms); "
              f"rejected {res['reasons']} errors {res['errors']} "
              + (f"fastest ok: {res['fastest_is_chosen']}" if mode == "window" else ""), flush=True)
        if mode == "silent":
            res["fastest_is_chosen"] = None
        await asyncio.sleep(1.0)
        return res


def _commit() -> str:
    """HEAD, plus '+dirty' when quiz_engine/ has uncommitted changes (the server runs the tree)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "quiz_engine"], cwd=ROOT, capture_output=True, text=True)
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _busy(t0: Any, t1: Any) -> float:
    total = sum(t1) - sum(t0)
    idle = (t1.idle - t0.idle) + (getattr(t1, "iowait", 0.0) - getattr(t0, "iowait", 0.0))
    return round(1 - idle / total, 3) if total > 0 else 0.0


def _key(run: dict[str, Any]) -> str:
    return f"{run['viewers']}:{run['codec']}:{run.get('variant', '')}"


def _merge(dicts: list[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def parse_matrix(raw: str) -> list[tuple[int, str]]:
    out = []
    for item in raw.split(","):
        size, _, codec = item.strip().partition(":")
        out.append((int(size), codec or "json"))
    return out


async def main_async(args: argparse.Namespace) -> int:
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {}
    if out_path.exists() and not args.fresh:
        doc = json.loads(out_path.read_text())
    doc["machine"] = machine_info()
    command = args.command or " ".join([".venv/bin/python -m loadtest.bench", shlex.join(sys.argv[1:])])
    doc.setdefault("commands", {})[args.label] = command
    if not args.label:
        doc["command"] = command
    doc["updated"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs: dict[str, Any] = {_key(r): r for r in doc.get("runs", [])}
    failed = 0
    if args.floor:
        from loadtest import floor

        print(f"== machine floor, {args.floor} sockets", flush=True)
        doc["floor"] = {"sockets": args.floor, "us_per_socket": floor.measure(args.floor),
                        "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
        print(f"  {doc['floor']['us_per_socket']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="qe-bench-redis-") as tmp:
        embedded = EmbeddedRedis(Path(tmp))
        url = embedded.start()
        try:
            assert embedded.proc is not None
            for n, codec in parse_matrix(args.matrix):
                print(f"== {n} viewers, {codec}", flush=True)
                run = Run(args, url, embedded.proc.pid, n, codec)
                try:
                    result = await asyncio.wait_for(run.run(), SIZE_TIMEOUT_S)
                    result["when"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
                    runs[_key(result)] = result
                except Exception as exc:  # noqa: BLE001 - record and go on with the next size
                    failed += 1
                    print(f"  FAILED: {exc!r}", flush=True)
                    failure = {"viewers": n, "codec": codec, "variant": args.label, "failed": repr(exc)[:500]}
                    runs[_key(failure)] = failure
                finally:
                    run.stop()
                    await run.http.aclose()
                doc["runs"] = sorted(runs.values(), key=lambda r: (r.get("variant", ""), r["codec"] != "json",
                                                                   r["viewers"]))
                out_path.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
                await asyncio.sleep(2.0)
        finally:
            embedded.stop()
    if not args.no_doc:
        from loadtest.report import write_report

        write_report(out_path, Path(args.doc))
        print(f"wrote {out_path} and {args.doc}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--matrix", default="1000,5000,10000,19500,10000:msgpack",
                   help="comma list of sizes, N or N:msgpack (default %(default)s)")
    p.add_argument("--out", default=str(ROOT / "docs/bench/results.json"), help="results JSON (merged by size)")
    p.add_argument("--doc", default=str(ROOT / "docs/benchmarks.md"), help="markdown report to regenerate")
    p.add_argument("--no-doc", action="store_true", help="do not regenerate the markdown report")
    p.add_argument("--fresh", action="store_true", help="drop results already in --out")
    p.add_argument("--floor", type=int, default=0, metavar="N",
                   help="first measure this machine's fan-out floor with N sockets (loadtest/floor.py)")
    p.add_argument("--clients", type=int, default=0, help="client processes (default: one per 5,000 sockets, ≤ 4)")
    p.add_argument("--nodes", type=int, default=1,
                   help="server nodes on one Redis, one process each; clients spread over them (label the run)")
    p.add_argument("--window", type=float, default=3.0, help="q0: answers spread over this many seconds")
    p.add_argument("--correct-share", type=float, default=0.6)
    p.add_argument("--connect-concurrency", type=int, default=400, help="handshakes in flight, all clients")
    p.add_argument("--join-concurrency", type=int, default=64, help="joins in flight, all clients")
    p.add_argument("--source-ips", type=int, default=250, help="loopback source addresses 127.0.0.2…")
    p.add_argument("--py-spy", type=lambda s: {int(x) for x in s.split(",") if x}, default=set(),
                   help="profile the server with py-spy at these sizes (docs/bench/profile-N-codec.txt)")
    p.add_argument("--label", default="", help="variant label stored with each run (e.g. 'fixes')")
    p.add_argument("--server-wrapper", default="",
                   help="run the server through this script instead of -m quiz_engine (it gets the same "
                        "arguments; e.g. a script that monkeypatches a fix in, to measure it before it lands)")
    p.add_argument("--extra-path", action="append", default=[],
                   help="prepend to the server's PYTHONPATH (e.g. a `pip install --target DIR hiredis uvloop` "
                        "folder, to measure optional packages without installing them in .venv)")
    p.add_argument("--fixes", default=None, help="QE_FIXES for --server-wrapper (default: the wrapper's own)")
    p.add_argument("--command", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    raise_nofile()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
