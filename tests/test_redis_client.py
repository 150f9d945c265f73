"""The asyncio client livemon builds: many concurrent commands wait for a connection, none fail."""

from __future__ import annotations

import asyncio

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
