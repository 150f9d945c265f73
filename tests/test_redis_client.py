"""The asyncio client livemon builds: many concurrent commands wait for a connection, none fail;
commands packed by hiredis reach Redis as redis-py's own packer would send them."""

from __future__ import annotations

import asyncio

import pytest
import redis
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from livemon.redis_client import POOL_SIZE, connect


def test_redis_client_queues_commands_beyond_its_pool_instead_of_failing(redis_url: str) -> None:
    async def main() -> list[object]:
        client = connect(redis_url)
        try:
            # each BLPOP holds its connection for 0.2 s: three times the pool at once, as 200
            # websockets reconnecting together would do
            return await asyncio.gather(*(client.blpop([f"lm:test:empty:{i}"], timeout=0.2)
                                          for i in range(3 * POOL_SIZE)))
        finally:
            await client.aclose()

    assert asyncio.run(main()) == [None] * (3 * POOL_SIZE)


def test_redis_client_packs_with_hiredis_the_bytes_redis_py_would_send(redis_url: str, redis_client: redis.Redis) -> None:
    client = connect(redis_url)
    pool = client.connection_pool
    packing = pool.connection_class(**pool.connection_kwargs)
    plain = Connection(**pool.connection_kwargs)
    for args in [("SET", "lm:test:k", "vé"), ("CONFIG GET", "maxmemory"), ("XADD", "s", "*", "e", b"x" * 9000),
                 ("ZADD", "z", 0.1, "a", 7, memoryview(b"b"))]:
        assert b"".join(packing.pack_command(*args)) == b"".join(plain.pack_command(*args))

    async def main() -> None:
        try:
            await client.set("lm:test:k", "vé")
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr("lm:test:n")
                pipe.hset("lm:test:h", mapping={"big": b"x" * 10_000, "n": 1})
                assert await pipe.execute() == [1, 2]
            with pytest.raises(DataError, match="NoneType"):  # redis-py's own message, not a TypeError
                await client.set("lm:test:k", None)  # type: ignore[arg-type]
        finally:
            await client.aclose()

    asyncio.run(main())
    assert redis_client.get("lm:test:k") == "vé".encode()
    assert redis_client.hget("lm:test:h", "big") == b"x" * 10_000
