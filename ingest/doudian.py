"""Doudian (抖店) message push → `order` status events.

Verification: header `app-id` must equal the app key and `event-sign` must be
hex(MD5(app_key + raw body + app_secret)), compared in constant time; otherwise 401 and
nothing is written. The body is a JSON list of messages `{tag, msg_id, data}` where `data`
is itself a JSON string. Tag "0" is the verification message sent when the push URL is
configured; it only needs the success reply `{"code": 0, "msg": "success"}`.

Idempotency: the event id is `dd-<msg_id>`, so a redelivered message counts once.
Messages carry no product ids; orders are recorded under `UNMAPPED_PRODUCT` with the paid
amount (分 → yuan) and attributed to a session by the time-window rule.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingest.attribution import AttributionRules
from ingest.batch import MAX_BODY_BYTES, BatchRejected
from ingest.delivery import StoreUnavailable, attribution_rules, deliver, unavailable_response
from ingest.http_api import error, read_body_limited

VERIFY_TAG = "0"
UNMAPPED_PRODUCT = "unmapped"
# Order tags of the 消息推送 catalogue we count (trade create/paid/cancel, refund success).
# Other tags (shipping, address changes, …) are acknowledged and ignored.
TAG_STATUS = {"100": "placed", "101": "paid", "106": "cancelled", "206": "refunded"}
SUCCESS = {"code": 0, "msg": "success"}


def signature_ok(raw: bytes, app_id: str | None, sign: str | None, app_key: str, app_secret: str) -> bool:
    """Check `app-id` and hex MD5(app_key + body + app_secret) in constant time."""
    if not app_key or not app_secret or not sign or not app_id:
        return False
    digest = hashlib.md5(app_key.encode() + raw + app_secret.encode()).hexdigest()
    return hmac.compare_digest(app_id.encode(), app_key.encode()) & hmac.compare_digest(
        digest.encode(), sign.strip().lower().encode())


def _data(message: Mapping[str, Any]) -> dict[str, Any]:
    data = message.get("data")
    if isinstance(data, str):
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError:
            return {}
    return data if isinstance(data, dict) else {}


def map_message(message: Mapping[str, Any], rules: AttributionRules, received_ms: int) -> dict[str, object] | None:
    """The event of one pushed message, or None when it is not a counted, attributable order."""
    status = TAG_STATUS.get(str(message.get("tag")))
    data = _data(message)
    order = data.get("p_id") or data.get("order_id")
    if status is None or not order or not message.get("msg_id"):
        return None
    seconds = next((data[k] for k in ("pay_time", "cancel_time", "update_time", "create_time")
                    if isinstance(data.get(k), int) and data[k] > 0), None)
    ts = seconds * 1000 if seconds else received_ms
    attribution = rules.attribute(ts, {}, None, [])
    if attribution is None:
        return None
    fen = next((data[k] for k in ("refund_amount", "pay_amount", "order_amount") if isinstance(data.get(k), int)), 0)
    return {"id": f"dd-{message['msg_id']}", "session": attribution.session, "type": "order", "ts": ts,
            "platform": "douyin", "product": UNMAPPED_PRODUCT, "amount": round(fen / 100, 2), "status": status,
            "order_id": f"dd-{order}"}


async def doudian_webhook(request: Request) -> Response:
    """POST /api/v1/webhooks/doudian."""
    settings = request.app.state.settings
    raw = await read_body_limited(request, MAX_BODY_BYTES)
    if raw is None:
        return error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not signature_ok(raw, request.headers.get("app-id"), request.headers.get("event-sign"),
                        settings.doudian_app_key, settings.doudian_app_secret):
        return error(401, "event-sign does not match MD5(app_key + body + app_secret) or app-id is not the app key")
    try:
        messages = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return error(400, "body is not JSON")
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return error(400, "body: expected a JSON list of messages")
    received = int(time.time() * 1000)
    rules = attribution_rules(request)
    events = [e for m in messages if isinstance(m, dict) and (e := map_message(m, rules, received)) is not None]
    try:
        await deliver(request.app.state.writer, events, settings.pseudonym_secret, "doudian")
    except StoreUnavailable:
        return unavailable_response()
    except BatchRejected as exc:
        return error(400, f"message(s) map to invalid events; nothing was written: {exc}")
    return JSONResponse(SUCCESS)
