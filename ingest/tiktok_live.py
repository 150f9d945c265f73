"""TikTok LIVE rooms via the `TikTokLive` client (optional extra `tiktok`, pinned to 6.6.5, MIT).

Licence: TikTokLive releases from 7.0 (and tag v6.6.6) carry a modified AGPL whose §19
forbids relay services such as livemon; 6.6.5 is the last MIT release, so the extra pins it
and this adapter runs as its own process (`livemon tiktok-live`), posting to the ingest API
like any producer. Nothing else in livemon imports TikTokLive.

`LiveMapper` turns the library's event objects into schema-v1 events (event id
`tt-<message_id>`): comments, likes (a burst with its count), joins, viewer counts
(RoomUserSeq: current `m_total`, cumulative `total_user`), follows, shares, live end, and
gifts. A streakable gift repeats while the viewer keeps tapping; it is counted once when
the streak ends (`repeat_end`) or, because that end message can be lost, when no update
came for `STREAK_TIMEOUT_S`. 6.6.5's protobuf has no product-pin (OecLiveShopping) message,
so pins are not mapped.

`run_room` keeps one room connected: reconnects with exponential backoff and jitter, and
treats sign-server rate limits as a reason to wait, not to stop.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

from ingest.poster import BatchPoster

log = logging.getLogger(__name__)

STREAK_TIMEOUT_S = 20.0
MIN_BACKOFF_S, MAX_BACKOFF_S = 2.0, 300.0
RATE_LIMIT_BACKOFF_S = 60.0
FLUSH_EVERY_S = 0.5


@dataclass(slots=True)
class _Streak:
    event: dict[str, object]
    last_seen: float


class LiveMapper:
    """Maps TikTokLive events of one room to raw events; holds open gift streaks (time is a parameter)."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.streaks: dict[tuple[str, int], _Streak] = {}

    def _base(self, message: Any, now: float, kind: str, user: Any = None) -> dict[str, object]:
        common = message.base_message
        created = int(common.create_time or 0)
        event: dict[str, object] = {"id": f"tt-{common.message_id}", "session": self.session, "type": kind,
                                    "ts": created if created > 10**11 else int(now * 1000), "platform": "tiktok"}
        if user is not None and getattr(user, "id", None):
            event["user"] = str(user.id)
        return event

    def map(self, event: Any, now: float) -> list[dict[str, object]]:
        """Events for one library event received at `now` (epoch seconds)."""
        from TikTokLive import events as tt  # the optional extra: imported only where it is used

        if isinstance(event, tt.CommentEvent):
            if not (event.content or "").strip():
                return []
            return [{**self._base(event, now, "comment", event.user_info), "text": event.content[:500]}]
        if isinstance(event, tt.LikeEvent):
            return [{**self._base(event, now, "like", event.user), "count": max(1, int(event.count or 1))}]
        if isinstance(event, tt.JoinEvent):
            return [self._base(event, now, "join", event.user)]
        if isinstance(event, tt.RoomUserSeqEvent):
            return [{**self._base(event, now, "viewer_count"), "viewers": max(0, int(event.m_total or 0)),
                     "total_viewers": max(0, int(event.total_user or 0))}]
        if isinstance(event, tt.FollowEvent):
            return [self._base(event, now, "follow", event.user)]
        if isinstance(event, tt.ShareEvent):
            return [self._base(event, now, "share", event.user)]
        if isinstance(event, tt.LiveEndEvent):
            return [self._base(event, now, "session_end")]
        if isinstance(event, tt.GiftEvent):
            return self._gift(event, now)
        return []

    def _gift(self, event: Any, now: float) -> list[dict[str, object]]:
        gift = event.m_gift
        count = max(1, int(event.repeat_count or 1))
        settled = {**self._base(event, now, "gift", event.from_user), "gift": (gift.name or str(gift.id))[:100],
                   "count": count, "value": float((gift.diamond_count or 0) * count)}
        if gift.type != 1:  # what ExtendedGift.streakable reads; plain proto gifts lack the property
            return [settled]
        key = (str(settled.get("user", "")), int(event.group_id or 0))
        settled["id"] = f"tt-gift-{key[1]}-{key[0]}"[:128]  # one id per streak: a late duplicate end is dropped
        if event.repeat_end == 1:
            self.streaks.pop(key, None)
            return [settled]
        self.streaks[key] = _Streak(settled, now)
        return []

    def settle(self, now: float) -> list[dict[str, object]]:
        """Gift streaks with no update for STREAK_TIMEOUT_S, counted with their last repeat count."""
        done = [k for k, s in self.streaks.items() if now - s.last_seen >= STREAK_TIMEOUT_S]
        return [self.streaks.pop(k).event for k in done]


def backoff(attempt: int, rng: random.Random) -> float:
    """Exponential backoff with full jitter, so many rooms do not reconnect in step."""
    return rng.uniform(MIN_BACKOFF_S, min(MAX_BACKOFF_S, MIN_BACKOFF_S * 2 ** attempt))


async def run_room(unique_id: str, session: str, poster: BatchPoster, stop: asyncio.Event) -> None:
    """Keep one room connected and post its events until `stop` is set or the live ends."""
    from TikTokLive import TikTokLiveClient
    from TikTokLive import events as tt

    mapper = LiveMapper(session)
    pending: list[dict[str, object]] = []
    ended = asyncio.Event()
    rng = random.Random()
    attempt = 0

    async def flush_forever() -> None:
        while not stop.is_set():
            await asyncio.sleep(FLUSH_EVERY_S)
            pending.extend(mapper.settle(_now()))
            if pending:
                batch = pending[:5000]
                del pending[:5000]
                await asyncio.to_thread(poster.post, batch)

    flusher = asyncio.create_task(flush_forever())
    try:
        while not stop.is_set() and not ended.is_set():
            client = TikTokLiveClient(unique_id=unique_id)

            async def on_any(event: Any) -> None:
                if isinstance(event, tt.LiveEndEvent):
                    ended.set()
                pending.extend(mapper.map(event, _now()))

            for kind in (tt.CommentEvent, tt.LikeEvent, tt.JoinEvent, tt.RoomUserSeqEvent, tt.GiftEvent,
                         tt.FollowEvent, tt.ShareEvent, tt.LiveEndEvent):
                client.add_listener(kind, on_any)
            try:
                task = await client.start(fetch_room_info=False)
                attempt = 0
                await asyncio.wait({task, asyncio.create_task(stop.wait())},
                                             return_when=asyncio.FIRST_COMPLETED)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - task boundary: log, back off, reconnect
                limited = "rate" in str(exc).lower() or "429" in str(exc)
                wait = RATE_LIMIT_BACKOFF_S if limited else backoff(attempt, rng)
                log.warning("tiktok-live %s: %s; reconnecting in %.0fs", unique_id, exc, wait)
                attempt += 1
                try:
                    await asyncio.wait_for(stop.wait(), wait)
                except TimeoutError:
                    pass
            finally:
                await client.disconnect()
    finally:
        stop.set()
        await asyncio.gather(flusher, return_exceptions=True)
        leftover = pending + mapper.settle(float("inf"))
        if leftover:
            await asyncio.to_thread(poster.post, leftover)


def _now() -> float:
    """Arrival time at the edge: the fallback event time and the clock for streak timeouts."""
    return time.time()
