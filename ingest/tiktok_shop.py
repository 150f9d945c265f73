"""TikTok Shop order status webhook (type 1) → `order` status events.

Verification: the `Authorization` header is hex(HMAC-SHA256(app secret, app_key + raw
body)), compared in constant time; otherwise 401 and nothing is written. TikTok Shop
wants an answer within 3 s, so the write gives up after `ANSWER_WITHIN_S` and answers 503;
TikTok retries (2 min, 30 min, 3 h, 12 h) and the notification id makes the retry safe.

The notification carries no line items or amounts: the order is recorded under the product
`UNMAPPED_PRODUCT` with amount 0 until an order-detail lookup exists (docs/ingest.md).
Attribution to a session uses the time-window rule of `ingest.attribution`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ingest.attribution import AttributionRules
from ingest.batch import MAX_BODY_BYTES
from ingest.delivery import attribution_rules, deliver_response, result_response
from ingest.http_api import error, json_object, read_body_limited
from ingest.writer import AppendResult

ORDER_STATUS_CHANGE = 1
ANSWER_WITHIN_S = 2.5
UNMAPPED_PRODUCT = "unmapped"
# TikTok order_status → livemon order status; ON_HOLD is paid but inside the remorse period.
STATUS = {
    "UNPAID": "placed",
    "ON_HOLD": "paid",
    "AWAITING_SHIPMENT": "paid",
    "AWAITING_COLLECTION": "paid",
    "IN_TRANSIT": "paid",
    "DELIVERED": "paid",
    "COMPLETED": "paid",
    "CANCEL": "cancelled",
}


def signature_ok(raw: bytes, header: str | None, app_key: str, app_secret: str) -> bool:
    """Check hex HMAC-SHA256(app_secret, app_key + body) in constant time."""
    if not app_key or not app_secret or not header:
        return False
    digest = hmac.new(app_secret.encode(), app_key.encode() + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest.encode(), header.strip().lower().encode())


def map_notification(payload: Mapping[str, Any], rules: AttributionRules, received_ms: int
                     ) -> list[dict[str, object]] | None:
    """Events of one notification; None when it is not an order status change we count."""
    data = payload.get("data")
    if payload.get("type") != ORDER_STATUS_CHANGE or not isinstance(data, dict):
        return None
    status = STATUS.get(str(data.get("order_status")))
    if status is None or not data.get("order_id"):
        return None
    updated = data.get("update_time") or payload.get("timestamp")
    ts = int(updated) * 1000 if isinstance(updated, int) and updated > 0 else received_ms
    attribution = rules.attribute(ts, {}, None, [])
    if attribution is None:
        return []
    return [{
        "id": f"tts-{payload.get('tts_notification_id') or str(data['order_id']) + '-' + str(data['order_status'])}",
        "session": attribution.session, "type": "order", "ts": ts, "platform": "tiktok",
        "product": UNMAPPED_PRODUCT, "amount": 0, "status": status, "order_id": f"tts-{data['order_id']}",
    }]


async def tiktok_shop_webhook(request: Request) -> Response:
    """POST /api/v1/webhooks/tiktok-shop."""
    settings = request.app.state.settings
    raw = await read_body_limited(request, MAX_BODY_BYTES)
    if raw is None:
        return error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not signature_ok(raw, request.headers.get("authorization"), settings.tiktok_shop_app_key,
                        settings.tiktok_shop_app_secret):
        return error(401, "Authorization does not match HMAC-SHA256(app_secret, app_key + body) "
                          "(or LIVEMON_TIKTOK_SHOP_APP_KEY/SECRET are not set)")
    payload = json_object(raw)
    if isinstance(payload, Response):
        return payload
    events = map_notification(payload, attribution_rules(request), int(time.time() * 1000))
    if not events:
        return result_response(AppendResult(0, 0), ignored=1, unattributed=events == [])
    return await deliver_response(request.app.state.writer, events, settings.pseudonym_secret, "tiktok_shop",
                                  timeout_s=ANSWER_WITHIN_S)
