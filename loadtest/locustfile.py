"""Locust load test for quiz-engine: viewers speaking the real protocol, and a show driver.

    locust -f loadtest/locustfile.py --host http://127.0.0.1:8000 --qe-host-token TOKEN \\
        --headless -u 301 -r 100 -t 5m --qe-stop-at-end

- ``ViewerUser`` — one phone: connects to ``/ws/viewer`` (websocket-client, gevent-friendly),
  joins with a realistic Vietnamese profile, answers each question after a human-like delay
  (most in 3–6 s, some late on purpose, some never), a configurable share correct, and
  now and then drops its socket and comes back with ``resume``.
- ``ShowDriver`` — the host (``fixed_count = 1``: exactly one in the whole test, also when
  distributed): waits for the viewers to arrive, then plays the episode through the host
  HTTP API (open → closed by the server's timer or early → reveal → leaderboard → … → finish).

Custom metrics (request type ``WS``), beside the driver's HTTP timings:

| name | what |
|---|---|
| ``join`` / ``resume`` | join (or resume) sent → ``welcome`` received |
| ``question delivery`` | client receipt − the frame's ``now`` (server clock; same clock on loopback) |
| ``answer ack`` | answer sent → ``ack`` received, accepted answers |
| ``answer rejected: <reason>`` | **failure**: an in-time answer was refused (``duplicate``, …) |
| ``late answer (expected): <reason>`` | a deliberately late answer, refused as it should be (not a failure) |
| ``disconnect <code>`` | **failure**: the server dropped a socket we did not close ourselves |
| ``error <code>`` / ``seq gap`` / ``ack timeout`` | **failure**: ``error`` frame, missed phase frame, no ack in 10 s |
| ``reconnect`` | a deliberate drop + reconnect + resume (time to ``welcome``) |

Every option is also an environment variable; see loadtest/README.md.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import random
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gevent
import msgpack
import websocket  # websocket-client
from locust import HttpUser, User, constant, events, task
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from loadtest.people import profile as make_profile

log = logging.getLogger("quiz.loadtest")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BANKS = f"{ROOT / 'loadtest/banks/load.toml'},{ROOT / 'tests/banks/test-bank.toml'}"
WS = "WS"
ACK_TIMEOUT_S = 10.0
MSGPACK_SUBPROTOCOL = "quiz.v1.msgpack"


# --- options -------------------------------------------------------------------------
@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser  # (argument groups would lose include_in_web_ui / is_secret)
    g.add_argument("--qe-host-token", env_var="QE_HOST_TOKEN", default="", is_secret=True,
                   help="host token for the show driver (without it the driver only watches)")
    g.add_argument("--qe-correct-share", env_var="QE_CORRECT_SHARE", type=float, default=0.7,
                   help="share of answers that pick the correct option (0..1)")
    g.add_argument("--qe-late-share", env_var="QE_LATE_SHARE", type=float, default=0.03,
                   help="share of viewers answering on purpose after the deadline (+ grace)")
    g.add_argument("--qe-never-share", env_var="QE_NEVER_SHARE", type=float, default=0.05,
                   help="share of viewers not answering a question at all")
    g.add_argument("--qe-reconnect-share", env_var="QE_RECONNECT_SHARE", type=float, default=0.05,
                   help="chance per question that a viewer drops its socket and resumes")
    g.add_argument("--qe-msgpack-share", env_var="QE_MSGPACK_SHARE", type=float, default=0.0,
                   help="share of viewers using the msgpack subprotocol")
    g.add_argument("--qe-source-ips", env_var="QE_SOURCE_IPS", type=int, default=200,
                   help="spread viewers over this many loopback source addresses 127.0.0.2… "
                        "(server limits are per address; 0 = do not bind)")
    g.add_argument("--qe-grace-ms", env_var="QE_GRACE_MS", type=int, default=500,
                   help="the server's --grace-ms (deliberately late answers go after it)")
    g.add_argument("--qe-bank-file", env_var="QE_BANK_FILE", default=DEFAULT_BANKS,
                   help="bank TOML file(s), comma separated: where viewers look up the correct option")
    g.add_argument("--qe-episode", env_var="QE_EPISODE", default="",
                   help="driver: load this BANK/EPISODE first (default: play the loaded one)")
    g.add_argument("--qe-reset", env_var="QE_RESET", default="auto", choices=["auto", "yes", "no"],
                   help="driver: reset the episode before playing (auto = if it is not in the lobby). "
                        "WIPES ITS RESULTS: only for load-test servers")
    g.add_argument("--qe-question-s", env_var="QE_QUESTION_S", type=float, default=0.0,
                   help="driver: close each question after this many seconds (0 = the server's timer)")
    g.add_argument("--qe-gap-s", env_var="QE_GAP_S", type=float, default=2.0,
                   help="driver: pause between closed → reveal → leaderboard → next open")
    g.add_argument("--qe-questions", env_var="QE_QUESTIONS", type=int, default=0,
                   help="driver: play at most this many questions (0 = all), then finish")
    g.add_argument("--qe-expect-viewers", env_var="QE_EXPECT_VIEWERS", type=int, default=0,
                   help="driver: open the first question once this many viewers are connected "
                        "(default: -u minus the driver when headless, else when the count is steady)")
    g.add_argument("--qe-lobby-s", env_var="QE_LOBBY_S", type=float, default=120.0,
                   help="driver: wait at most this long in the lobby for viewers")
    g.add_argument("--qe-stop-at-end", env_var="QE_STOP_AT_END", action="store_true", default=False,
                   help="stop the whole test when the episode is finished")
    g.add_argument("--qe-summary", env_var="QE_SUMMARY", default="",
                   help="write a JSON summary of the run (counts by metric) to this file at the end")


def source_ip(n: int, n_ips: int) -> str:
    """The n-th viewer's loopback source address: 127.0.0.2 … 127.0.(n_ips+1), then 127.0.1.x."""
    i = n % n_ips
    return f"127.0.{i // 250}.{2 + i % 250}"


