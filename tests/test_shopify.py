"""Shopify webhooks against real uvicorn and Redis: signature, mapping, attribution, redelivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from ingest.attribution import AttributionRules, LiveWindow, parse_rules
from ingest.shopify import map_webhook
from monitor.events import Event
from tests import redis_sync
from tests.support import Stack

SECRET = "shpss_test_secret"
ATTRIBUTION = """
[attribution]
rules = ["note", "utm", "window"]

[products]
"39072856" = "serum"

[[window]]
session = "room-window"
start = "2026-11-22T20:00:00+08:00"
end = "2026-11-22T22:00:00+08:00"
products = { "7001" = "serum" }
"""


@pytest.fixture
def shop(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    config = tmp_path / "attribution.toml"
    config.write_text(ATTRIBUTION)
    running = Stack(redis_url, tmp_path, with_engine=False, LIVEMON_SHOPIFY_SECRET=SECRET,
                    LIVEMON_ATTRIBUTION_CONFIG=str(config)).start()
    yield running
    running.stop()


def stored(client: redis.Redis) -> list[Event]:
    return [Event.from_wire(wire) for wire in redis_sync.stream_events(client)]


def deliver(stack: Stack, topic: str, payload: dict[str, object], webhook_id: str = "wh-1",
            secret: str = SECRET) -> tuple[int, dict[str, object]]:
    body = orjson.dumps(payload)
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    response = stack.http.post("/api/v1/webhooks/shopify", content=body, headers={
        "X-Shopify-Hmac-SHA256": signature, "X-Shopify-Topic": topic, "X-Shopify-Webhook-Id": webhook_id,
        "Content-Type": "application/json"})
    return response.status_code, response.json()


def order(status: str = "pending", **extra: object) -> dict[str, object]:
    return {"id": 820982911946154508, "created_at": "2026-11-22T21:00:00+08:00", "currency": "USD",
            "financial_status": status, "customer": {"id": 115310627314723954},
            "note_attributes": [{"name": "livemon_session", "value": "room-7"}],
            "line_items": [{"id": 1, "product_id": 7001, "variant_id": 39072856, "quantity": 2, "price": "19.90"},
                           {"id": 2, "product_id": 7002, "variant_id": 39072857, "quantity": 1, "price": "5.00"}],
            **extra}


def test_shopify_order_lines_become_order_events_of_the_noted_session(shop: Stack, redis_client: redis.Redis
                                                                        ) -> None:
    status, body = deliver(shop, "orders/create", order())
    assert status == 200 and body["accepted"] == 2 and body["rule"] == "note"
    events = sorted(stored(redis_client), key=lambda e: e.id)
    assert [(e.session, e.product, e.qty, e.amount, e.status.value if e.status else None) for e in events] == [
        ("room-7", "serum", 2, 39.8, "placed"), ("room-7", "7002", 1, 5.0, "placed")]
    assert all(e.user and e.user.startswith("u_") and "115310627314723954" not in e.user for e in events)


def test_shopify_redelivery_and_paid_update_count_each_line_once(shop: Stack, redis_client: redis.Redis) -> None:
    deliver(shop, "orders/create", order())
    again = deliver(shop, "orders/create", order(), webhook_id="wh-1")
    paid = deliver(shop, "orders/paid", order("paid", processed_at="2026-11-22T21:01:00+08:00"), webhook_id="wh-2")
    paid_again = deliver(shop, "orders/paid", order("paid", processed_at="2026-11-22T21:01:00+08:00"),
                         webhook_id="wh-2")
    assert again[1]["duplicates"] == 2 and again[1]["accepted"] == 0
    assert paid[1]["accepted"] == 2 and paid_again[1]["duplicates"] == 2
    statuses = sorted((e.order_id, e.status.value) for e in stored(redis_client) if e.status)
    assert len(statuses) == 4 and {s for _, s in statuses} == {"placed", "paid"}


def test_shopify_bad_signature_is_401_and_writes_nothing(shop: Stack, redis_client: redis.Redis) -> None:
    status, body = deliver(shop, "orders/create", order(), secret="not-the-secret")
    assert status == 401 and "X-Shopify-Hmac-SHA256" in str(body["error"])
    assert stored(redis_client) == [] and not redis_client.keys("lm:dd:*")


def test_shopify_cart_update_adds_only_the_new_units(shop: Stack, redis_client: redis.Redis) -> None:
    cart: dict[str, Any] = {"id": "c1", "token": "tok-abc", "updated_at": "2026-11-22T21:00:00+08:00",
                            "attributes": {"livemon_session": "room-7"},
                            "line_items": [{"id": 1, "key": "39072856:aa", "product_id": 7001,
                                            "variant_id": 39072856, "quantity": 1, "price": "19.90"}]}
    first = deliver(shop, "carts/create", cart, webhook_id="c-1")
    cart["line_items"][0]["quantity"] = 3
    grown = deliver(shop, "carts/update", cart, webhook_id="c-2")
    assert first[1]["accepted"] == 1 and grown[1] == {**grown[1], "accepted": 2, "duplicates": 1}
    assert [e.type.value for e in stored(redis_client)] == ["add_to_cart"] * 3


def test_shopify_unattributed_order_is_acknowledged_without_events(shop: Stack, redis_client: redis.Redis) -> None:
    status, body = deliver(shop, "orders/create", order(note_attributes=[], created_at="2026-11-23T09:00:00+08:00"))
    assert status == 200 and body["unattributed"] is True and body["accepted"] == 0
    assert stored(redis_client) == []


def test_shopify_attribution_rules_try_note_then_utm_then_window() -> None:
    rules = parse_rules(orjson.loads(orjson.dumps({"window": [
        {"session": "room-w", "start": "2026-11-22T20:00:00+08:00", "end": "2026-11-22T22:00:00+08:00",
         "products": {"7001": "serum"}}]})))
    base = order(note_attributes=[])
    by_utm = map_webhook("orders/create", {**base, "landing_site": "/p/x?utm_campaign=live-room-u&utm_source=dy"},
                         rules, 0)
    by_window = map_webhook("orders/create", base, rules, 0)
    outside = map_webhook("orders/create", {**base, "line_items": [{"id": 9, "product_id": 9999, "quantity": 1,
                                                                      "price": "1"}]}, rules, 0)
    assert by_utm[1] is not None and (by_utm[1].session, by_utm[1].rule) == ("room-u", "utm")
    assert by_window[1] is not None and (by_window[1].session, by_window[1].rule) == ("room-w", "window")
    assert outside == ([], None)


def test_shopify_attribution_rule_order_is_configurable() -> None:
    window_first = AttributionRules(rules=("window", "note"), windows=(LiveWindow("room-w", 0, 2**60),))
    chosen = window_first.attribute(5, {"livemon_session": "room-n"}, None, [])
    assert chosen is not None and chosen.session == "room-w"


def test_shopify_signed_but_malformed_payload_is_400_and_writes_nothing(shop: Stack, redis_client: redis.Redis
                                                                       ) -> None:
    status, body = deliver(shop, "orders/create", order(line_items=[{"id": 1, "product_id": 7001,
                                                                     "quantity": "lots", "price": "1"}]))
    assert status == 400 and "orders/create" in str(body["error"])
    assert stored(redis_client) == []
