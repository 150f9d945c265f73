"""Backpressure: Redis restarts in the middle of a simulated session posted through BatchPoster.

While Redis is down the ingest answers 503 with Retry-After and writes nothing; the poster
keeps the batches in its bounded buffer and re-sends them; once Redis is back (AOF keeps
what was written before) every event is in the streams exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from ingest.poster import BatchPoster, BufferFull
from ingest.simulator import SimConfig, SimulatedSession
from livemon.redis_server import EmbeddedRedis
from tests import redis_sync
from tests.support import INGEST_KEY, Stack

START = 1_795_356_000.0


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test alone, on a port kept across the restart, AOF in a tmp dir."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def stored_ids(url: str) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        return [orjson.loads(wire)["id"] for wire in redis_sync.stream_events(client)]
    finally:
        client.close()


def test_redis_outage_poster_buffers_and_every_event_lands_once(own_redis: EmbeddedRedis, tmp_path: Path) -> None:
    stack = Stack(own_redis.url, tmp_path, with_engine=False).start()
    room = SimulatedSession("room-out", 11, 10.0, START, SimConfig(rate=10.0, duration_s=240.0))
    batches = [list(room.events_between(START + t, START + t + 20)) for t in range(0, 260, 20)]
    poster = BatchPoster(stack.url, INGEST_KEY, max_buffered_batches=len(batches))
    try:
        for batch in batches[:5]:
            poster.post(batch)
        before = len(stored_ids(own_redis.url))

        own_redis.stop()
        down = stack.post(batches[5])
        assert down.status_code == 503 and int(down.headers["retry-after"]) > 0
        adapter = stack.http.post("/api/v1/douyin/messages", headers={"Authorization": f"Bearer {INGEST_KEY}"},
                                  content=orjson.dumps({"common": {"method": "WebcastChatMessage", "msgId": "1",
                                                                   "roomId": "room-out"}, "content": "hi"}))
        assert adapter.status_code == 503 and int(adapter.headers["retry-after"]) > 0
        for batch in batches[5:10]:
            poster.submit(batch)
        assert poster.flush(deadline=time.monotonic() + 1.0) is False
        assert len(poster.buffer) == 5

        own_redis.start()
        assert len(stored_ids(own_redis.url)) == before  # AOF kept the first half, the 503 wrote nothing
        for batch in batches[10:]:
            poster.post(batch)
        assert poster.flush(deadline=None)
    finally:
        poster.close()
        stack.stop()
    sent = [str(e["id"]) for batch in batches for e in batch]
    ids = stored_ids(own_redis.url)
    assert sorted(ids) == sorted(sent) and len(set(ids)) == len(ids)
    assert poster.accepted == len(sent)


def test_redis_outage_poster_buffer_is_bounded(tmp_path: Path) -> None:
    poster = BatchPoster("http://127.0.0.1:9", INGEST_KEY, max_buffered_batches=2)
    try:
        poster.submit([{"id": "a"}])
        poster.submit([{"id": "b"}])
        with pytest.raises(BufferFull):
            poster.submit([{"id": "c"}])
        assert poster.flush(deadline=time.monotonic() + 0.5) is False and len(poster.buffer) == 2
    finally:
        poster.close()
