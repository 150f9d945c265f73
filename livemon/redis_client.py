"""Create Redis clients with settings that avoid redis-py's known traps; single Redis or Redis Cluster.

redis-py 8 defaults to a 5 s socket timeout that breaks blocking stream reads, so
blocking readers get their own connection with no socket timeout and short BLOCKs.

Redis Cluster: `REDIS_CLUSTER_NODES=host:port,host:port` (see livemon/settings.py) becomes the
URL `redis+cluster://host:port,host:port`, so every process and tool that passes a Redis URL
around works unchanged; `connect` turns it into a `redis.asyncio.cluster.RedisCluster`. What
livemon asks of Redis is cluster-safe by construction (docs/storage.md):

* every multi-key script and MULTI touches one partition's keys, which share the hash tag `{pN}`;
* the engine reads each partition's stream with its own XREADGROUP (a multi-stream read is CROSSSLOT);
* keys without a hash tag (`lm:snap`, `lm:updates`, `lm:alerts`, ...) only see single-key commands.
"""

from __future__ import annotations

from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.exceptions import TimeoutError as RedisTimeoutError

CLUSTER_SCHEME = "redis+cluster://"


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached; the message says where and what to do."""


def parse_cluster_nodes(nodes: str) -> list[tuple[str, int]]:
    """Parse "host:port,host:port" (the value of REDIS_CLUSTER_NODES).

    Raises:
        ValueError: naming the entry that is not `host:port` with a port in 1-65535.
    """
    parsed: list[tuple[str, int]] = []
    for entry in (e.strip() for e in nodes.split(",")):
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"REDIS_CLUSTER_NODES: expected host:port[,host:port...], got {entry!r}")
        parsed.append((host.strip("[]"), int(port)))
    if not parsed:
        raise ValueError("REDIS_CLUSTER_NODES: expected at least one host:port")
    return parsed


def cluster_url(nodes: str) -> str:
    """The livemon URL of a Redis Cluster given its seed nodes ("host:port,host:port")."""
    return CLUSTER_SCHEME + ",".join(f"{host}:{port}" for host, port in parse_cluster_nodes(nodes))


def is_cluster_url(url: str) -> bool:
    """Whether `url` names a Redis Cluster (`redis+cluster://…`)."""
    return url.startswith(CLUSTER_SCHEME)


def is_cluster(client: object) -> bool:
    """Whether a client or pipeline talks to a Redis Cluster."""
    return isinstance(client, (RedisCluster, ClusterPipeline))


class _HiredisPacking:
    """Pack commands with hiredis's C packer: redis-py's asyncio connections use a Python one.

    redis-py's own packer joins bytes per argument in Python; a bulk ingest call carries two
    arguments per event (its id and its wire form), and packing them was ~20 % of the web
    process's CPU (py-spy, bench/scale.py HTTP set-up). Anything hiredis does not take (None,
    bools, other objects) goes to redis-py's packer, which raises its usual DataError.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        if isinstance(args[0], str):  # "CONFIG GET": the server wants the words as arguments
            args = (*args[0].split(), *args[1:])
        try:
            return [hiredis.pack_command(args)]
        except TypeError:
            packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
            return packed


def _hiredis_packing(connection_class: type) -> type:
    """`connection_class` (TCP, TLS or Unix socket, as the URL chose) with hiredis packing."""
    return type(f"HiredisPacking{connection_class.__name__}", (_HiredisPacking, connection_class), {})


POOL_SIZE = 50  # connections per client; a command waits for a free one...
POOL_WAIT_S = 10.0  # ...this long before it fails like a lost connection


def connect(url: str, *, blocking_reader: bool = False) -> aioredis.Redis:
    """Return an asyncio client; `blocking_reader=True` for XREAD/XREADGROUP BLOCK loops."""
    options: dict[str, Any] = {
        "socket_timeout": None if blocking_reader else 5.0,
        "socket_connect_timeout": 3.0,
        "health_check_interval": 30,
    }
    if not is_cluster_url(url):
        # Callers wait for a free connection instead of failing: redis-py's default pool raises
        # once 100 are in use, which 200 websockets (re)connecting at once reached.
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=POOL_WAIT_S, **options)
        pool.connection_class = _hiredis_packing(pool.connection_class)  # before any connection is made
        return aioredis.Redis.from_pool(pool)
    nodes = [ClusterNode(host, port) for host, port in parse_cluster_nodes(url.removeprefix(CLUSTER_SCHEME))]
    # RedisCluster offers every command method livemon calls on `aioredis.Redis` (single-key commands,
    # scripts, pipelines, same-slot MULTI); tests/test_cluster.py runs the whole stack on it. It is not
    # a subclass, hence the cast instead of widening every annotation in the code base.
    return cast(aioredis.Redis, RedisCluster(startup_nodes=nodes, **options))


async def require_redis(client: aioredis.Redis, url: str) -> None:
    """Ping Redis or raise `RedisUnavailable` with an actionable message."""
    try:
        await client.ping()
    except (RedisConnectionError, RedisTimeoutError, RedisClusterException, OSError) as exc:
        raise RedisUnavailable(
            f"Cannot reach Redis at {url}: {exc}. Start one with `livemon redis` "
            "(or run `livemon demo`), or point REDIS_URL (or REDIS_CLUSTER_NODES) at a running server."
        ) from None
