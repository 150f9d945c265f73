"""TikTok LIVE mapping, fed the TikTokLive library's own event objects (6.6.5, MIT)."""

from __future__ import annotations

import random
from typing import SupportsBytes

import pytest

tt = pytest.importorskip("TikTokLive.events")
proto = pytest.importorskip("TikTokLive.proto.tiktok_proto")

from ingest.tiktok_live import MAX_BACKOFF_S, MIN_BACKOFF_S, STREAK_TIMEOUT_S, LiveMapper, backoff
from monitor.event_parsing import parse_event

T0 = 1_795_356_000_000
NOW = T0 / 1000


def common(message_id: int) -> object:
    return proto.CommonMessageData(message_id=message_id, room_id=7311, create_time=T0 + message_id)


def custom(kind: type, message: SupportsBytes) -> object:
    """Build a custom event (Follow, Share, LiveEnd) the way the client does: parse the wire bytes."""
    return kind().parse(bytes(message))


VIEWER = proto.User(id=6812345678901234567, nick_name="amy")
custom_proto = pytest.importorskip("TikTokLive.proto.custom_proto")
ROSE = custom_proto.ExtendedGift(proto.Gift(id=5655, name="Rose", diamond_count=1, type=1))  # type 1: streakable
LION = custom_proto.ExtendedGift(proto.Gift(id=6369, name="Lion", diamond_count=29999, type=2))


def test_tiktok_live_maps_room_events_to_schema_v1() -> None:
    mapper = LiveMapper("tt-amy")
    library_events = [
        tt.CommentEvent(base_message=common(1), user_info=VIEWER, content="how much is #3?"),
        tt.LikeEvent(base_message=common(2), user=VIEWER, count=15, total=900),
        tt.JoinEvent(base_message=common(3), user=VIEWER),
        tt.RoomUserSeqEvent(base_message=common(4), m_total=1843, total_user=12000),
        custom(tt.FollowEvent, tt.SocialEvent(base_message=common(5), user=VIEWER, action=1)),
        custom(tt.ShareEvent, tt.SocialEvent(base_message=common(6), user=VIEWER, action=3)),
        tt.GiftEvent(base_message=common(7), from_user=VIEWER, repeat_count=1, repeat_end=1, group_id=1, m_gift=LION),
        custom(tt.LiveEndEvent, tt.ControlEvent(base_message=common(8), action=3)),
    ]
    events = [e for event in library_events for e in mapper.map(event, NOW)]
    for event in events:
        parse_event(event)
    assert [e["type"] for e in events] == ["comment", "like", "join", "viewer_count", "follow", "share", "gift",
                                           "session_end"]
    assert events[0]["id"] == "tt-1" and events[0]["ts"] == T0 + 1 and events[0]["user"] == "6812345678901234567"
    assert events[1]["count"] == 15 and (events[3]["viewers"], events[3]["total_viewers"]) == (1843, 12000)
    assert (events[6]["gift"], events[6]["count"], events[6]["value"]) == ("Lion", 1, 29999.0)


def test_tiktok_live_counts_a_gift_streak_once_when_it_ends() -> None:
    mapper = LiveMapper("tt-amy")
    updates = [tt.GiftEvent(base_message=common(10 + n), from_user=VIEWER, repeat_count=n, repeat_end=0,
                            group_id=77, m_gift=ROSE) for n in (1, 2, 3)]
    end = tt.GiftEvent(base_message=common(20), from_user=VIEWER, repeat_count=4, repeat_end=1, group_id=77,
                       m_gift=ROSE)
    assert [e for u in updates for e in mapper.map(u, NOW)] == []
    (settled,) = mapper.map(end, NOW)
    assert (settled["count"], settled["value"]) == (4, 4.0) and mapper.settle(NOW + 3600) == []


def test_tiktok_live_settles_a_streak_whose_end_never_arrives() -> None:
    mapper = LiveMapper("tt-amy")
    mapper.map(tt.GiftEvent(base_message=common(30), from_user=VIEWER, repeat_count=7, repeat_end=0, group_id=78,
                            m_gift=ROSE), NOW)
    assert mapper.settle(NOW + STREAK_TIMEOUT_S - 1) == []
    (settled,) = mapper.settle(NOW + STREAK_TIMEOUT_S)
    assert settled["count"] == 7 and settled["id"] == "tt-gift-78-6812345678901234567"


def test_tiktok_live_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(1)
    first = [backoff(0, rng) for _ in range(50)]
    late = [backoff(20, rng) for _ in range(50)]
    assert all(v == MIN_BACKOFF_S for v in first)
    assert all(MIN_BACKOFF_S <= v <= MAX_BACKOFF_S for v in late) and len({round(v) for v in late}) > 10
