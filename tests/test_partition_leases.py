"""Partition leases: fair shares, and two real engine processes sharing, then taking over, the partitions."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import redis

from livemon import keys
from livemon.partition_leases import Plan, fair_share, plan
from tests import redis_sync
from tests.events_factory import mixed_batch
from tests.support import LivemonProcess, Stack, wait_for

PARTITIONS = 8
LEASE_TTL_S = 3.0


def test_partition_leases_fair_share_splits_the_remainder_by_instance_order() -> None:
    assert [fair_share(8, ["a", "b"], me) for me in "ab"] == [4, 4]
    assert [fair_share(10, ["c", "a", "b"], me) for me in "abc"] == [4, 3, 3]
    assert fair_share(8, [], "a") == 8  # alone (its own heartbeat not yet listed)
    assert sum(fair_share(5, list("abcdefg"), me) for me in "abcdefg") == 5


def test_partition_leases_plan_claims_free_partitions_from_the_offset_and_releases_the_highest() -> None:
    assert plan(8, 4, owned=set(), free=set(range(8)), offset=4) == Plan(claim=(4, 5, 6, 7), release=())
    assert plan(8, 4, owned={0, 1}, free={1, 2, 3, 6}, offset=0) == Plan(claim=(2, 3), release=())
    assert plan(8, 4, owned=set(range(8)), free=set(), offset=0) == Plan(claim=(), release=(7, 6, 5, 4))
    assert plan(8, 4, owned={0, 1, 2, 3}, free={4}, offset=0) == Plan(claim=(), release=())


def lease_owners(client: redis.Redis) -> dict[int, str]:
    """Partition -> instance holding its lease (absent when free)."""
    owners = {p: redis_sync.get(client, keys.lease_key(p)) for p in range(PARTITIONS)}
    return {p: raw.decode() for p, raw in owners.items() if raw is not None}


def totals(stack: Stack, sessions: list[str]) -> tuple[int, int]:
    """(comments_total, orders_total) summed over the sessions' published metrics."""
    comments = orders = 0
    for session in sessions:
        metrics = stack.metrics(session) or {}
        comments += int(metrics.get("comments_total", 0))
        orders += int(metrics.get("orders_total", 0))
    return comments, orders


def pending(client: redis.Redis) -> int:
    return sum(client.xpending(keys.events_stream(p), keys.ENGINE_GROUP)["pending"] for p in range(PARTITIONS))


def test_partition_leases_two_engines_balance_take_over_after_sigkill_and_count_exactly(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    env = {"LIVEMON_LEASE_TTL_S": str(LEASE_TTL_S), "LIVEMON_PARTITIONS": str(PARTITIONS)}
    stack = Stack(redis_url, tmp_path, with_engine=True, LIVEMON_ENGINE_NAME="engine-a", **env).start()
    second = LivemonProcess(["engine"], {**stack.env, "LIVEMON_ENGINE_NAME": "engine-b"}, tmp_path / "engine-b.log")
    try:
        second.start()

        def balanced() -> dict[int, str] | None:
            owners = lease_owners(redis_client)
            shares = Counter(owner.split("#")[0] for owner in owners.values())
            return owners if len(owners) == PARTITIONS and shares == {"engine-a": 4, "engine-b": 4} else None

        owners = wait_for(balanced, 20, "4 partitions leased by each engine")

        # 40 rooms hashed over all 8 partitions: both engines fold events.
        sessions = [f"lease-room-{i}" for i in range(40)]
        assert len({keys.partition_of(s, PARTITIONS) for s in sessions}) == PARTITIONS
        for session in sessions:
            assert stack.post(mixed_batch(session, comments=3, likes=0, orders=1, viewers=5)).status_code == 200
        wait_for(lambda: totals(stack, sessions) == (120, 40), 20, "first round counted by both engines")

        victim = {p for p, owner in owners.items() if owner.startswith("engine-b#")}
        second.kill()  # SIGKILL: no checkpoint, no lease release; its leases must expire
        killed_at = time.monotonic()
        for session in sessions:
            assert stack.post(mixed_batch(session, comments=2, likes=0, orders=2, viewers=5)).status_code == 200

        def taken_over() -> bool:
            owners = lease_owners(redis_client)
            return len(owners) == PARTITIONS and all(o.startswith("engine-a#") for o in owners.values())

        wait_for(taken_over, 15, f"engine-a to take over partitions {sorted(victim)}")
        took_s = time.monotonic() - killed_at
        assert took_s < LEASE_TTL_S + 3, f"takeover took {took_s:.1f} s"  # TTL + one tick + heartbeat slack

        wait_for(lambda: totals(stack, sessions) == (200, 120) and pending(redis_client) == 0, 20,
                 "every event counted exactly once and acknowledged after the takeover")
        engines = {raw.decode().split("#")[0] for raw in redis_sync.hkeys(redis_client, keys.ENGINES)}
        assert "engine-a" in engines
    finally:
        second.stop()
        stack.stop()