def _opt(env: Environment, name: str, default: Any = None) -> Any:
    return getattr(env.parsed_options, name, default) if env.parsed_options is not None else default


def _fire(env: Environment, name: str, ms: float, exc: Exception | None = None, length: int = 0) -> None:
    env.events.request.fire(request_type=WS, name=name, response_time=ms, response_length=length,
                            exception=exc, context={})


class Rejected(Exception):
    pass


class Dropped(Exception):
    pass


# --- correct options from the bank files ------------------------------------------------
_ANSWERS: dict[str, list[int]] | None = None


def answers_for(env: Environment, episode: str) -> list[int] | None:
    """Correct option per question of ``BANK.EPISODE``, from the bank files (None if unknown)."""
    global _ANSWERS
    if _ANSWERS is None:
        from quiz_engine.banks.loader import load_bank

        _ANSWERS = {}
        for path in str(_opt(env, "qe_bank_file", DEFAULT_BANKS)).split(","):
            if path.strip() and Path(path.strip()).is_file():
                bank = load_bank(path.strip())
                for ep in bank.episodes:
                    _ANSWERS[f"{bank.id}.{ep.id}"] = [q.answer for q in bank.episode_questions(ep.id)]
    return _ANSWERS.get(episode)


# --- viewers -------------------------------------------------------------------------
_user_ids = itertools.count()


