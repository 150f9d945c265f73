"""Create Redis clients with settings that avoid redis-py's known traps.

redis-py 8 defaults to a 5 s socket timeout that breaks blocking stream reads, so
blocking readers get their own connection with no socket timeout and short BLOCKs.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached; the message says where and what to do."""


def connect(url: str, *, blocking_reader: bool = False) -> aioredis.Redis:
    """Return an asyncio client; `blocking_reader=True` for XREAD/XREADGROUP BLOCK loops."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=None if blocking_reader else 5.0,
        socket_connect_timeout=3.0,
        health_check_interval=30,
    )


async def require_redis(client: aioredis.Redis, url: str) -> None:
    """Ping Redis or raise `RedisUnavailable` with an actionable message."""
    try:
        await client.ping()
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise RedisUnavailable(
            f"Cannot reach Redis at {url}: {exc}. Start one with `livemon redis` "
            "(or run `livemon demo`), or point REDIS_URL at a running server."
        ) from None
