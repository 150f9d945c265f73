"""The engine runner's cadence on real processes: publish follows the data, checkpoints follow their own clock.

Both tests set a 30-s tick, so anything that happens within a few seconds of posting
cannot be the tick's doing (its first tick comes 30 s after the engine starts).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from livemon import keys
from tests import redis_sync
from tests.events_factory import mixed_batch, raw_event
from tests.support import Stack, wait_for

PARTITIONS = 8
SLOW_TICK = {"LIVEMON_TICK_S": "30", "LIVEMON_LEASE_TTL_S": "61"}  # the TTL must be >= 2 x tick + 1


@pytest.fixture
def slow_tick_stack(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """Web + engine with a 30-s tick and 0.5-s checkpoints, once the engine holds every partition."""
    running = Stack(redis_url, tmp_path, with_engine=True, LIVEMON_CHECKPOINT_S="0.5", **SLOW_TICK).start()
    wait_for(lambda: all(redis_client.exists(keys.lease_key(p)) for p in range(PARTITIONS)), 20,
             "the engine to lease every partition")
    yield running
    running.stop()


def snapshot(client: redis.Redis, session: str) -> dict[str, object]:
    raw = client.hget(keys.SNAPSHOTS, session)
    return orjson.loads(raw) if raw else {}


def test_engine_runner_publishes_new_events_long_before_the_next_tick(
    slow_tick_stack: Stack, redis_client: redis.Redis
) -> None:
    assert slow_tick_stack.post(mixed_batch("room-fast", comments=7, likes=0, orders=0, viewers=3)).status_code == 200
    wait_for(lambda: snapshot(redis_client, "room-fast").get("comments_total") == 7, 10, "the snapshot of room-fast")
    assert redis_client.hget(keys.ENGINE_STATS, "engine-1") is None  # no tick has run: the fold published it
    assert slow_tick_stack.post(mixed_batch("room-fast", comments=2, likes=0, orders=0, viewers=3)).status_code == 200
    wait_for(lambda: snapshot(redis_client, "room-fast").get("comments_total") == 9, 10, "the second publish")


def test_engine_runner_checkpoints_and_acknowledges_between_ticks(
    slow_tick_stack: Stack, redis_client: redis.Redis
) -> None:
    assert slow_tick_stack.post(mixed_batch("room-ckpt", comments=5, likes=3, orders=1, viewers=4)).status_code == 200
    partition = keys.partition_of("room-ckpt", PARTITIONS)
    stream = keys.events_stream(partition)
    last_id = redis_sync.xrevrange(redis_client, stream, count=1)[0][0].decode()

    def checkpointed() -> bool:
        raw = redis_client.get(keys.checkpoint_key(partition))
        pending = redis_client.xpending(stream, keys.ENGINE_GROUP)["pending"]
        return raw is not None and orjson.loads(raw)["last_id"] == last_id and pending == 0

    wait_for(checkpointed, 10, "the checkpoint at the stream's last entry, with nothing pending")
    assert redis_client.hget(keys.ENGINE_STATS, "engine-1") is None  # still before the first tick


def test_engine_runner_releases_an_ended_show_keeps_its_snapshot_and_counts_its_late_events(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "engine.toml"
    config.write_text("[engine]\nended_keep_s = 6\n")  # 30 min in production; the watermark trails by 5 s
    stack = Stack(redis_url, tmp_path, with_engine=True, LIVEMON_CHECKPOINT_S="0.5",
                  LIVEMON_ENGINE_CONFIG=str(config)).start()
    try:
        now = int(time.time() * 1000)
        show = [raw_event("session_start", "room-over", ts=now - 3000, title="Over"),
                raw_event("comment", "room-over", ts=now - 2000, user="a", text="bye"),
                raw_event("session_end", "room-over", ts=now - 1000)]
        assert stack.post(show).status_code == 200
        partition = keys.partition_of("room-over", PARTITIONS)

        def released() -> bool:
            raw = redis_client.get(keys.checkpoint_key(partition))
            state = orjson.loads(raw)["state"] if raw else {}
            return "room-over" in state.get("released", {}) and "room-over" not in state.get("sessions", {})

        wait_for(released, 20, "the ended show released from the engine's checkpoint")
        assert snapshot(redis_client, "room-over")["live"] is False  # what screens and the API still read
        assert stack.post([raw_event("order", "room-over", user="a", product="p", amount=5, status="paid")]
                          ).status_code == 200

        def dropped() -> int:
            raw = redis_client.hget(keys.ENGINE_STATS, "engine-1")
            return orjson.loads(raw).get("dropped_after_release", 0) if raw else 0

        assert wait_for(dropped, 10, "the late order counted as dropped") == 1
        assert snapshot(redis_client, "room-over")["live"] is False  # not overwritten by a new history
    finally:
        stack.stop()
