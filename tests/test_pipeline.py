"""End to end: events over HTTP reach a websocket client and the JSON API with exact counts."""

from __future__ import annotations

import time
from typing import Any

import orjson
import redis
from websockets.sync.client import connect

from livemon import keys
from tests.events_factory import mixed_batch
from tests.support import Stack, wait_for


def receive_snapshot_matching(ws_url: str, session: str, expected: dict[str, Any], timeout_s: float = 15
                              ) -> dict[str, Any]:
    """Subscribe to one session and return the first snapshot whose fields equal `expected`."""
    deadline = time.monotonic() + timeout_s
    last: dict[str, Any] = {}
    with connect(ws_url) as ws:
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": [session]}).decode())
        while time.monotonic() < deadline:
            message = orjson.loads(ws.recv(timeout=deadline - time.monotonic()))
            for inner in message.get("messages", [message]):
                if inner["type"] == "snapshot" and inner["session"] == session:
                    last = inner["data"]
                    if all(last.get(k) == v for k, v in expected.items()):
                        return last
    raise AssertionError(f"no snapshot matched {expected}; last: {last}")


EXPECTED = {"online": 37, "comments_per_min": 12, "likes_per_min": 10, "orders_per_min": 3, "gmv_total": 31.5}


def test_pipeline_pushes_exact_counts_to_websocket_and_json(stack: Stack) -> None:
    assert stack.post(mixed_batch("room-a", comments=12, likes=5, orders=3, viewers=37)).status_code == 200
    snapshot = receive_snapshot_matching(stack.ws_url, "room-a", EXPECTED)
    from_json = stack.metrics("room-a")
    assert from_json is not None
    for key in ("online", "gmv_total", "comments_total", "orders_total"):
        assert from_json[key] == snapshot[key]


def test_pipeline_only_sends_subscribed_sessions(stack: Stack) -> None:
    stack.post(mixed_batch("room-a", 1, 1, 1, 5) + mixed_batch("room-b", 2, 2, 2, 6))
    wait_for(lambda: stack.metrics("room-b"), what="room-b snapshot")
    with connect(stack.ws_url) as ws:
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-b"]}).decode())
        seen: set[str] = set()
        for _ in range(4):
            message = orjson.loads(ws.recv(timeout=5))
            seen |= {m["session"] for m in message.get("messages", []) if m["type"] == "snapshot"}
    assert seen == {"room-b"}


def test_pipeline_engine_sigkill_loses_nothing_and_counts_nothing_twice(
    stack: Stack, redis_client: redis.Redis
) -> None:
    stack.post(mixed_batch("room-k", comments=40, likes=0, orders=5, viewers=10))
    wait_for(lambda: (stack.metrics("room-k") or {}).get("orders_total") == 5, what="first batch counted")
    stack.engine.kill()
    stack.post(mixed_batch("room-k", comments=25, likes=0, orders=7, viewers=10))
    stack.restart_engine()

    def settled() -> bool:
        metrics = stack.metrics("room-k") or {}
        pending = sum(
            redis_client.xpending(keys.events_stream(p), keys.ENGINE_GROUP)["pending"] for p in range(8)
        )
        return pending == 0 and metrics.get("orders_total") == 12

    wait_for(settled, 20, "restarted engine to catch up and ack everything")
    metrics = stack.metrics("room-k")
    assert metrics is not None
    assert metrics["comments_total"] == 65
    assert metrics["gmv_total"] == 126.0


def test_pipeline_new_screen_draws_its_curves_at_once(stack: Stack, redis_client: redis.Redis) -> None:
    # curves travel in one snapshot of ten: a screen opened between two of them must not wait for the next
    assert stack.post(mixed_batch("room-c", comments=3, likes=3, orders=1, viewers=20)).status_code == 200

    def stored_without_curves() -> bool:
        raw = redis_client.hget(keys.SNAPSHOTS, "room-c")
        return raw is not None and "series" not in orjson.loads(raw)

    wait_for(stored_without_curves, what="a published snapshot without curves")
    with connect(stack.ws_url) as ws:
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-c"]}).decode())
        first: dict[str, Any] | None = None
        while first is None:  # after the hello, the replay of the stored snapshot comes first
            message = orjson.loads(ws.recv(timeout=5))
            first = next((m["data"] for m in message.get("messages", [message]) if m["type"] == "snapshot"), None)
    assert first["series"]["online"][-1] == 20
    assert first["markers"] == [] and first["online"] == 20
