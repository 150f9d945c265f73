"""The reply types livemon/redis_replies.py casts to, checked on a real Redis through livemon's own client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis
import redis.asyncio as aioredis

from livemon import redis_replies
from livemon.redis_client import connect

T = TypeVar("T")


def run(redis_url: str, go: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    """Run `go` with a client made as every livemon process makes it; close the client after."""
    async def main() -> T:
        client = connect(redis_url)
        try:
            return await go(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_redis_replies_stream_reads_are_bytes_entries(redis_client: redis.Redis, redis_url: str) -> None:
    first, second = b"1-1", b"1-2"
    redis_client.xadd("s", {"a": "1", "b": b"\xff"}, id=first)
    redis_client.xadd("s", {"a": "2"}, id=second)

    async def go(client: aioredis.Redis) -> list[redis_replies.Entries]:
        return [
            await redis_replies.xread(client, "s", "0", count=10, block=1),
            await redis_replies.xread(client, "s", second.decode(), count=10, block=1),  # BLOCK times out
            await redis_replies.xread(client, "missing", "0", count=10, block=1),
            await redis_replies.xrange(client, "s", f"({first.decode()}", "+", count=10),
            await redis_replies.xrange(client, "s", "-", "+", count=1),
        ]

    everything, timed_out, missing, after_first, page = run(redis_url, go)
    assert everything == [(first, {b"a": b"1", b"b": b"\xff"}), (second, {b"a": b"2"})]
    assert timed_out == [] and missing == []
    assert after_first == [(second, {b"a": b"2"})]
    assert page == [(first, {b"a": b"1", b"b": b"\xff"})]


def test_redis_replies_group_reads_give_trimmed_pending_entries_empty_fields(
    redis_client: redis.Redis, redis_url: str
) -> None:
    redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    kept = redis_client.xadd("s", {"f": "kept"})
    gone = redis_client.xadd("s", {"f": "gone"})

    async def go(client: aioredis.Redis) -> tuple[redis_replies.Entries, ...]:
        new = await redis_replies.xreadgroup(client, "g", "c1", "s", ">", count=10, block=1)
        none_left = await redis_replies.xreadgroup(client, "g", "c1", "s", ">", count=10, block=1)
        await client.xdel("s", gone)  # deleted while pending
        pending = await redis_replies.xreadgroup(client, "g", "c1", "s", "0", count=10)
        return new, none_left, pending

    new, none_left, pending = run(redis_url, go)
    assert new == [(kept, {b"f": b"kept"}), (gone, {b"f": b"gone"})]
    assert none_left == []
    assert pending == [(kept, {b"f": b"kept"}), (gone, {})]


def test_redis_replies_xautoclaim_returns_a_str_cursor_and_the_claimed_entries(
    redis_client: redis.Redis, redis_url: str
) -> None:
    redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    ids = [f"1-{i}".encode() for i in range(3)]
    for i, entry_id in enumerate(ids):
        redis_client.xadd("s", {"n": str(i)}, id=entry_id)
    redis_client.xreadgroup("g", "dead", {"s": ">"})

    async def go(client: aioredis.Redis) -> tuple[tuple[str, redis_replies.Entries], ...]:
        partial = await redis_replies.xautoclaim(client, "s", "g", "alive", min_idle_ms=0, start_id="0-0", count=2)
        rest = await redis_replies.xautoclaim(client, "s", "g", "alive", min_idle_ms=0, start_id=partial[0],
                                              count=2)
        return partial, rest

    (cursor, claimed), (end, rest) = run(redis_url, go)
    assert cursor == ids[2].decode()
    assert claimed == [(ids[0], {b"n": b"0"}), (ids[1], {b"n": b"1"})]
    assert (end, rest) == ("0-0", [(ids[2], {b"n": b"2"})])


def test_redis_replies_hashes_and_sets_are_bytes(redis_client: redis.Redis, redis_url: str) -> None:
    redis_client.hset("h", mapping={"k": "v", b"\xfe": b"\xff"})
    redis_client.sadd("set", "a", b"\xff")

    async def go(client: aioredis.Redis) -> tuple[dict[bytes, bytes], dict[bytes, bytes], set[bytes], set[bytes]]:
        return (await redis_replies.hgetall(client, "h"), await redis_replies.hgetall(client, "missing"),
                await redis_replies.smembers(client, "set"), await redis_replies.smembers(client, "missing"))

    assert run(redis_url, go) == ({b"k": b"v", b"\xfe": b"\xff"}, {}, {b"a", b"\xff"}, set())


def test_redis_replies_field_reader_gives_one_fields_value_per_entry(redis_client: redis.Redis, redis_url: str) -> None:
    # RESP3 (livemon's clients) answers a map and RESP2 a list: both give the same (id, value) pairs.
    redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    only = redis_client.xadd("s", {"e": b"\xff payload"})
    later = redis_client.xadd("s", {"x": "1", "e": "second"})  # the field need not come first
    without = redis_client.xadd("s", {"x": "2"})
    gone = redis_client.xadd("s", {"e": "deleted while pending"})

    async def read(client: aioredis.Redis, consumer: str) -> tuple[redis_replies.FieldEntries, ...]:
        reader = redis_replies.field_reader(client, b"e")
        try:
            new = await redis_replies.xreadgroup_field(reader, "g", consumer, "s", ">", count=10, block=1)
            timed_out = await redis_replies.xreadgroup_field(reader, "g", consumer, "s", ">", count=10, block=1)
            return new, timed_out
        finally:
            await reader.aclose()

    async def go() -> tuple[tuple[redis_replies.FieldEntries, ...], ...]:
        resp3 = await read(connect(redis_url, blocking_reader=True), "c3")
        await asyncio.to_thread(redis_client.xgroup_setid, "s", "g", "0")  # deliver everything again
        resp2 = await read(aioredis.Redis.from_url(redis_url, protocol=2), "c2")
        await asyncio.to_thread(redis_client.xdel, "s", gone)
        reader = redis_replies.field_reader(connect(redis_url, blocking_reader=True), b"e")
        try:
            pending = await redis_replies.xreadgroup_field(reader, "g", "c2", "s", "0", count=10)
        finally:
            await reader.aclose()
        return resp3, resp2, (pending,)

    resp3, resp2, (pending,) = asyncio.run(go())
    expected = [(only, b"\xff payload"), (later, b"second"), (without, None), (gone, b"deleted while pending")]
    assert resp3 == resp2 == (expected, [])
    assert pending == [(only, b"\xff payload"), (later, b"second"), (without, None), (gone, None)]
