"""Several nodes on one Redis: one consistent episode whichever node a viewer is on.

Each test runs twice: on a single redis-server and on a local Redis Cluster of three masters
(the same ``REDIS_URL`` setting; the store asks the server which one it is)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_lib

from tests.client import Client
from tests.conftest import ServerProc, start_server


@pytest.fixture(params=["redis", "cluster"])
def make_node(request: pytest.FixtureRequest, make_server: Callable[..., ServerProc],
              tmp_path: Path) -> Any:
    if request.param == "redis":
        yield make_server
        return
    cluster = request.getfixturevalue("redis_cluster")
    cluster.flush()
    started: list[ServerProc] = []

    def make(*extra: str, **kwargs: Any) -> ServerProc:
        server = start_server(cluster.url, tmp_path, *extra, **kwargs)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop(signal.SIGKILL)


def sync_client(url: str) -> Any:
    plain = redis_lib.Redis.from_url(url, decode_responses=True)
    clustered = bool(plain.info("cluster").get("cluster_enabled"))
    if not clustered:
        return plain
    plain.close()
    return redis_lib.RedisCluster.from_url(url, decode_responses=True)


async def test_two_nodes_one_episode(make_node: Any) -> None:
    make_server = make_node
    a = make_server("--load", "test/ep1")
    b = make_server()  # loads nothing: picks up the show from Redis
    overlay_b = await Client.connect(f"{b.ws}/ws/overlay?token={b.overlay_token}")
    viewers = []
    for i in range(12):
        node = a if i % 2 == 0 else b
        v = await Client.connect(f"{node.ws}/ws/viewer")
        await v.join(f"n{i:02d}", unit="A" if i % 2 == 0 else "B")
        viewers.append(v)
    # host counts are cluster-wide (heartbeats every 2 s)
    for _ in range(50):
        with a.host() as host:
            if host.get("/api/host/stats").json()["viewers"] == 12:
                break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("cluster-wide viewer count never reached 12")

    for q in range(2):
        # host commands go to node A; node B's viewers get the frames through Redis pub/sub
        assert a.cmd("open", expect=q).status_code == 200
        frames = await asyncio.gather(*(v.expect("question", index=q) for v in viewers))
        assert len({f["deadline"] for f in frames}) == 1

        async def answer(i: int, v: Client, q: int) -> dict[str, Any]:
            await asyncio.sleep(0.05 + 0.08 * ((i * 7 + q * 5) % 12))
            return await v.answer(q, [1, 0][q] if i % 3 else 2)

        acks = await asyncio.gather(*(answer(i, v, q) for i, v in enumerate(viewers)))
        assert all(ack["ok"] for ack in acks)
        # closing through node B works just the same
        assert b.cmd("close").status_code == 200
        assert a.cmd("close").status_code == 409
        assert b.cmd("reveal").status_code == 200
        reveal = await overlay_b.expect("reveal", index=q)
        fastest = min((i for i in range(12) if i % 3), key=lambda i: (i * 7 + q * 5) % 12)
        assert reveal["fastest"]["name"] == f"n{fastest:02d}"

    assert a.cmd("finish").status_code == 200
    finished = await overlay_b.expect("finished")
    with a.host() as ha, b.host() as hb:
        ra = ha.get("/api/host/results").json()
        rb = hb.get("/api/host/results").json()
        assert ra == rb
        assert finished["winner"]["name"] == ra["standings"][0]["name"]
        assert ha.get("/api/host/verify").json()["ok"]
    # a node that starts late rebuilds everything from Redis
    c = make_server()
    state = httpx.get(f"{c.base}/api/host/state", headers={"authorization": f"Bearer {c.host_token}"}).json()
    assert state["phase"] == "finished" and state["episode"]["id"] == "test.ep1"
    for v in viewers:
        await v.close()
    await overlay_b.close()


async def test_close_timer_fires_once_across_nodes(make_node: Any) -> None:
    make_server = make_node
    a = make_server("--load", "test/short", "--grace-ms", "200")
    b = make_server("--grace-ms", "200")
    va = await Client.connect(f"{a.ws}/ws/viewer")
    vb = await Client.connect(f"{b.ws}/ws/viewer")
    await va.join("Ava")
    await vb.join("Bea")
    assert a.cmd("open").status_code == 200
    await va.expect("question")
    await vb.expect("question")
    ca = await va.expect("closed", timeout=12)
    cb = await vb.expect("closed", timeout=12)
    assert ca["seq"] == cb["seq"]
    with a.host() as host:
        audit_closes = host.get("/api/host/verify").json()
        assert audit_closes["ok"]
    r = sync_client(a.redis_url)
    closes = [f for _, f in r.xrange("qe:{test.short}:audit") if f.get("e") == "close"]
    r.close()
    assert len(closes) == 1 and closes[0]["by"].startswith("timer:")
    await va.close()
    await vb.close()
