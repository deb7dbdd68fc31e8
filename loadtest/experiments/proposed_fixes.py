"""Run ``quiz-engine`` with the fixes proposed in docs/benchmarks.md applied by monkeypatching.

    python loadtest/experiments/proposed_fixes.py serve …      (same arguments as quiz-engine)

QE_FIXES (comma list, default "fastpath,pool") selects them:

- ``fastpath`` — hub.Conn's fast path (one ``transport.write`` of a pre-framed buffer per
  socket) is never taken under Starlette: ``ws._send`` is Starlette's ``sender`` wrapper, not
  uvicorn's bound ``send``, so ``__self__`` is missing and every socket falls back to a writer
  task + ``send_text`` (re-framing per socket). Fix: keep the raw ASGI ``send`` in the scope
  (outermost middleware) and look the protocol up from it. (Landed differently in d697949 —
  ``hub._server_protocol`` follows Starlette's closure; kept for A/B runs on older commits.)
- ``pool`` — redis-py 8's asyncio ConnectionPool defaults to 100 connections and *raises*
  ``MaxConnectionsError`` ("Too many connections") past that; more than ~100 joins/snapshots
  in flight then fail as "Redis unavailable". Fix: a BlockingConnectionPool (waits instead).
  (Being adopted in the working tree as of this writing; harmless to apply twice.)
- ``gcfreeze`` — ``gc.freeze()`` after each question opens (tried for the >100 ms pauses).
"""

from __future__ import annotations

import os
import sys

FIXES = {f.strip() for f in os.environ.get("QE_FIXES", "fastpath,pool").split(",") if f.strip()}


def _fastpath() -> None:
    from quiz_engine import hub
    from quiz_engine.web import app as web_app

    orig_call = web_app.SecurityHeaders.__call__

    async def call(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "websocket":
            scope["quiz.raw_send"] = send  # uvicorn's bound WebSocketsSansIOProtocol.send
        await orig_call(self, scope, receive, send)

    web_app.SecurityHeaders.__call__ = call  # type: ignore[method-assign]
    orig_init = hub.Conn.__init__

    def init(self, ws, *args, **kwargs):  # type: ignore[no-untyped-def]
        raw = ws.scope.get("quiz.raw_send")
        wrapped = ws._send
        if raw is not None:
            ws._send = raw
        try:
            orig_init(self, ws, *args, **kwargs)
        finally:
            ws._send = wrapped

    hub.Conn.__init__ = init  # type: ignore[method-assign]


def _pool() -> None:
    import redis.asyncio as aioredis

    from quiz_engine.store.redis_store import Store

    def from_url(cls, url):  # type: ignore[no-untyped-def]
        pool = aioredis.BlockingConnectionPool.from_url(
            url, max_connections=64, timeout=5, decode_responses=True, socket_timeout=5,
            socket_connect_timeout=3, health_check_interval=10)
        return cls(aioredis.Redis(connection_pool=pool))

    Store.from_url = classmethod(from_url)  # type: ignore[method-assign,assignment]


def _gcfreeze() -> None:
    import gc

    from quiz_engine import runner

    orig = runner.Runner._schedule_viewers

    def schedule(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        gc.collect()
        gc.freeze()
        return orig(self, *args, **kwargs)

    runner.Runner._schedule_viewers = schedule  # type: ignore[method-assign]


if __name__ == "__main__":
    for name in sorted(FIXES):
        {"fastpath": _fastpath, "pool": _pool, "gcfreeze": _gcfreeze}[name]()
    from quiz_engine.cli import main

    sys.exit(main(sys.argv[1:]))