class ViewerUser(User):
    """One viewer's phone. All its work happens in one long task; timers are greenlets."""

    weight = 100
    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.uid = next(_user_ids)
        self.rng = random.Random(f"{os.getpid()}-{self.uid}-{time.time_ns()}")
        self.profile = make_profile(self.rng)
        self.binary = self.rng.random() < float(_opt(environment, "qe_msgpack_share", 0.0))
        self.ws: websocket.WebSocket | None = None
        self.token: str | None = None
        self.player: str | None = None
        self.episode = ""
        self.last_seq = -1
        self.answered: set[tuple[str, int]] = set()  # questions we sent (or planned) an answer for
        self.inflight: dict[str, tuple[float, bool, int]] = {}  # ref -> (sent at, late on purpose, q)
        self.timers: list[gevent.Greenlet] = []
        self.refs = itertools.count(1)
        self.deliberate_close = False
        self.alive = True

    # ---- socket -----------------------------------------------------------------------
    def _url(self) -> str:
        base = self.host or ""
        return base.replace("https://", "wss://").replace("http://", "ws://").rstrip("/") + "/ws/viewer"

    def _connect(self) -> None:
        sub = [MSGPACK_SUBPROTOCOL] if self.binary else None
        url = self._url()
        sock = None
        n_ips = int(_opt(self.environment, "qe_source_ips", 200) or 0)
        parsed = urlsplit(url)
        if n_ips > 0 and (parsed.hostname or "").startswith("127."):
            # viewers come from many networks: spread them over 127.0.0.2… so the server's
            # per-address join and connection limits apply as they would in a real show
            sock = socket.create_connection((parsed.hostname, parsed.port or 80), timeout=30,
                                            source_address=(source_ip(self.uid, n_ips), 0))
        self.ws = websocket.create_connection(url, timeout=30, subprotocols=sub, socket=sock,
                                              enable_multithread=True, skip_utf8_validation=True)
        self.ws.settimeout(None)

    def _send(self, frame: dict[str, Any]) -> None:
        ws = self.ws
        if ws is None:
            raise Dropped("not connected")
        if self.binary:
            ws.send_binary(msgpack.packb(frame))
        else:
            ws.send(json.dumps(frame, ensure_ascii=False))

    def _recv(self) -> tuple[dict[str, Any], float]:
        assert self.ws is not None
        opcode, data = self.ws.recv_data()
        t = time.time() * 1000
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
            raise websocket.WebSocketConnectionClosedException(f"closed {code}", code)
        frame = msgpack.unpackb(data, raw=False) if opcode == websocket.ABNF.OPCODE_BINARY else json.loads(data)
        return frame, t

    def _expect(self, *kinds: str) -> tuple[dict[str, Any], float]:
        """Read frames until one of type ``kinds`` (handling the others as usual)."""
        while True:
            frame, t = self._recv()
            if frame.get("type") in kinds:
                return frame, t
            self._handle(frame, t)

    def _hello(self, resume: bool) -> None:
        self._connect()
        hello, _ = self._recv()
        if hello.get("type") != "hello":
            raise Dropped(f"expected hello, got {hello.get('type')}")
        snap, t = self._expect("snapshot")
        self._snapshot(snap, t, joined=False)
        start = time.time()
        for attempt in range(6):
            if resume and self.token:
                self._send({"type": "resume", "token": self.token, "ref": "r"})
            else:
                fields = {k: v for k, v in self.profile.items()
                          if k == "name" or k in hello.get("required", []) or self.rng.random() < 0.8}
                self._send({"type": "join", **fields, "ref": "j"})
            welcome, _ = self._expect("welcome", "error")
            if welcome["type"] == "welcome":
                break
            # refused: report it, then do what the protocol says (bad_token: join afresh; else retry)
            code = welcome.get("code")
            _fire(self.environment, f"error {code}", 0, Rejected(str(welcome.get("message"))))
            if code == "bad_token":
                resume = False
            gevent.sleep(min(5.0, 0.5 * 2**attempt) * self.rng.uniform(0.5, 1.0))
        else:
            raise Dropped("join refused 6 times")
        ms = (time.time() - start) * 1000
        self.token, self.player = welcome["token"], welcome["player"]
        snap, t = self._expect("snapshot")
        if not resume:
            _fire(self.environment, "join", ms)
        self._snapshot(snap, t, joined=True)

    def on_start(self) -> None:
        try:
            self._hello(resume=False)
        except Exception as exc:  # noqa: BLE001 - report, then let the task loop retry
            _fire(self.environment, "join", 0, exc)
            self._drop_socket()

    def on_stop(self) -> None:
        self.alive = False
        for g in self.timers:
            g.kill(block=False)
        self.deliberate_close = True
        self._drop_socket()

    def _drop_socket(self) -> None:
        ws, self.ws = self.ws, None
        if ws is not None:
            # no close handshake: another greenlet may be blocked reading this socket (and a
            # phone switching networks sends none either); shutdown wakes that reader up
            for step in (ws.abort, ws.shutdown):
                with contextlib.suppress(Exception):
                    step()

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        g = gevent.spawn_later(max(0.0, delay), fn, *args)
        self.timers.append(g)
        if len(self.timers) > 64:
            self.timers = [x for x in self.timers if not x.dead]

    # ---- the loop ---------------------------------------------------------------------
    @task
    def play(self) -> None:
        if self.deliberate_close:  # a reconnect (``_bounce``) is under way in another greenlet
            gevent.sleep(0.1)
            return
        if self.ws is None:
            self._reconnect_after_drop(None)
            return
        try:
            frame, t = self._recv()
        except (websocket.WebSocketException, OSError) as exc:
            if self.deliberate_close or not self.alive:
                return  # our own reconnect timer closed it; it reconnects by itself
            code = getattr(exc, "status_code", None) or 1006
            _fire(self.environment, f"disconnect {code}", 0, Dropped(str(exc)))
            self.ws = None
            self._reconnect_after_drop(code)
            return
        self._handle(frame, t)

    def _reconnect_after_drop(self, code: int | None) -> None:
        if code in (1000, 1009, 4001, 4003, 4009, 4010):
            gevent.sleep(3600)  # the protocol says: do not come back
            return
        for attempt in range(8):
            gevent.sleep(min(10.0, 0.5 * 2**attempt) * self.rng.uniform(0.5, 1.0))
            try:
                self._hello(resume=self.token is not None)
                return
            except Exception:  # noqa: BLE001 - keep trying with backoff
                self._drop_socket()
        _fire(self.environment, "reconnect", 0, Dropped("gave up after 8 attempts"))
        gevent.sleep(3600)

    def _handle(self, frame: dict[str, Any], t: float) -> None:
        kind = frame.get("type")
        if "seq" in frame and kind != "snapshot":
            seq = int(frame["seq"])
            if self.last_seq >= 0 and seq > self.last_seq + 1:
                _fire(self.environment, "seq gap", 0, Dropped(f"{self.last_seq} -> {seq}"))
                self._safe_send({"type": "sync"})
            self.last_seq = max(self.last_seq, seq)
        if kind == "question":
            _fire(self.environment, "question delivery", max(0.0, t - float(frame["now"])))
            self._plan_answer(frame, t)
        elif kind == "ack":
            self._ack(frame, t)
        elif kind == "snapshot":
            self._snapshot(frame, t, joined=self.player is not None)
        elif kind == "lobby":
            ep = (frame.get("episode") or {}).get("id", "")
            if ep != self.episode:
                self.episode = ep
                self.answered.clear()
        elif kind == "error":
            _fire(self.environment, f"error {frame.get('code')}", 0, Rejected(str(frame.get("message"))))

    def _snapshot(self, snap: dict[str, Any], t: float, joined: bool) -> None:
        ep = (snap.get("episode") or {}).get("id", "")
        if ep != self.episode or snap.get("phase") == "lobby":
            if ep != self.episode or (self.last_seq >= 0 and int(snap.get("seq", 0)) < self.last_seq):
                self.answered.clear()  # another episode, or the same one after a reset
            self.episode = ep
        self.last_seq = int(snap.get("seq", 0))
        if joined and snap.get("phase") == "question" and snap.get("question") and snap.get("you") is None:
            q = dict(snap["question"])
            q["now"] = snap["now"]
            self._plan_answer(q, t)

    # ---- answering ----------------------------------------------------------------------
    def _plan_answer(self, q: dict[str, Any], t_ms: float) -> None:
        if self.player is None:
            return
        idx = int(q["index"])
        key = (q.get("episode", self.episode), idx)
        if key in self.answered:
            return
        self.answered.add(key)
        env = self.environment
        # times relative to the frame's ``now`` (server clock), so client clock skew does not matter
        since_release = max(0.0, (float(q["now"]) - float(q["release_at"])) / 1000)
        left = (float(q["deadline"]) - float(q["now"])) / 1000  # seconds to the deadline
        window = float(q.get("time_limit", 15))
        early_close = float(_opt(env, "qe_question_s", 0.0) or 0.0)
        if early_close > 0:  # the driver closes early: answer inside its window
            window = min(window, early_close)
            left = min(left, early_close - since_release)
        r = self.rng.random()
        late_share = float(_opt(env, "qe_late_share", 0.03))
        never_share = float(_opt(env, "qe_never_share", 0.05))
        if r < never_share:
            return
        late = r < never_share + late_share
        if late:
            grace = int(_opt(env, "qe_grace_ms", 500)) / 1000
            deadline_in = (float(q["deadline"]) - float(q["now"])) / 1000
            delay = max(deadline_in, left) + grace + self.rng.uniform(0.3, 1.2)
        else:
            if left < 0.8:
                return  # joined/resumed too close to the end to answer in time
            # after the release: most in 3-6 s, some quick, a tail to the end (for 15 s; scaled)
            u = self.rng.random()
            d = (self.rng.uniform(0.8, 3.0) if u < 0.15 else self.rng.uniform(3.0, 6.0) if u < 0.8
                 else self.rng.uniform(6.0, 14.0)) * min(1.0, window / 15.0)
            delay = d - since_release
            if delay < 0.05:  # saw it late (resume, slow network): answer soon after
                delay = self.rng.uniform(0.3, 1.5)
            delay = min(delay, left - 0.7)
        answers = answers_for(env, key[0])
        n_opts = len(q.get("options") or [0, 1])
        if answers is not None and idx < len(answers):
            correct = answers[idx]
            if self.rng.random() < float(_opt(env, "qe_correct_share", 0.7)):
                option = correct
            else:
                option = self.rng.choice([o for o in range(n_opts) if o != correct] or [correct])
        else:
            option = self.rng.randrange(n_opts)
        self._later(delay, self._send_answer, key[1], option, late)
        if self.rng.random() < float(_opt(env, "qe_reconnect_share", 0.05)):
            self._later(self.rng.uniform(0.3, window + 3.0), self._bounce)

    def _safe_send(self, frame: dict[str, Any]) -> bool:
        try:
            self._send(frame)
            return True
        except Exception:  # noqa: BLE001 - the loop notices a dead socket
            return False

    def _send_answer(self, question: int, option: int, late: bool, tries: int = 0) -> None:
        if not self.alive:
            return
        if self.ws is None or self.deliberate_close:  # reconnecting: try again shortly
            if tries < 20:
                self._later(0.25, self._send_answer, question, option, late, tries + 1)
            return
        ref = f"a{next(self.refs)}"
        self.inflight[ref] = (time.time() * 1000, late, question)
        if not self._safe_send({"type": "answer", "question": question, "option": option, "ref": ref}):
            self.inflight.pop(ref, None)
            if tries < 20:
                self._later(0.25, self._send_answer, question, option, late, tries + 1)
            return
        self._later(ACK_TIMEOUT_S, self._ack_timeout, ref)

    def _ack_timeout(self, ref: str) -> None:
        if self.inflight.pop(ref, None) is not None:
            _fire(self.environment, "ack timeout", ACK_TIMEOUT_S * 1000, Rejected(f"no ack for {ref}"))

    def _ack(self, ack: dict[str, Any], t: float) -> None:
        sent = self.inflight.pop(str(ack.get("ref")), None)
        if sent is None:
            return
        ms = max(0.0, t - sent[0])
        late = sent[1]
        if ack.get("ok"):
            if late:
                _fire(self.environment, "answer ack (late but accepted)", ms)
            else:
                _fire(self.environment, "answer ack", ms)
            return
        reason = str(ack.get("reason"))
        if late and reason in ("late", "wrong_question", "not_open"):
            _fire(self.environment, f"late answer (expected): {reason}", ms)
        else:
            _fire(self.environment, f"answer rejected: {reason}", ms, Rejected(reason))

    def _bounce(self) -> None:
        """Drop the socket like a phone switching networks, then resume on a new one."""
        if not self.alive or self.ws is None:
            return
        if self.inflight:  # do not lose an ack: try a little later
            self._later(0.5, self._bounce)
            return
        self.deliberate_close = True
        self._drop_socket()
        gevent.sleep(self.rng.uniform(0.1, 1.0))  # offline for a moment
        start = time.time()
        try:
            self._hello(resume=True)
            self.deliberate_close = False
            _fire(self.environment, "reconnect", (time.time() - start) * 1000)
        except Exception as exc:  # noqa: BLE001
            self.deliberate_close = False
            self._drop_socket()
            _fire(self.environment, "reconnect", 0, exc)


