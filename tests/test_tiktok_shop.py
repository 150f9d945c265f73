"""TikTok Shop order status webhook against real uvicorn and Redis."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from monitor.events import Event
from tests import redis_sync
from tests.support import Stack

APP_KEY, APP_SECRET = "6abc123", "tts-secret"
WINDOW = """
[[window]]
session = "tt-room-1"
start = "2022-02-09T00:00:00Z"
end = "2022-02-10T00:00:00Z"
"""


@pytest.fixture
def shop(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    config = tmp_path / "attribution.toml"
    config.write_text(WINDOW)
    running = Stack(redis_url, tmp_path, with_engine=False, LIVEMON_TIKTOK_SHOP_APP_KEY=APP_KEY,
                    LIVEMON_TIKTOK_SHOP_APP_SECRET=APP_SECRET, LIVEMON_ATTRIBUTION_CONFIG=str(config)).start()
    yield running
    running.stop()


def notify(stack: Stack, notification_id: str, status: str, secret: str = APP_SECRET) -> tuple[int, dict[str, object]]:
    body = orjson.dumps({"type": 1, "tts_notification_id": notification_id, "shop_id": "7494", "timestamp": 1644412885,
                         "data": {"order_id": "576461413038785752", "order_status": status,
                                  "is_on_hold_order": False, "update_time": 1644412885}})
    signature = hmac.new(secret.encode(), APP_KEY.encode() + body, hashlib.sha256).hexdigest()
    response = stack.http.post("/api/v1/webhooks/tiktok-shop", content=body,
                               headers={"Authorization": signature, "Content-Type": "application/json"})
    return response.status_code, response.json()


def stored(client: redis.Redis) -> list[Event]:
    return [Event.from_wire(wire) for wire in redis_sync.stream_events(client)]


def test_tiktok_shop_status_changes_become_order_events_once(shop: Stack, redis_client: redis.Redis) -> None:
    assert notify(shop, "n-1", "UNPAID")[1]["accepted"] == 1
    assert notify(shop, "n-2", "AWAITING_SHIPMENT")[1]["accepted"] == 1
    assert notify(shop, "n-2", "AWAITING_SHIPMENT")[1]["duplicates"] == 1  # TikTok retries after 2 min
    events = sorted(stored(redis_client), key=lambda e: e.id)
    assert [(e.session, e.status.value if e.status else "", e.order_id, e.ts) for e in events] == [
        ("tt-room-1", "placed", "tts-576461413038785752", 1644412885000),
        ("tt-room-1", "paid", "tts-576461413038785752", 1644412885000)]


def test_tiktok_shop_bad_signature_is_401_and_writes_nothing(shop: Stack, redis_client: redis.Redis) -> None:
    status, body = notify(shop, "n-1", "UNPAID", secret="wrong")
    assert status == 401 and "Authorization" in str(body["error"])
    assert stored(redis_client) == [] and not redis_client.keys("lm:dd:*")


def test_tiktok_shop_other_notification_types_are_acknowledged(shop: Stack, redis_client: redis.Redis) -> None:
    body = orjson.dumps({"type": 5, "tts_notification_id": "n-9", "shop_id": "7494", "timestamp": 1644412885,
                         "data": {"product_id": "1"}})
    signature = hmac.new(APP_SECRET.encode(), APP_KEY.encode() + body, hashlib.sha256).hexdigest()
    response = shop.http.post("/api/v1/webhooks/tiktok-shop", content=body, headers={"Authorization": signature})
    assert response.status_code == 200 and response.json()["ignored"] == 1
    assert stored(redis_client) == []
