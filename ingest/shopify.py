"""Shopify webhooks: orders/create, orders/paid, carts/create, carts/update → schema-v1 events.

Verification: `X-Shopify-Hmac-SHA256` is base64(HMAC-SHA256(app secret, raw body)),
compared in constant time before the body is even parsed; a bad or missing signature is
401 and writes nothing.

Idempotency: Shopify redelivers a webhook with the same `X-Shopify-Webhook-Id` and body,
and may send the same change under several webhooks. Event ids are therefore derived from
the content that makes an event unique (order line + status; cart token + line + unit),
so the writer's de-duplication counts a redelivery, or the same line seen again in
carts/update, once. A cart line's quantity becomes one `add_to_cart` per unit, which is
why growing a cart from 1 to 3 units adds exactly 2 more.

Attribution to a live session follows `ingest.attribution`; an order no rule attributes is
acknowledged (200, `unattributed`) so Shopify does not retry it forever.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ingest.attribution import Attribution, AttributionRules
from ingest.batch import MAX_BODY_BYTES
from ingest.delivery import attribution_rules, deliver_response, result_response
from ingest.http_api import error, json_object, read_body_limited
from ingest.writer import AppendResult
from monitor.event_parsing import EventError, parse_timestamp

ORDER_TOPICS = {"orders/create": "placed", "orders/paid": "paid"}
CART_TOPICS = ("carts/create", "carts/update")
MAX_UNITS_PER_LINE = 100  # more units of one cart line are counted as 100: a guard against absurd payloads


def signature_ok(raw: bytes, header: str | None, secret: str) -> bool:
    """Check Shopify's base64 HMAC-SHA256 of the raw body in constant time."""
    if not secret or not header:
        return False
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest())
    return hmac.compare_digest(digest, header.strip().encode())


def _notes(payload: Mapping[str, Any]) -> dict[str, str]:
    notes = {str(n.get("name")): str(n.get("value")) for n in payload.get("note_attributes") or []
             if isinstance(n, dict)}
    attributes = payload.get("attributes")
    if isinstance(attributes, dict):  # carts carry a plain attributes object
        notes.update({str(k): str(v) for k, v in attributes.items()})
    return notes


def _when(payload: Mapping[str, Any], names: tuple[str, ...], fallback_ms: int) -> int:
    for name in names:
        if payload.get(name):
            try:
                return parse_timestamp(payload[name])
            except EventError:
                continue
    return fallback_ms


def _shop_ids(line: Mapping[str, Any]) -> list[str]:
    return [str(line[k]) for k in ("variant_id", "product_id", "sku") if line.get(k) not in (None, "")]


def map_webhook(topic: str, payload: Mapping[str, Any], rules: AttributionRules, received_ms: int
                ) -> tuple[list[dict[str, object]], Attribution | None]:
    """Turn one webhook into raw events and say how it was attributed (None: to no session).

    Unknown topics give no events. Raw events still carry the raw customer id; the
    delivery step pseudonymises it.
    """
    lines = [line for line in payload.get("line_items") or [] if isinstance(line, dict)]
    shop_products = [i for line in lines for i in _shop_ids(line)]
    if topic in ORDER_TOPICS:
        ts = _when(payload, ("processed_at", "created_at") if topic == "orders/paid" else ("created_at",), received_ms)
    elif topic in CART_TOPICS:
        ts = _when(payload, ("updated_at", "created_at"), received_ms)
    else:
        return [], None
    attribution = rules.attribute(ts, _notes(payload), payload.get("landing_site") or payload.get("landing_site_ref"),
                                  shop_products)
    if attribution is None:
        return [], None
    session = attribution.session
    events: list[dict[str, object]] = []
    for line in lines:
        ids = _shop_ids(line)
        if not ids:
            continue
        product = next((rules.product_id(session, i) for i in ids if rules.product_id(session, i) != i),
                       rules.product_id(session, str(line.get("product_id") or ids[0])))
        quantity = max(1, int(line.get("quantity") or 1))
        base = {"session": session, "ts": ts, "platform": "shopify", "product": product}
        if topic in ORDER_TOPICS:
            status = ORDER_TOPICS[topic]
            if topic == "orders/create" and payload.get("financial_status") == "paid":
                status = "paid"
            customer = payload.get("customer") or {}
            event = {**base, "id": f"shopify-o{payload['id']}-{line.get('id')}-{status}", "type": "order",
                     "qty": quantity, "amount": round(float(line.get("price") or 0) * quantity, 2),
                     "currency": str(payload.get("currency") or "USD"), "status": status,
                     "order_id": f"shopify-{payload['id']}-{line.get('id')}"}
            if customer.get("id"):
                event["user"] = str(customer["id"])
            events.append(event)
        else:
            cart = str(payload.get("token") or payload.get("id"))
            key = str(line.get("key") or line.get("variant_id") or line.get("id"))
            for unit in range(1, min(quantity, MAX_UNITS_PER_LINE) + 1):
                events.append({**base, "id": f"shopify-c{cart}-{key}-{unit}"[:128], "type": "add_to_cart",
                               "qty": 1, "user": f"cart:{cart}"})
    return events, attribution


async def shopify_webhook(request: Request) -> Response:
    """POST /api/v1/webhooks/shopify."""
    settings = request.app.state.settings
    raw = await read_body_limited(request, MAX_BODY_BYTES)
    if raw is None:
        return error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not signature_ok(raw, request.headers.get("x-shopify-hmac-sha256"), settings.shopify_secret):
        return error(401, "X-Shopify-Hmac-SHA256 does not match the body (or LIVEMON_SHOPIFY_SECRET is not set)")
    payload = json_object(raw)
    if isinstance(payload, Response):
        return payload
    topic = request.headers.get("x-shopify-topic", "")
    # The edge may read the clock: it is only the fallback event time when the payload has none.
    received = _when(request.headers, ("x-shopify-triggered-at",), int(time.time() * 1000))
    try:
        events, attribution = map_webhook(topic, payload, attribution_rules(request), received)
    except (KeyError, ValueError, TypeError) as exc:  # signed but not shaped like a Shopify payload
        return error(400, f"payload not understood for topic {topic!r}: {exc!r}")
    if attribution is None:
        known = topic in ORDER_TOPICS or topic in CART_TOPICS
        return result_response(AppendResult(0, 0), ignored=1, unattributed=known)
    return await deliver_response(request.app.state.writer, events, settings.pseudonym_secret, "shopify",
                                  session=attribution.session, rule=attribution.rule)

