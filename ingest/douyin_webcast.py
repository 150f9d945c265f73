"""Douyin webcast messages, as open-source fetchers decode them, → schema-v1 events.

Fetchers (DouyinLiveWebFetcher, douyinLive, f2 …) decode the room's protobuf push and can
forward each message as JSON (protobuf's JSON mapping: camelCase, int64 as strings). We take
those messages over HTTP (`POST /api/v1/douyin/messages`, a JSON object, array or NDJSON)
or over a websocket (`/ws/ingest/douyin`, one object or array per text frame, answered
with the counts), both with the ingest key.

Each message names its kind in `common.method` (or a top-level `method`) and its room in
`common.roomId`; the event id is `dy-<msgId>`, so the 2–3 copies Douyin sometimes pushes
count once. Mapping:

    WebcastChatMessage          comment (content)
    WebcastLikeMessage          like (count)
    WebcastMemberMessage        join
    WebcastRoomUserSeqMessage   viewer_count (total; totalPvForAnchor "1.2万" → total_viewers 12000)
    WebcastSocialMessage        follow (action 1) / share (action 3)
    WebcastGiftMessage          gift, once per combo: only the message that ends it (repeatEnd 1) or a
                                non-combo gift counts, keyed by groupId, with repeatCount as count
    WebcastControlMessage       session_end (status 3)
    WebcastLiveShoppingMessage  product_pin (msgType 2) / product_unpin (msgType 3), promotionId
    anything else               acknowledged and ignored (ProductChange carries no pin state)
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from ingest.batch import BatchRejected, BatchTooLarge, split_body
from ingest.delivery import RETRY_AFTER_S, StoreUnavailable, deliver, deliver_response, unavailable_response
from ingest.http_api import authorised_body, error, ingest_slot, rate_limited

_COUNT = re.compile(r"^\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(万|w|W|亿)?\+?\s*$")
_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000}
SHARE_ACTION = 3
FOLLOW_ACTION = 1
ENDED_STATUS = 3
SET_PROMOTION, CANCEL_PROMOTION = 2, 3


def parse_count(value: object) -> int | None:
    """Read Douyin display counts: 1843, "1843", "1,843", "1.2万", "3亿", "10w+"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str):
        return None
    match = _COUNT.match(value)
    if not match:
        return None
    number = float(match.group(1).replace(",", ""))
    return round(number * _UNITS.get(match.group(2) or "", 1))


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _object(value: object) -> Mapping[str, Any]:
    """A nested JSON object of the message, or {} when it is missing or not an object."""
    return value if isinstance(value, dict) else {}


def map_message(message: Mapping[str, Any], received_ms: int) -> dict[str, object] | None:
    """The event of one webcast message, or None when it has nothing livemon counts.

    Raises:
        ValueError: the message lacks `common.msgId` or `common.roomId`.
    """
    common = _object(message.get("common"))
    method = str(common.get("method") or message.get("method") or "")
    msg_id = common.get("msgId") or message.get("msgId")
    room = common.get("roomId") or message.get("roomId")
    if not msg_id or not room:
        raise ValueError(f"{method or 'message'}: expected common.msgId and common.roomId")
    created = _int(common.get("createTime"))
    ts = created if created and created > 10**11 else received_ms
    user = _object(message.get("user"))
    uid = user.get("id") or user.get("secUid") or user.get("shortId")
    base: dict[str, object] = {"id": f"dy-{msg_id}", "session": str(room), "ts": ts, "platform": "douyin"}
    if uid:
        base["user"] = str(uid)
    if method == "WebcastChatMessage" and str(message.get("content") or "").strip():
        return {**base, "type": "comment", "text": str(message["content"])[:500]}
    if method == "WebcastLikeMessage":
        return {**base, "type": "like", "count": max(1, _int(message.get("count")) or 1)}
    if method == "WebcastMemberMessage":
        return {**base, "type": "join"}
    if method == "WebcastRoomUserSeqMessage":
        online = parse_count(message.get("total"))
        if online is None:
            return None
        event = {**base, "type": "viewer_count", "viewers": online}
        event.pop("user", None)
        total = parse_count(message.get("totalPvForAnchor"))
        if total is not None:
            event["total_viewers"] = total
        return event
    if method == "WebcastSocialMessage":
        action = _int(message.get("action"))
        kind = {FOLLOW_ACTION: "follow", SHARE_ACTION: "share"}.get(action or 0)
        return {**base, "type": kind} if kind else None
    if method == "WebcastGiftMessage":
        return _gift(message, base)
    if method == "WebcastControlMessage":
        return {**base, "type": "session_end"} if _int(message.get("status")) == ENDED_STATUS else None
    if method == "WebcastLiveShoppingMessage":
        kind = {SET_PROMOTION: "product_pin", CANCEL_PROMOTION: "product_unpin"}.get(_int(message.get("msgType")) or -1)
        promotion = message.get("promotionId")
        if kind and promotion:
            return {**base, "type": kind, "product": str(promotion)}
    return None


