"""Douyin webcast messages over HTTP and the ingest websocket, against real uvicorn and Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ingest.douyin_webcast import parse_count
from monitor.events import Event
from tests import redis_sync
from tests.support import INGEST_KEY, Stack

ROOM = "7319283746501"
T0 = 1795356000000


@pytest.fixture
def web(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(redis_url, tmp_path, with_engine=False).start()
    yield running
    running.stop()


def msg(method: str, msg_id: str, **fields: object) -> dict[str, object]:
    return {"common": {"method": method, "msgId": msg_id, "roomId": ROOM, "createTime": str(T0)}, **fields}


USER = {"id": "98765432101", "nickName": "小明"}
SESSION = [
    msg("WebcastMemberMessage", "1", user=USER, memberCount="1843"),
    msg("WebcastChatMessage", "2", user=USER, content="3号链接多少钱[捂脸]"),
    msg("WebcastLikeMessage", "3", user=USER, count="15", total="9000"),
    msg("WebcastRoomUserSeqMessage", "4", total="1843", totalPvForAnchor="1.2万"),
    msg("WebcastSocialMessage", "5", user=USER, action="1"),
    msg("WebcastSocialMessage", "6", user=USER, action="3"),
    msg("WebcastGiftMessage", "7", user=USER, groupId="g1", repeatCount="3", repeatEnd=0,
        gift={"name": "玫瑰", "diamondCount": 1, "combo": True}),
    msg("WebcastGiftMessage", "8", user=USER, groupId="g1", repeatCount="5", repeatEnd=1,
        gift={"name": "玫瑰", "diamondCount": 1, "combo": True}),
    msg("WebcastGiftMessage", "9", user=USER, groupId="g1", repeatCount="5", repeatEnd=1,
        gift={"name": "玫瑰", "diamondCount": 1, "combo": True}),  # Douyin pushes gifts 2-3 times
    msg("WebcastLiveShoppingMessage", "10", msgType=2, promotionId="3612345"),
    msg("WebcastProductChangeMessage", "11", updateProductInfoList=[{"promotionId": "3612345"}]),
    msg("WebcastControlMessage", "12", status=3),
]


def stored(client: redis.Redis) -> list[Event]:
    return [Event.from_wire(wire) for wire in redis_sync.stream_events(client)]


def test_douyin_webcast_http_maps_every_message_kind(web: Stack, redis_client: redis.Redis) -> None:
    response = web.http.post("/api/v1/douyin/messages", content=orjson.dumps(SESSION),
                             headers={"Authorization": f"Bearer {INGEST_KEY}"})
    # 12 messages: a running combo and a product-list change carry nothing; the repeated combo end is a duplicate.
    assert response.json() == {"accepted": 9, "duplicates": 1, "ignored": 2}
    events = {e.id: e for e in stored(redis_client)}
    assert sorted(e.type.value for e in events.values()) == sorted(
        ["join", "comment", "like", "viewer_count", "follow", "share", "gift", "product_pin", "session_end"])
    assert events["dy-4"].viewers == 1843 and events["dy-4"].total_viewers == 12000
    gift = next(e for e in events.values() if e.type.value == "gift")
    assert (gift.count, gift.value, gift.gift) == (5, 5.0, "玫瑰")
    assert events["dy-3"].count == 15 and events["dy-10"].product == "3612345"
    assert all(e.session == ROOM and e.ts == T0 for e in events.values())
    assert events["dy-2"].user is not None and "98765432101" not in events["dy-2"].user


def test_douyin_webcast_websocket_answers_each_frame_and_dedups(web: Stack, redis_client: redis.Redis) -> None:
    url = web.url.replace("http", "ws") + "/ws/ingest/douyin"
    with connect(url, additional_headers={"Authorization": f"Bearer {INGEST_KEY}"}) as ws:
        ws.send(orjson.dumps(SESSION[:3]).decode())
        first = orjson.loads(ws.recv(timeout=10))
        ws.send(orjson.dumps(SESSION[1]).decode())
        second = orjson.loads(ws.recv(timeout=10))
        ws.send("{\"common\": {\"method\": \"WebcastChatMessage\"}}")
        bad = orjson.loads(ws.recv(timeout=10))
    assert first == {"accepted": 3, "duplicates": 0, "ignored": 0}
    assert second == {"accepted": 0, "duplicates": 1, "ignored": 0}
    assert "msgId" in bad["error"]
    assert len(stored(redis_client)) == 3


def test_douyin_webcast_refuses_missing_key(web: Stack, redis_client: redis.Redis) -> None:
    assert web.http.post("/api/v1/douyin/messages", content=orjson.dumps(SESSION)).status_code == 401
    # closed before the handshake completes: uvicorn answers HTTP 403 instead of switching protocols
    with pytest.raises(InvalidStatus), connect(web.url.replace("http", "ws") + "/ws/ingest/douyin") as ws:
        ws.recv(timeout=5)
    assert stored(redis_client) == []


@pytest.mark.parametrize(("shown", "count"), [("1843", 1843), ("1,843", 1843), ("1.2万", 12000), ("3亿", 300000000),
                                              ("10w+", 100000), ("many", None)])
def test_douyin_webcast_parse_count_reads_display_counts(shown: str, count: int | None) -> None:
    assert parse_count(shown) == count
