"""Doudian (抖店) message push against real uvicorn and Redis."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from monitor.events import Event
from tests import redis_sync
from tests.support import Stack

APP_KEY, APP_SECRET = "7001234567890", "dd-secret"
WINDOW = """
[[window]]
session = "dy-room-9"
start = "2026-11-22T00:00:00+08:00"
end = "2026-11-23T00:00:00+08:00"
"""
PAID_AT = 1795356000  # 2026-11-22T22:00:00+08:00


@pytest.fixture
def shop(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    config = tmp_path / "attribution.toml"
    config.write_text(WINDOW)
    running = Stack(redis_url, tmp_path, with_engine=False, LIVEMON_DOUDIAN_APP_KEY=APP_KEY,
                    LIVEMON_DOUDIAN_APP_SECRET=APP_SECRET, LIVEMON_ATTRIBUTION_CONFIG=str(config)).start()
    yield running
    running.stop()


def push(stack: Stack, messages: list[dict[str, object]], secret: str = APP_SECRET) -> tuple[int, dict[str, object]]:
    body = orjson.dumps(messages)
    sign = hashlib.md5(APP_KEY.encode() + body + secret.encode()).hexdigest()
    response = stack.http.post("/api/v1/webhooks/doudian", content=body,
                               headers={"app-id": APP_KEY, "event-sign": sign, "Content-Type": "application/json"})
    return response.status_code, response.json()


def paid(msg_id: str) -> dict[str, object]:
    data = {"p_id": 4987654321, "s_ids": [4987654322], "pay_amount": 5990, "pay_time": PAID_AT}
    return {"tag": "101", "msg_id": msg_id, "data": orjson.dumps(data).decode()}


def stored(client: redis.Redis) -> list[Event]:
    return [Event.from_wire(wire) for wire in redis_sync.stream_events(client)]


def test_doudian_verification_message_answers_success_and_writes_nothing(shop: Stack, redis_client: redis.Redis
                                                                        ) -> None:
    assert push(shop, [{"tag": "0", "msg_id": "0", "data": "{}"}]) == (200, {"code": 0, "msg": "success"})
    assert stored(redis_client) == []


def test_doudian_paid_message_is_one_order_event_even_when_redelivered(shop: Stack, redis_client: redis.Redis
                                                                      ) -> None:
    assert push(shop, [paid("m-1")])[1] == {"code": 0, "msg": "success"}
    assert push(shop, [paid("m-1"), {"tag": "102", "msg_id": "m-2", "data": "{\"p_id\": 1}"}])[0] == 200
    events = stored(redis_client)
    assert [(e.session, e.status.value if e.status else "", e.amount, e.order_id, e.ts) for e in events] == [
        ("dy-room-9", "paid", 59.9, "dd-4987654321", PAID_AT * 1000)]


def test_doudian_bad_sign_is_401_and_writes_nothing(shop: Stack, redis_client: redis.Redis) -> None:
    status, _ = push(shop, [paid("m-1")], secret="wrong")
    assert status == 401
    assert stored(redis_client) == [] and not redis_client.keys("lm:dd:*")