# --- the show driver ----------------------------------------------------------------------
class ShowDriver(HttpUser):
    """The host: plays the whole episode through the host API, once."""

    fixed_count = 1
    weight = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        token = _opt(self.environment, "qe_host_token", "")
        self.client.headers["authorization"] = f"Bearer {token}"
        self.done = not token
        if not token:
            log.warning("no --qe-host-token: the show driver does nothing (drive the show by hand)")

    def _post(self, command: str, body: dict[str, Any] | None = None, ok_409: bool = False) -> dict[str, Any]:
        with self.client.post(f"/api/host/{command}", json=body or {}, name=f"host {command}",
                              catch_response=True) as resp:
            if resp.status_code == 409 and ok_409:
                resp.success()
                return {}
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return {}
            return resp.json()  # type: ignore[no-any-return]

    def _get(self, path: str) -> dict[str, Any]:
        with self.client.get(f"/api/host/{path}", name=f"host {path}", catch_response=True) as resp:
            if resp.status_code != 200:
                resp.failure(f"{resp.status_code}: {resp.text[:200]}")
                return {}
            return resp.json()  # type: ignore[no-any-return]

    def _expected_viewers(self) -> int:
        env = self.environment
        n = int(_opt(env, "qe_expect_viewers", 0) or 0)
        if n:
            return n
        if _opt(env, "headless", False) and _opt(env, "num_users", None):
            return int(_opt(env, "num_users")) - 1
        return 0

    def _wait_lobby(self) -> None:
        expected = self._expected_viewers()
        limit = time.time() + float(_opt(self.environment, "qe_lobby_s", 120.0))
        last, steady_since = -1, time.time()
        while time.time() < limit:
            viewers = int(self._get("stats").get("viewers", 0))
            if viewers != last:
                last, steady_since = viewers, time.time()
            if expected and viewers >= expected:
                break
            if not expected and viewers > 0 and time.time() - steady_since > 5:
                break
            gevent.sleep(1.0)
        gevent.sleep(1.0)  # let the last joins finish
        log.info("show driver: %s viewers connected (expected %s), starting", last, expected or "steady")

    def _wait_phase(self, phases: tuple[str, ...], timeout: float) -> dict[str, Any]:
        end = time.time() + timeout
        state: dict[str, Any] = {}
        while time.time() < end:
            state = self._get("state")
            if state.get("phase") in phases:
                return state
            gevent.sleep(0.25)
        return state

    @task
    def run_show(self) -> None:
        if self.done:
            gevent.sleep(5)
            return
        self.done = True
        env = self.environment
        episode = str(_opt(env, "qe_episode", "") or "")
        if episode:
            bank, _, ep = episode.partition("/")
            self._post("load", {"bank": bank, "episode": ep})
        state = self._get("state")
        reset = _opt(env, "qe_reset", "auto")
        if state.get("episode") and (reset == "yes" or (reset == "auto" and state.get("phase") != "lobby")):
            if state.get("phase") == "question":
                self._post("close", ok_409=True)
            self._post("reset", {"confirm": state["episode"]["id"]})
        self._wait_lobby()
        gap = float(_opt(env, "qe_gap_s", 2.0))
        early = float(_opt(env, "qe_question_s", 0.0) or 0.0)
        limit = int(_opt(env, "qe_questions", 0) or 0)
        played = 0
        while True:
            state = self._get("state")
            nxt = state.get("next_question")
            if nxt is None or (limit and played >= limit):
                break
            opened = self._post("open", {"expect": int(nxt["index"])})
            if not opened:
                break
            played += 1
            time_limit = float(nxt.get("time_limit", 15))
            if early > 0:
                gevent.sleep(early)
                self._post("close", {"expect": int(nxt["index"])}, ok_409=True)
            self._wait_phase(("closed",), time_limit + 10)
            gevent.sleep(gap)
            self._post("reveal")
            gevent.sleep(gap)
            self._post("leaderboard")
            gevent.sleep(gap)
        self._post("finish", ok_409=True)
        log.info("show driver: episode finished after %d question(s)", played)
        if _opt(env, "qe_stop_at_end", False):
            gevent.sleep(3.0)  # let the finished frames and standings arrive
            runner = env.runner
            if isinstance(runner, WorkerRunner):
                runner.send_message("qe_show_done", played)
            elif runner is not None:
                gevent.spawn(runner.quit)


# --- distributed stop, summary file --------------------------------------------------------
@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        def done(msg: Any, **__: Any) -> None:
            log.info("show finished on a worker (%s questions): stopping", msg.data)
            gevent.spawn_later(1.0, runner.quit)

        runner.register_message("qe_show_done", done)


@events.quitting.add_listener
def _summary(environment: Environment, **_: Any) -> None:
    path = _opt(environment, "qe_summary", "")
    if not path or isinstance(environment.runner, WorkerRunner):
        return
    entries = {}
    for (name, method), e in environment.stats.entries.items():
        entries[f"{method} {name}"] = {
            "requests": e.num_requests,
            "failures": e.num_failures,
            "p50_ms": e.get_response_time_percentile(0.5) if e.num_requests else None,
            "p99_ms": e.get_response_time_percentile(0.99) if e.num_requests else None,
            "max_ms": e.max_response_time if e.num_requests else None,
        }
    errors = {f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()}
    total = environment.stats.total
    Path(path).write_text(json.dumps({
        "entries": entries, "errors": errors,
        "total": {"requests": total.num_requests, "failures": total.num_failures},
    }, indent=2, ensure_ascii=False))
