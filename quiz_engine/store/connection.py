"""Connecting to Redis, and what "Redis is unavailable" means for the store."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
import redis.exceptions as rexc
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from quiz_engine.errors import RedisUnavailable

REDIS_DOWN = (rexc.ConnectionError, rexc.TimeoutError, OSError)
MAX_REDIS_CONNECTIONS = 200  # per process


def is_cluster(url: str) -> bool:
    """Whether the Redis at ``url`` is a Redis Cluster node (False if it cannot be asked now:
    the store's first real call reports an unreachable Redis)."""
    probe = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        return bool(probe.info("cluster").get("cluster_enabled"))
    except (rexc.RedisError, OSError):
        return False
    finally:
        probe.close()


def client_for(url: str) -> aioredis.Redis | RedisCluster:
    """A client for the Redis at ``url``: a single server, or any node of a Redis Cluster.

    Which of the two is asked of the server itself (``INFO cluster``), so the same
    ``REDIS_URL`` setting works for both. Every key of an episode carries the hash tag
    ``{episode}`` and the scripts only touch one episode, so each runs on one shard.
    """
    retry = Retry(ExponentialBackoff(cap=0.5, base=0.05), 3)
    common: dict[str, Any] = {
        "decode_responses": True, "socket_timeout": 5, "socket_connect_timeout": 3, "retry": retry,
    }
    if is_cluster(url):
        return RedisCluster.from_url(url, **common)
    # A blocking pool: a burst of more concurrent calls than connections waits (up to 5 s)
    # for a free one. redis-py's default pool holds 100 and refuses the 101st with "Too many
    # connections", which reached viewers as "unavailable" on a healthy Redis.
    # After a Redis restart every pooled connection is dead: a command that meets one
    # reconnects and retries (every state change is a script that is safe to repeat:
    # answers carry a request id, transitions check the phase) instead of failing.
    pool = aioredis.BlockingConnectionPool.from_url(
        url, health_check_interval=10, max_connections=MAX_REDIS_CONNECTIONS, timeout=5,
        retry_on_error=[rexc.ConnectionError, rexc.TimeoutError], **common,
    )
    return aioredis.Redis.from_pool(pool)


def unavailable(exc: BaseException) -> RedisUnavailable:
    """The translation of a Redis that cannot be reached (the only one: Store._run and Store.subscribe use it)."""
    if isinstance(exc, rexc.BusyLoadingError):
        return RedisUnavailable("Redis is loading its data; try again")
    if "No connection available" in str(exc):  # the pool's wait ran out: this node is overloaded, Redis is fine
        return RedisUnavailable("the server is busy (no Redis connection free in time); try again")
    return RedisUnavailable(f"Redis unavailable: {exc}")
