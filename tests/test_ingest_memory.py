"""Ingest memory stays bounded: a full batch is held compactly.

The web process's RSS follows the peak of what ingest holds in flight (glibc keeps a heap's
peak resident), so these bound that peak rather than what is left after a request.
"""

from __future__ import annotations

import asyncio
import tracemalloc

import redis

from ingest.batch import MAX_BATCH_EVENTS, validate_batch
from ingest.writer import EventWriter
from livemon import keys
from livemon.redis_client import connect
from tests.events_factory import raw_event

# One orjson buffer alone is 4 KiB; what a held event costs besides its Event object
# (wire bytes, de-dup key, the pipeline's packed command) is a few hundred bytes.
MAX_WRITER_BYTES_PER_EVENT = 1536


def comments(count: int, session: str = "room-a") -> list[dict[str, object]]:
    return [raw_event("comment", session, user=f"v{i}", text=f"hello number {i}") for i in range(count)]


def test_writer_holds_a_full_batch_in_little_memory(redis_client: redis.Redis, redis_url: str) -> None:
    events = validate_batch(comments(MAX_BATCH_EVENTS), b"secret")

    async def append() -> int:
        client = connect(redis_url)
        try:
            writer = EventWriter(client, partitions=8, dedup_ttl_s=600, stream_maxlen=100_000)
            await writer.append(events[:1])  # connection and script loaded before measuring
            tracemalloc.start()
            try:
                result = await writer.append(events[1:])
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert result.accepted == MAX_BATCH_EVENTS - 1
            return peak
        finally:
            await client.aclose()

    peak = asyncio.run(append())
    assert peak / MAX_BATCH_EVENTS < MAX_WRITER_BYTES_PER_EVENT, f"{peak / MAX_BATCH_EVENTS:.0f} bytes per event"
    assert redis_client.xlen(keys.events_stream(keys.partition_of("room-a", 8))) == MAX_BATCH_EVENTS

