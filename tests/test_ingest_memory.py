"""Ingest memory stays bounded: a full batch is held compactly, and few batches are expanded at once.

The web process's RSS follows the peak of what ingest holds in flight (glibc keeps a heap's
peak resident), so these bound that peak rather than what is left after a request.
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
import redis

from ingest.batch import MAX_BATCH_EVENTS, validate_batch
from ingest.http_api import INGEST_SLOTS
from ingest.writer import EventWriter
from livemon import keys
from livemon.redis_client import connect
from tests import redis_sync
from tests.events_factory import raw_event
from tests.support import INGEST_KEY, Stack, wait_for

# One orjson buffer alone is 4 KiB; what a held event costs (its wire bytes, pseudonym,
# de-dup key, the pipeline's packed command) is a few hundred bytes.
MAX_WRITER_BYTES_PER_EVENT = 1536


def comments(count: int, session: str = "room-a") -> list[dict[str, object]]:
    return [raw_event("comment", session, user=f"v{i}", text=f"hello number {i}") for i in range(count)]


def test_writer_holds_a_full_batch_in_little_memory(redis_client: redis.Redis, redis_url: str) -> None:
    raw = comments(MAX_BATCH_EVENTS)

    async def append() -> int:
        client = connect(redis_url)
        try:
            writer = EventWriter(client, partitions=8, dedup_ttl_s=600, stream_maxlen=100_000)
            await writer.append(validate_batch(raw[:1], b"secret"))  # connection and script loaded before measuring
            tracemalloc.start()
            try:  # encoding happens in validate_batch: it is where an orjson buffer would be kept
                result = await writer.append(validate_batch(raw[1:], b"secret"))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert result.accepted == MAX_BATCH_EVENTS - 1
            return peak
        finally:
            await client.aclose()

    peak = asyncio.run(append())
    assert peak / MAX_BATCH_EVENTS < MAX_WRITER_BYTES_PER_EVENT, f"{peak / MAX_BATCH_EVENTS:.0f} bytes per event"
    assert len(redis_sync.stream_events(redis_client, keys.events_stream(keys.partition_of("room-a", 8)))) \
        == MAX_BATCH_EVENTS


STREAM_NODE_ENTRIES = 100  # Redis's stream-node-max-entries: `MAXLEN ~` trims whole nodes only


@pytest.mark.parametrize("per_entry", [1, 10])
def test_writer_caps_each_partition_stream_near_its_maxlen_in_events(
        redis_client: redis.Redis, redis_url: str, per_entry: int) -> None:
    batches, rooms = 10, 400  # a call writes one entry per room: ~50 per partition, ~500 in all
    maxlen = 200 * per_entry  # events: ~200 entries

    async def append() -> None:
        client = connect(redis_url)
        try:
            writer = EventWriter(client, partitions=8, dedup_ttl_s=600, stream_maxlen=maxlen)
            for b in range(batches):
                raw = [raw_event("comment", f"room-{r}", user="v", text=f"batch {b}")
                       for r in range(rooms) for _ in range(per_entry)]
                await writer.append(validate_batch(raw, b"secret"))
        finally:
            await client.aclose()

    asyncio.run(append())
    for p in range(8):
        stream = keys.events_stream(p)
        events, entries = len(redis_sync.stream_events(redis_client, stream)), redis_client.xlen(stream)
        written = 10 * sum(1 for r in range(rooms) if keys.partition_of(f"room-{r}", 8) == p) * per_entry
        # trimmed after each call: at most one node of entries over the cap, never below it
        assert min(written, maxlen) <= events <= maxlen + STREAM_NODE_ENTRIES * per_entry, (p, events, entries)


def gauge(stack: Stack, name: str) -> float | None:
    """One unlabelled gauge from /metrics, or None when the process does not export it."""
    for line in stack.http.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def douyin_chat(count: int, session: str) -> bytes:
    """A Douyin webcast message batch of `count` chat messages (docs/ingest.md)."""
    now = int(time.time() * 1000)
    return orjson.dumps([{"common": {"method": "WebcastChatMessage", "msgId": f"{session}-{i}", "roomId": session,
                                     "createTime": str(now)}, "user": {"id": f"v{i}"}, "content": f"hello {i}"}
                         for i in range(count)])


BATCH_PATHS = {
    "/api/v1/events": lambda session: orjson.dumps(comments(100, session=session)),
    "/api/v1/douyin/messages": lambda session: douyin_chat(100, session),
}


@pytest.mark.parametrize("path", list(BATCH_PATHS))
def test_ingest_expands_at_most_its_slots_of_batches_at_once(stack: Stack, redis_client: redis.Redis,
                                                             path: str) -> None:
    # Pausing Redis writes holds every admitted request in its rate-limit script call, so the
    # requests admitted at once stay visible; reads (/metrics) still answer.
    extra = 2
    bodies = [BATCH_PATHS[path](f"{n + 1}000") for n in range(INGEST_SLOTS + extra)]
    redis_client.execute_command("CLIENT", "PAUSE", 30_000, "WRITE")
    try:
        with ThreadPoolExecutor(len(bodies)) as pool, httpx.Client(base_url=stack.url, timeout=40) as http:
            answers = [pool.submit(http.post, path, content=body,
                                   headers={"Authorization": f"Bearer {INGEST_KEY}"}) for body in bodies]
            wait_for(lambda: gauge(stack, "livemon_ingest_waiting") == extra, 15, f"{extra} requests waiting")
            assert gauge(stack, "livemon_ingest_in_flight") == INGEST_SLOTS
            redis_client.execute_command("CLIENT", "UNPAUSE")
            assert [a.result().json()["accepted"] for a in answers] == [100] * len(bodies)
    finally:
        redis_client.execute_command("CLIENT", "UNPAUSE")
    assert (gauge(stack, "livemon_ingest_in_flight"), gauge(stack, "livemon_ingest_waiting")) == (0, 0)
