"""The ingest writer's de-duplication window, on a manual clock against a real Redis.

A producer that re-sends within `LIVEMON_DEDUP_TTL_S` must see its events counted once, however
the re-send falls across the writer's time buckets; a copy inside one batch counts once too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from ingest.batch import validate_batch
from ingest.writer import CLOCK_MARGIN_S, AppendResult, DedupBuckets, EventWriter
from livemon import keys
from livemon.redis_client import connect
from tests.events_factory import raw_event

TTL_S = 900
PARTITIONS = 8


Append = Callable[[list[dict[str, object]]], AppendResult]


class ManualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())  # Redis expires buckets on its own clock: start there, then move ahead


@pytest.fixture
def append(redis_client: redis.Redis, redis_url: str, clock: ManualClock) -> Iterator[Append]:
    """Append raw events through one writer on `clock`; returns the writer's result."""
    loop = asyncio.new_event_loop()
    client = connect(redis_url)
    writer = EventWriter(client, PARTITIONS, TTL_S, 100_000, clock=clock)

    def run(raw: list[dict[str, object]]) -> AppendResult:
        return loop.run_until_complete(writer.append(validate_batch(raw, b"secret")))

    yield run
    loop.run_until_complete(client.aclose())
    loop.close()


def stored(client: redis.Redis) -> int:
    return sum(client.xlen(keys.events_stream(p)) for p in range(PARTITIONS))


def test_dedup_copies_within_one_batch_count_once(append: Append, redis_client: redis.Redis) -> None:
    like, comment = raw_event("like"), raw_event("comment", text="same")
    assert append([like, comment, like, like, comment]) == AppendResult(accepted=2, duplicates=3)
    assert stored(redis_client) == 2


@pytest.mark.parametrize("later_s", [1, 224, 226, 450, 675, TTL_S - 1, TTL_S])
def test_dedup_resend_within_the_ttl_counts_once_across_buckets(
        append: Append, clock: ManualClock, redis_client: redis.Redis, later_s: int) -> None:
    clock.now = (clock.now // 225 + 1) * 225 - 25  # 25 s before a bucket edge (buckets of 225 s)
    events = [raw_event("like", session=f"room-{k}") for k in range(20)]  # several partitions
    assert append(events).accepted == 20
    clock.now += later_s
    assert append([*events, raw_event("like")]) == AppendResult(accepted=1, duplicates=20)
    assert stored(redis_client) == 21


def test_dedup_forgets_after_the_ttl_and_a_bucket(append: Append, clock: ManualClock) -> None:
    event = raw_event("like")
    assert append([event]).accepted == 1
    buckets = DedupBuckets(TTL_S)
    clock.now += TTL_S + buckets.bucket_s
    assert append([event]).accepted == 1  # the producer re-used an id long after: a new event


def test_dedup_bucket_outlives_the_ttl_then_expires(append: Append, redis_client: redis.Redis) -> None:
    append([raw_event("like")])
    [bucket] = redis_client.keys("lm:dd:*")
    remaining = redis_client.ttl(bucket)
    assert isinstance(remaining, int)
    assert TTL_S < remaining <= TTL_S + DedupBuckets(TTL_S).bucket_s + CLOCK_MARGIN_S + 1


@pytest.mark.parametrize("ttl_s", [1, 2, 3, 10, 61, 900, 86_400])
def test_dedup_bucket_geometry_covers_the_ttl(ttl_s: int) -> None:
    buckets = DedupBuckets(ttl_s)
    for now in (0.0, 0.5, buckets.bucket_s - 0.001, 12_345.678):
        for later in (0.0, ttl_s / 3, ttl_s - 0.001, float(ttl_s)):
            checked, _ = buckets.at(now + later)
            first, expire_at = buckets.at(now)
            assert first[0] in checked  # accepted at `now`, looked up `later` seconds on
            assert expire_at >= now + later  # and its bucket still exists then
