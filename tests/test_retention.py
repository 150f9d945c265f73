"""Retention and purge on real Redis and processes: old events trimmed, a purged session leaves no trace."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import redis

from livemon import keys
from tests import redis_sync
from tests.events_factory import mixed_batch, raw_event
from tests.support import Stack, wait_for


def session_events(client: redis.Redis, session: str) -> int:
    return sum(1 for wire in redis_sync.stream_events(client) if orjson.loads(wire)["session"] == session)


def test_retention_engine_trims_events_older_than_retention(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(redis_url, tmp_path, with_engine=False, LIVEMON_RETENTION_S="3600").start()
    try:
        stream = keys.events_stream(keys.partition_of("room-old", 8))
        two_hours_ago = int((time.time() - 7200) * 1000)
        for i in range(5):  # as if written two hours ago
            event = raw_event("like", "room-old", ts=two_hours_ago)
            redis_client.xadd(stream, {"e": orjson.dumps(event)}, id=f"{two_hours_ago}-{i}")
        assert stack.post(mixed_batch("room-old", 2, 1, 0, 3)).status_code == 200
        stack.restart_engine()
        wait_for(lambda: len(redis_sync.stream_events(redis_client, stream)) == 4,
                 what="entries older than 1 h trimmed, new ones kept")
        assert min(int(i.split(b"-")[0]) for i, _ in redis_sync.xrange(redis_client, stream)) > two_hours_ago
    finally:
        stack.stop()


def test_retention_purge_removes_a_session_and_keeps_the_others(stack: Stack, redis_client: redis.Redis) -> None:
    stack.post(mixed_batch("room-p", 4, 2, 1, 10) + mixed_batch("room-q", 3, 1, 1, 20))
    wait_for(lambda: stack.metrics("room-p") and stack.metrics("room-q"), what="both rooms counted")
    redis_client.xadd(keys.ALERTS, {keys.ALERT_SESSION_FIELD: "room-p", "r": b"{}"})
    purge = subprocess.run([sys.executable, "-m", "livemon", "purge", "--session", "room-p", "--yes"],
                           env=stack.env, capture_output=True, text=True, timeout=60, check=False)
    assert purge.returncode == 0, purge.stderr
    assert "room-p: 8 events" in purge.stdout and "checkpoint clear" in purge.stdout
    ticks_before = redis_client.hgetall(keys.ENGINE_STATS)
    wait_for(lambda: redis_client.hgetall(keys.ENGINE_STATS) != ticks_before, what="the engine to tick again")
    assert session_events(redis_client, "room-p") == 0
    remembered = [m for b in redis_client.scan_iter(match="lm:dd:*") for m in redis_client.sscan_iter(b)]
    assert remembered and not any(m.startswith(b"room-p/") for m in remembered)  # room-q's ids are kept
    assert redis_client.hget(keys.SNAPSHOTS, "room-p") is None
    assert redis_client.hget(keys.CURVES, "room-p") is None and redis_client.hget(keys.CURVES, "room-q")
    assert stack.metrics("room-p") is None
    checkpoints = b"".join(redis_sync.get(redis_client, keys.checkpoint_key(p)) or b"" for p in range(8))
    assert b"room-p" not in checkpoints
    id_minutes = [f for p in range(8) for f in redis_sync.hkeys(redis_client, keys.checkpoint_ids_key(p))]
    assert id_minutes and not any(f.endswith(b":room-p") for f in id_minutes)  # room-q's are still there
    assert all(f.get(b"s") != b"room-p" for _i, f in redis_sync.xrange(redis_client, keys.ALERTS))
    assert session_events(redis_client, "room-q") == 6  # the other room is untouched
    assert (stack.metrics("room-q") or {}).get("online") == 20