def _gift(message: Mapping[str, Any], base: dict[str, object]) -> dict[str, object] | None:
    gift = _object(message.get("gift"))
    combo = bool(gift.get("combo"))
    if combo and _int(message.get("repeatEnd")) != 1:
        return None  # a running combo: the message that ends it carries the final repeatCount
    count = max(1, _int(message.get("repeatCount")) or _int(message.get("comboCount")) or 1)
    event = {**base, "type": "gift", "count": count, "gift": str(gift.get("name") or message.get("giftId") or "gift")}
    group = message.get("groupId")
    if group and base.get("user"):
        event["id"] = f"dy-gift-{group}-{base['user']}"[:128]
    diamonds = _int(gift.get("diamondCount"))
    if diamonds is not None:
        event["value"] = float(diamonds * count)
    return event


def map_messages(items: list[object], received_ms: int) -> tuple[list[dict[str, object]], int]:
    """Events of a batch of messages and how many were ignored.

    Raises:
        ValueError: naming the first message without ids (nothing of the batch is written).
    """
    events: list[dict[str, object]] = []
    ignored = 0
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"message {index}: expected a JSON object")  # noqa: TRY004 - bad input: answered 400
        try:
            event = map_message(item, received_ms)
        except ValueError as exc:
            raise ValueError(f"message {index}: {exc}") from None
        if event is None:
            ignored += 1
        else:
            events.append(event)
    return events, ignored


async def post_messages(request: Request) -> Response:
    """POST /api/v1/douyin/messages."""
    settings = request.app.state.settings
    body = await authorised_body(request)
    if isinstance(body, Response):
        return body
    async with ingest_slot(request):  # a batch, like POST /api/v1/events: bounded the same way
        try:
            items = split_body(body, request.headers.get("content-type", ""))
            events, ignored = map_messages(items, _now_ms())
        except (BatchRejected, BatchTooLarge, ValueError) as exc:
            return error(400, f"{exc}; nothing was written")
        try:
            refused = await rate_limited(request, len(events))
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return unavailable_response()
        if refused is not None:
            return refused
        return await deliver_response(request.app.state.writer, events, settings.pseudonym_secret, "douyin", ignored)


def _ws_key_ok(websocket: WebSocket, allowed: tuple[str, ...]) -> bool:
    header = websocket.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        token = websocket.query_params.get("key", "")
    return bool(token) and any(hmac.compare_digest(token.strip().encode(), k.encode()) for k in allowed)


async def websocket_ingest(websocket: WebSocket) -> None:
    """/ws/ingest/douyin: every text frame is answered with counts or an error; the socket stays open."""
    settings = websocket.app.state.settings
    if not _ws_key_ok(websocket, settings.ingest_keys):
        await websocket.close(code=1008, reason="missing or invalid ingest key")
        return
    await websocket.accept()
    try:
        while True:
            frame = await websocket.receive_text()
            await websocket.send_text(orjson.dumps(await _ingest_frame(websocket, frame)).decode())
    except WebSocketDisconnect:
        return


async def _ingest_frame(websocket: WebSocket, frame: str) -> dict[str, object]:
    settings = websocket.app.state.settings
    try:
        items = split_body(frame.encode(), "")
        events, ignored = map_messages(items, _now_ms())
        result = await deliver(websocket.app.state.writer, events, settings.pseudonym_secret, "douyin_ws")
    except StoreUnavailable:
        return {"error": "event store unavailable; resend this frame", "retry_after": RETRY_AFTER_S}
    except (BatchRejected, BatchTooLarge, ValueError) as exc:
        return {"error": f"{exc}; nothing was written"}
    return {"accepted": result.accepted, "duplicates": result.duplicates, "ignored": ignored}


def _now_ms() -> int:
    """Arrival time: the fallback event time for messages without createTime (edge code may read the clock)."""
    return int(time.time() * 1000)
