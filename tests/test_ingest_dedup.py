"""The ingest writer's de-duplication window and stream entries, on a manual clock against a real Redis.

A producer that re-sends within `LIVEMON_DEDUP_TTL_S` must see its events counted once, however
the re-send falls across the writer's time buckets; a copy inside one batch counts once too.
Each call writes one entry per session holding that session's new events in arrival order
(monitor/wire_entries.py): what purge and the report rely on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
import redis

from ingest.batch import validate_batch
from ingest.writer import CLOCK_MARGIN_S, AppendResult, DedupBuckets, EventWriter
from livemon import keys
from livemon.redis_client import connect
from monitor import wire_entries
from tests import redis_sync
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
    return len(redis_sync.stream_events(client, *(keys.events_stream(p) for p in range(PARTITIONS))))


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


def entries_of(client: redis.Redis, session: str) -> list[list[str]]:
    """The ids in each entry of `session`'s partition stream that holds its events, in stream order."""
    stream = keys.events_stream(keys.partition_of(session, PARTITIONS))
    out = []
    for _, fields in redis_sync.xrange(client, stream):
        events = [orjson.loads(wire) for wire in wire_entries.events_of(fields[keys.EVENT_FIELD.encode()])]
        if events[0]["session"] == session:
            assert {e["session"] for e in events} == {session}  # one session per entry
            out.append([e["id"] for e in events])
    return out


def test_writer_writes_each_sessions_new_events_as_one_entry_in_arrival_order(
        append: Append, redis_client: redis.Redis) -> None:
    rooms = [f"room-{k}" for k in range(12)]  # several share a partition
    batch = [raw_event("like", session=rooms[i % len(rooms)]) for i in range(60)]
    assert append(batch).accepted == 60
    for room in rooms:
        assert entries_of(redis_client, room) == [[str(e["id"]) for e in batch if e["session"] == room]]
    again = [batch[0], raw_event("comment", session=rooms[0], text="new"), batch[1]]
    assert append(again) == AppendResult(accepted=1, duplicates=2)
    assert entries_of(redis_client, rooms[0])[1:] == [[again[1]["id"]]]  # only the new event, as its own entry
    assert entries_of(redis_client, rooms[1]) == [[str(e["id"]) for e in batch if e["session"] == rooms[1]]]


def test_writer_entries_keep_comment_text_with_line_breaks_whole(append: Append, redis_client: redis.Redis) -> None:
    texts = ["two\nlines", "crlf\r\n", "\u2028sep\u2029", "end\n"]
    assert append([raw_event("comment", text=t) for t in texts]).accepted == 4
    stream = keys.events_stream(keys.partition_of("room-a", PARTITIONS))
    assert [orjson.loads(w)["text"] for w in redis_sync.stream_events(redis_client, stream)] == texts


def test_writer_splits_a_big_session_batch_into_bounded_entries(append: Append, redis_client: redis.Redis) -> None:
    batch = [raw_event("like") for _ in range(wire_entries.MAX_EVENTS * 2 + 3)]
    assert append(batch).accepted == len(batch)
    entries = entries_of(redis_client, "room-a")
    assert [len(ids) for ids in entries] == [wire_entries.MAX_EVENTS, wire_entries.MAX_EVENTS, 3]
    assert [i for ids in entries for i in ids] == [e["id"] for e in batch]


@pytest.mark.parametrize("ttl_s", [1, 2, 3, 10, 61, 900, 86_400])
def test_dedup_bucket_geometry_covers_the_ttl(ttl_s: int) -> None:
    buckets = DedupBuckets(ttl_s)
    for now in (0.0, 0.5, buckets.bucket_s - 0.001, 12_345.678):
        for later in (0.0, ttl_s / 3, ttl_s - 0.001, float(ttl_s)):
            checked, _ = buckets.at(now + later)
            first, expire_at = buckets.at(now)
            assert first[0] in checked  # accepted at `now`, looked up `later` seconds on
            assert expire_at >= now + later  # and its bucket still exists then
