"""One live room's state: folds events, closes 10-s bins, builds the snapshot.

Three rings hold windowed counts (1-s buckets for session figures, 10-s buckets per
product, 1-min buckets for the 60-minute chart curves); totals live in plain lists.
Distinct-user rates ("clickers in the last minute") use latest-position counting: each
user is counted once, in the bucket of their most recent action, so a window that ends
at the clock sums to the number of distinct users who acted inside it.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable
from typing import Any

from monitor import products as P
from monitor.bins import BIN_SECONDS, Bin, ProductBin
from monitor.config import EngineConfig
from monitor.dwell import Audience
from monitor.events import Event, EventType
from monitor.metrics import gpm, ratio
from monitor.orders import GMV as O_GMV
from monitor.orders import ORDERS as O_ORDERS
from monitor.orders import PAID as O_PAID
from monitor.orders import PAID_QTY as O_QTY
from monitor.orders import REFUND_N as O_REFUND_N
from monitor.orders import REFUNDS as O_REFUNDS
from monitor.orders import OrderBook
from monitor.trend import trend
from monitor.watermark import EventClock
from monitor.windows import Ring

# 1-s ring channels (also the session totals list, same indices)
(
    EVENTS,
    COMMENTS,
    LIKES,
    JOINS,
    LEAVES,
    LEAVES_EST,
    CLICKS,
    CARTS,
    ORDERS,
    PAID,
    GMV,
    REFUNDS,
    REFUND_N,
    FOLLOWS,
    SHARES,
    GIFTS,
    CLICKERS,
    INTERACTORS,
    DWELL_SUM,
    DWELL_N,
    DWELL_EST,
) = range(21)
CHANNELS = 21
# minute ring channels
M_ENTRIES, M_LEAVES, M_GMV, M_COMMENTS, M_ONLINE_SUM, M_ONLINE_N = range(6)
MINUTE_CHANNELS = 6

_ORDER_CHANNELS = {
    O_ORDERS: (ORDERS, P.ORDERS, P.T_ORDERS),
    O_PAID: (PAID, P.PAID, P.T_PAID),
    O_GMV: (GMV, P.GMV, P.T_GMV),
    O_QTY: (-1, P.QTY, P.T_QTY),
    O_REFUNDS: (REFUNDS, -1, P.T_REFUNDS),
    O_REFUND_N: (REFUND_N, -1, P.T_REFUND_N),
}
# Kinds folded from plain values by `fold_common` (the rest need the full `Event`)
COMMON_KINDS = frozenset(
    {"comment", "like", "join", "leave", "product_click", "add_to_cart", "viewer_count", "share", "follow", "gift"}
)
_ACTIVE_KINDS = COMMON_KINDS - {"leave", "viewer_count"}
_UNIT_CHANNEL = {
    "comment": COMMENTS,
    "join": JOINS,
    "leave": LEAVES,
    "product_click": CLICKS,
    "add_to_cart": CARTS,
    "share": SHARES,
    "follow": FOLLOWS,
}
_MINUTE_CHANNEL = {"comment": M_COMMENTS, "join": M_ENTRIES, "leave": M_LEAVES}


RECENT_COMMENTS = 8


class SessionState:
    """Everything the engine knows about one session."""

    def __init__(self, session: str, config: EngineConfig) -> None:
        self.session = session
        self.config = config
        self.platform = "other"
        self.title = ""
        self.host = ""
        self.live = True
        self.ended_ms: int | None = None
        self.clock = EventClock(config.lateness_s)
        self.min_event_ms: int | None = None
        self.next_bin: int | None = None  # start (epoch s) of the oldest bin not yet closed
        self.late_events = 0
        self.totals = [0.0] * CHANNELS
        self.ring = Ring(CHANNELS, config.ring_seconds)
        self.minutes = Ring(MINUTE_CHANNELS, config.series_minutes + 2, 60)
        self.seen: set[str] = set()
        self.seen_by_minute: dict[int, list[str]] = {}
        self.viewers: set[str] = set()
        self.clickers: set[str] = set()
        self.last_click: dict[str, int] = {}
        self.last_interact: dict[str, int] = {}
        self.viewer_count: tuple[int, str, int] | None = None  # (ts, id, viewers)
        self.total_viewers = 0
        self.peak_online = 0
        self.online = 0
        self.online_estimated = True
        self.orders = OrderBook()
        self.products = P.ProductTable(config.recent_window_s, config.lateness_s)
        self.audience = Audience(config.idle_timeout_s, config.dwell_window_s)
        self.markers: list[dict[str, Any]] = []
        self.last_series_s: float | None = None
        self.pruned_minute = 0  # not checkpointed: a restart prunes at its first tick
        self.recent_comments: list[dict[str, Any]] = []  # newest RECENT_COMMENTS by event time, for screens

    # ------------------------------------------------------------------ events

    def fold(self, e: Event) -> None:
        """Fold one validated event (see `fold_common` for the frequent kinds)."""
        kind = e.type
        if kind in COMMON_KINDS:
            self.fold_common(e.id, kind, e.ts, e.__getattribute__)
        elif self._admit(e.id, e.ts, e.platform):
            self._fold_rare(e)

    def _admit(self, event_id: str, ts: int, platform: str | None) -> bool:
        """Reject a duplicate id; else move the clock, count lateness and the event itself."""
        seen = self.seen
        if event_id in seen:
            return False
        seen.add(event_id)
        second = ts // 1000
        minute = second // 60
        bucket = self.seen_by_minute.get(minute)
        if bucket is None:
            self.seen_by_minute[minute] = [event_id]
        else:
            bucket.append(event_id)
        clock = self.clock
        clock.max_event_ms = max(clock.max_event_ms, ts)
        if self.min_event_ms is None or ts < self.min_event_ms:
            self.min_event_ms = ts
        if self.next_bin is not None and second < self.next_bin:
            self.late_events += 1
        self.ring.units().append(second * CHANNELS + EVENTS)
        self.totals[EVENTS] += 1
        if self.platform == "other" and platform:
            self.platform = str(platform)
        return True

    def fold_common(self, event_id: str, kind: str, ts: int, get: Callable[[str], Any]) -> None:
        """Fold one event of a frequent kind; `get(field)` reads its other fields.

        `Engine.apply_wire` calls this straight from decoded JSON (`get` = `dict.get`),
        skipping `Event` construction, which costs more than everything below together;
        only the fields a kind needs are read.
        """
        if not self._admit(event_id, ts, get("platform") if self.platform == "other" else None):
            return
        second = ts // 1000
        units = self.ring.units()
        totals = self.totals
        user = get("user")
        if user is not None and kind != "leave" and kind != "viewer_count":
            self.viewers.add(user)
            self.audience.pending.append((ts, 0, user))
            if kind == "comment" or kind == "like" or kind == "share":
                self._latest(self.last_interact, user, second, INTERACTORS)
        if kind == "comment":
            units.append(second * CHANNELS + COMMENTS)
            totals[COMMENTS] += 1
            self.minutes.units().append(second * MINUTE_CHANNELS + M_COMMENTS)
            self._remember_comment(event_id, ts, get("text"))
        elif kind == "like":
            n = float(get("count") or 1)
            self.ring.add(second, LIKES, n)
            totals[LIKES] += n
        elif kind == "join":
            units.append(second * CHANNELS + JOINS)
            totals[JOINS] += 1
            self.minutes.units().append(second * MINUTE_CHANNELS + M_ENTRIES)
        elif kind == "product_click":
            units.append(second * CHANNELS + CLICKS)
            totals[CLICKS] += 1
            self.products.count(get("product") or "", ts, P.CLICKS, P.T_CLICKS, 1.0)
            if user is not None:
                self.clickers.add(user)
                self._latest(self.last_click, user, second, CLICKERS)
        elif kind == "add_to_cart":
            units.append(second * CHANNELS + CARTS)
            totals[CARTS] += 1
            self.products.count(get("product") or "", ts, P.CARTS, P.T_CARTS, 1.0)
        elif kind == "leave":
            units.append(second * CHANNELS + LEAVES)
            totals[LEAVES] += 1
            self.minutes.units().append(second * MINUTE_CHANNELS + M_LEAVES)
            if user is not None:
                self.audience.pending.append((ts, 1, user))
        elif kind == "viewer_count":
            self._viewer_count(event_id, ts, get("viewers") or 0, get("total_viewers") or 0)
        elif kind == "share":
            self._count(second, SHARES, 1.0)
        elif kind == "follow":
            self._count(second, FOLLOWS, 1.0)
        elif kind == "gift":
            self._count(second, GIFTS, float(get("count") or 1))

    def fold_batch(self, items: list[tuple[dict[str, Any], bytes | str]]) -> None:
        """Fold decoded wire events of this session, the frequent kinds column by column.

        Same figures as `fold` on each event, in a few list passes instead of a dozen
        calls per event. Within one batch the frequent kinds are folded before the rare
        ones (orders, pins, stock, session start/end), so a product first seen in this
        batch is listed in that order, and a click in the same batch as a pin may fall
        outside the pitch count: both orders are valid arrivals.
        """
        seen = self.seen
        fresh: list[dict[str, Any]] = []
        rare: list[bytes | str] = []
        for d, raw in items:
            if d["type"] not in COMMON_KINDS:
                rare.append(raw)
            elif d["id"] not in seen:
                seen.add(d["id"])
                fresh.append(d)
        if fresh:
            self._fold_columns(fresh)
        for raw in rare:
            self.fold(Event.from_wire(raw))

    def _fold_columns(self, fresh: list[dict[str, Any]]) -> None:
        ts = [d["ts"] for d in fresh]
        kinds = [d["type"] for d in fresh]
        secs = [t // 1000 for t in ts]
        newest, oldest = max(ts), min(ts)
        # ids are remembered under the batch's newest minute: kept at least as long as their own
        self.seen_by_minute.setdefault(newest // 60_000, []).extend(d["id"] for d in fresh)
        clock = self.clock
        clock.max_event_ms = max(clock.max_event_ms, newest)
        if self.min_event_ms is None or oldest < self.min_event_ms:
            self.min_event_ms = oldest
        if self.next_bin is not None:
            next_bin = self.next_bin
            self.late_events += sum(1 for sec in secs if sec < next_bin)
        if self.platform == "other":
            for d in fresh:
                platform = d.get("platform")
                if platform:
                    self.platform = str(platform)
                    if platform != "other":
                        break
        units, totals = self.ring.units(), self.totals
        units.extend([sec * CHANNELS + EVENTS for sec in secs])
        totals[EVENTS] += len(fresh)
        channels = [_UNIT_CHANNEL.get(k, -1) for k in kinds]
        units.extend([sec * CHANNELS + c for sec, c in zip(secs, channels) if c >= 0])
        for channel, n in Counter(channels).items():
            if channel >= 0:
                totals[channel] += n
        self.minutes.units().extend(
            [sec * MINUTE_CHANNELS + _MINUTE_CHANNEL[k] for sec, k in zip(secs, kinds) if k in _MINUTE_CHANNEL]
        )
        users = [d.get("user") for d in fresh]
        active = [(t, 0, u) for t, u, k in zip(ts, users, kinds) if u is not None and k in _ACTIVE_KINDS]
        self.audience.pending.extend(active)
        self.viewers.update([a[2] for a in active])
        self.audience.pending.extend([(t, 1, u) for t, u, k in zip(ts, users, kinds) if u is not None and k == "leave"])
        latest, minus = self.last_interact, []
        for sec, u, k in zip(secs, users, kinds):
            if u is not None and (k == "comment" or k == "like" or k == "share"):
                old = latest.get(u)
                if old is None or sec > old:
                    latest[u] = sec
                    units.append(sec * CHANNELS + INTERACTORS)
                    if old is not None:
                        minus.append(old)
        for old in minus:
            self.ring.add(old, INTERACTORS, -1.0)
        comments = []
        for d, t, k, sec, u in zip(fresh, ts, kinds, secs, users):
            if k == "comment":
                comments.append((t, d["id"], d.get("text")))
            elif k == "like" or k == "gift":
                weight = float(d.get("count") or 1)
                channel = LIKES if k == "like" else GIFTS
                self.ring.add(sec, channel, weight)
                totals[channel] += weight
            elif k == "product_click":
                self.products.count(d.get("product") or "", t, P.CLICKS, P.T_CLICKS, 1.0)
                if u is not None:
                    self.clickers.add(u)
                    self._latest(self.last_click, u, sec, CLICKERS)
            elif k == "add_to_cart":
                self.products.count(d.get("product") or "", t, P.CARTS, P.T_CARTS, 1.0)
            elif k == "viewer_count":
                self._viewer_count(d["id"], t, d.get("viewers") or 0, d.get("total_viewers") or 0)
        for t, event_id, text in heapq.nlargest(RECENT_COMMENTS, comments):
            self._remember_comment(event_id, t, text)

    def _fold_rare(self, e: Event) -> None:
        kind = e.type
        ts = e.ts
        if kind is EventType.ORDER:
            self.products.get(e.product or "")  # a row even when the only news is a cancellation
            self.products.dirty.add(e.product or "")
            self.orders.apply(e, self._order_delta)
        elif kind is EventType.STOCK:
            self.products.set_stock(e.product or "", ts, e.stock or 0)
        elif kind is EventType.PRODUCT_PIN or kind is EventType.PRODUCT_UNPIN:
            self._pin(e)
        elif kind is EventType.SESSION_START:
            self.title = e.title or self.title
            self.host = e.host or self.host
            self.platform = e.platform.value
            for planned in e.products:
                self.products.plan(planned)
        elif kind is EventType.SESSION_END:
            self.live = False
            self.ended_ms = ts if self.ended_ms is None else min(self.ended_ms, ts)

    def _remember_comment(self, event_id: str, ts: int, text: str | None) -> None:
        # newest by (ts, id): the same eight whatever the arrival order
        recent = self.recent_comments
        if len(recent) >= RECENT_COMMENTS and (ts, event_id) < (recent[0]["ts"], recent[0]["id"]):
            return
        recent.append({"id": event_id, "ts": ts, "text": text})
        if len(recent) > 1 and (ts, event_id) < (recent[-2]["ts"], recent[-2]["id"]):
            recent.sort(key=lambda c: (c["ts"], c["id"]))
        if len(recent) > RECENT_COMMENTS:
            del recent[0]

    def _count(self, second: int, channel: int, amount: float) -> None:
        self.ring.add(second, channel, amount)
        self.totals[channel] += amount

    def _latest(self, latest: dict[str, int], user: str, second: int, channel: int) -> None:
        old = latest.get(user)
        if old is None or second > old:
            latest[user] = second
            self.ring.units().append(second * CHANNELS + channel)
            if old is not None:
                self.ring.add(old, channel, -1.0)

    def _viewer_count(self, event_id: str, ts: int, viewers: int, total_viewers: int) -> None:
        key = (ts, event_id, viewers)
        if self.viewer_count is None or key[:2] > self.viewer_count[:2]:
            self.viewer_count = key
        self.total_viewers = max(self.total_viewers, total_viewers)
        self.peak_online = max(self.peak_online, viewers)
        self.minutes.add(ts // 1000, M_ONLINE_SUM, float(viewers))
        self.minutes.add(ts // 1000, M_ONLINE_N, 1.0)

    def _order_delta(self, ts_ms: int, channel: int, product: str, amount: float) -> None:
        session_channel, product_channel, product_total = _ORDER_CHANNELS[channel]
        second = ts_ms // 1000
        if session_channel >= 0:
            self._count(second, session_channel, amount)
        if session_channel == GMV:
            self.minutes.add(second, M_GMV, amount)
        if product:
            self.products.count(product, ts_ms, product_channel, product_total, amount)

    def _pin(self, e: Event) -> None:
        product = e.product or ""
        pinning = e.type is EventType.PRODUCT_PIN
        if pinning:
            self.products.pin(product, e.ts, e.id)
        else:
            self.products.unpin(product, e.ts, e.id)
        self.markers.append({"ts": e.ts, "kind": "pin" if pinning else "unpin", "product": product})
        if len(self.markers) > self.config.max_markers:
            self.markers.sort(key=lambda m: m["ts"])
            del self.markers[: len(self.markers) - self.config.max_markers]

    def _dwell_closed(self, end_ms: int, duration_s: float, estimated: bool) -> None:
        second = end_ms // 1000
        self._count(second, DWELL_SUM, duration_s)
        self._count(second, DWELL_N, 1.0)
        if estimated:
            self._count(second, DWELL_EST, 1.0)
            self._count(second, LEAVES_EST, 1.0)
            self.minutes.add(second, M_LEAVES, 1.0)

    # ------------------------------------------------------------------ tick

    def tick(self, now: float) -> list[Bin]:
        """Advance clock and watermark, replay audience, close due bins, expire old state."""
        self.ring.flush()
        clock = self.clock
        clock.advance(now)
        self.audience.advance(clock.watermark_ms, self._dwell_closed)
        self.ring.flush()
        self.products.ring.flush()
        self.minutes.flush()
        if self.viewer_count is not None:
            self.online, self.online_estimated = self.viewer_count[2], False
        else:
            self.online, self.online_estimated = len(self.audience.open), True
            self.minutes.add(clock.clock_ms // 1000, M_ONLINE_SUM, float(self.online))
            self.minutes.add(clock.clock_ms // 1000, M_ONLINE_N, 1.0)
            self.minutes.flush()
        self.peak_online = max(self.peak_online, self.online)
        bins = self._close_bins()
        self._expire()
        return bins

    def _close_bins(self) -> list[Bin]:
        if self.next_bin is None:
            if self.min_event_ms is None:
                return []
            self.next_bin = self.min_event_ms // 1000 // BIN_SECONDS * BIN_SECONDS
        out = []
        last_bin = None if self.ended_ms is None else self.ended_ms // 1000 // BIN_SECONDS * BIN_SECONDS
        while (self.next_bin + BIN_SECONDS) * 1000 <= self.clock.watermark_ms:
            if last_bin is not None and self.next_bin > last_bin:
                break
            out.append(self._bin(self.next_bin))
            self.next_bin += BIN_SECONDS
        return out

    def _bin(self, start: int) -> Bin:
        s = self.ring.window(start + BIN_SECONDS - 1, BIN_SECONDS)
        row = self.products.ring.buckets(start, 1)[0]
        products = []
        for product in sorted(self.products.products.values(), key=lambda p: p.id):  # independent of arrival
            base = product.index * P.CHANNELS
            counts = row[base : base + P.CHANNELS]
            if product.pinned or counts.any():
                products.append(
                    ProductBin(
                        product=product.id,
                        clicks=int(counts[P.CLICKS]),
                        carts=int(counts[P.CARTS]),
                        orders=int(counts[P.ORDERS]),
                        paid=int(counts[P.PAID]),
                        gmv=round(float(counts[P.GMV]), 2),
                        stock=self.products.stock_left(product),
                        pinned=product.pinned,
                    )
                )
        return Bin(
            session=self.session,
            start=start,
            viewers=self.online,
            viewers_estimated=self.online_estimated,
            joins=int(s[JOINS]),
            leaves=int(s[LEAVES]),
            comments=int(s[COMMENTS]),
            clicks=int(s[CLICKS]),
            carts=int(s[CARTS]),
            orders=int(s[ORDERS]),
            paid=int(s[PAID]),
            gmv=round(float(s[GMV]), 2),
            avg_dwell_s=round(float(s[DWELL_SUM] / s[DWELL_N]), 1) if s[DWELL_N] else None,
            events=int(s[EVENTS]),
            products=tuple(products),
        )

    def _expire(self) -> None:
        clock_s = self.clock.clock_ms // 1000
        horizon = (clock_s - self.config.dedup_horizon_s) // 60
        for minute in [m for m in self.seen_by_minute if m < horizon]:
            self.seen.difference_update(self.seen_by_minute.pop(minute))
        self.audience.expire_recent(clock_s)
        if clock_s // 60 != self.pruned_minute:  # once a minute is plenty: these only bound memory
            self.pruned_minute = clock_s // 60
            keep_after = clock_s - self.config.ring_seconds
            for latest in (self.last_click, self.last_interact):
                for user in [u for u, s in latest.items() if s <= keep_after]:
                    del latest[user]
            self.orders.forget_settled(self.clock.clock_ms - self.config.order_horizon_s * 1000)

    # ------------------------------------------------------------------ snapshot

    def snapshot(self, now: float) -> dict[str, Any]:
        """Return the JSON-ready session snapshot (docs/architecture.md, docs/metrics.md)."""
        cfg = self.config
        clock_s = self.clock.clock_ms // 1000
        t = self.totals
        rate = self.ring.window(clock_s, cfg.rate_window_s)
        per_min = 60.0 / cfg.rate_window_s
        recent = self.ring.window(clock_s, cfg.recent_window_s)
        dwell = self.ring.window(clock_s, cfg.dwell_window_s)
        n = cfg.trend_window_s
        cur, before = self.ring.window(clock_s, n), self.ring.window(clock_s - n, n)
        views = self.total_viewers or t[JOINS]
        buyers = len(self.orders.buyers)
        unique = len(self.viewers)
        online = self.online

        def per_minute(window: Any, channel: int) -> float:
            return round(float(window[channel]) * 60.0 / n, 3)

        online_now, online_before = self._online_means(clock_s, n)
        snap: dict[str, Any] = {
            "session": self.session,
            "platform": self.platform,
            "title": self.title,
            "host": self.host,
            "live": self.live,
            "online": online,
            "online_estimated": self.online_estimated,
            "peak_online": self.peak_online,
            "unique_viewers": unique,
            "views": int(views),
            "views_estimated": not self.total_viewers,
            "entries_per_min": round(float(rate[JOINS]) * per_min, 3),
            "leaves_per_min": round(float(rate[LEAVES] + rate[LEAVES_EST]) * per_min, 3),
            "leaves_estimated": bool(rate[LEAVES_EST]),
            "comments_per_min": round(float(rate[COMMENTS]) * per_min, 3),
            "likes_per_min": round(float(rate[LIKES]) * per_min, 3),
            "orders_per_min": round(float(rate[ORDERS]) * per_min, 3),
            "interaction_rate": ratio(float(rate[INTERACTORS]), online),
            "click_rate": ratio(float(rate[CLICKERS]), online),
            "follows_total": int(t[FOLLOWS]),
            "shares_total": int(t[SHARES]),
            "comments_total": int(t[COMMENTS]),
            "likes_total": int(t[LIKES]),
            "clicks_total": int(t[CLICKS]),
            "carts_total": int(t[CARTS]),
            "orders_total": int(t[ORDERS]),
            "paid_total": int(t[PAID]),
            "unpaid": self.orders.unpaid,
            "payment_rate": ratio(t[PAID], t[ORDERS]),
            "cart_rate": ratio(t[CARTS], t[CLICKS]),
            "buyers": buyers,
            "click_to_purchase": ratio(buyers, len(self.clickers)),
            "conversion": ratio(buyers, unique),
            "gmv_total": round(t[GMV], 2),
            "gmv_5m": round(float(recent[GMV]), 2),
            "refunds": int(t[REFUND_N]),
            "refund_amount": round(t[REFUNDS], 2),
            "gmv_net": round(t[GMV] - t[REFUNDS], 2),
            "gpm": gpm(t[GMV], views),
            "uv_value": ratio(t[GMV], unique, 2),
            "avg_order_value": ratio(t[GMV], t[PAID], 2),
            "avg_watch_s": ratio(self.audience.total_s, self.audience.closed, 1),
            "median_watch_s": self.audience.median_session(),
            "avg_watch_s_15m": ratio(float(dwell[DWELL_SUM]), float(dwell[DWELL_N]), 1),
            "median_watch_s_15m": self.audience.median_recent(),
            "watch_estimated": self.audience.closed_estimated > 0 or not t[LEAVES],
            "events_total": int(t[EVENTS]),
            "last_event_ts": self.clock.max_event_ms,
            "late_events": self.late_events,
            "watermark_ts": self.clock.watermark_ms,
            "trend": {
                "online": trend(online_now, online_before, cfg.trend_flat_ratio),
                "comments_per_min": trend(
                    per_minute(cur, COMMENTS), per_minute(before, COMMENTS), cfg.trend_flat_ratio
                ),
                "likes_per_min": trend(per_minute(cur, LIKES), per_minute(before, LIKES), cfg.trend_flat_ratio),
                "orders_per_min": trend(per_minute(cur, ORDERS), per_minute(before, ORDERS), cfg.trend_flat_ratio),
                "entries_per_min": trend(per_minute(cur, JOINS), per_minute(before, JOINS), cfg.trend_flat_ratio),
                "clicks_per_min": trend(per_minute(cur, CLICKS), per_minute(before, CLICKS), cfg.trend_flat_ratio),
                "gmv": trend(float(cur[GMV]), float(before[GMV]), cfg.trend_flat_ratio),
                "avg_watch_s": trend(
                    ratio(float(cur[DWELL_SUM]), float(cur[DWELL_N]), 1),
                    ratio(float(before[DWELL_SUM]), float(before[DWELL_N]), 1),
                    cfg.trend_flat_ratio,
                ),
            },
            "products": self.products.rows(clock_s, self.clock.clock_ms, self.orders.unpaid_by_product),
            "recent_comments": self.recent_comments,
        }
        if self.last_series_s is None or now - self.last_series_s >= cfg.series_interval_s:
            self.last_series_s = now
            snap["series"] = self.series(clock_s)
            snap["markers"] = sorted(self.markers, key=lambda m: m["ts"])
        return snap

    def _online_means(self, clock_s: int, n: int) -> tuple[float | None, float | None]:
        minutes = max(1, n // 60)
        rows = self.minutes.buckets(clock_s, 2 * minutes)

        def mean(part: Any) -> float | None:
            count = part[:, M_ONLINE_N].sum()
            return round(float(part[:, M_ONLINE_SUM].sum() / count), 1) if count else None

        return mean(rows[minutes:]), mean(rows[:minutes])

    def series(self, clock_s: int) -> dict[str, Any]:
        """Minute curves for the last `series_minutes` minutes, oldest first."""
        count = self.config.series_minutes
        rows = self.minutes.buckets(clock_s, count)
        online = [round(float(s / c), 1) if c else None for s, c in zip(rows[:, M_ONLINE_SUM], rows[:, M_ONLINE_N])]
        return {
            "start": (clock_s // 60 - count + 1) * 60,
            "step": 60,
            "online": online,
            "entries": [int(v) for v in rows[:, M_ENTRIES]],
            "leaves": [int(v) for v in rows[:, M_LEAVES]],
            "gmv": [round(float(v), 2) for v in rows[:, M_GMV]],
            "comments": [int(v) for v in rows[:, M_COMMENTS]],
        }

    # ------------------------------------------------------------------ checkpoint

    def to_state(self) -> dict[str, Any]:
        """Return all state as JSON-ready data (rings compressed, sets as sorted lists)."""
        return {
            "meta": [
                self.platform,
                self.title,
                self.host,
                self.live,
                self.ended_ms,
                self.min_event_ms,
                self.next_bin,
                self.late_events,
                self.total_viewers,
                self.peak_online,
                self.online,
                self.online_estimated,
                self.last_series_s,
            ],
            "viewer_count": list(self.viewer_count) if self.viewer_count else None,
            "clock": self.clock.to_state(),
            "totals": self.totals,
            "ring": self.ring.to_state(),
            "minutes": self.minutes.to_state(),
            "seen": {str(m): ids for m, ids in self.seen_by_minute.items()},
            "viewers": sorted(self.viewers),
            "clickers": sorted(self.clickers),
            "last_click": self.last_click,
            "last_interact": self.last_interact,
            "orders": self.orders.to_state(),
            "products": self.products.to_state(),
            "audience": self.audience.to_state(),
            "markers": self.markers,
            "recent_comments": self.recent_comments,
        }

    @classmethod
    def from_state(cls, session: str, config: EngineConfig, data: dict[str, Any]) -> SessionState:
        """Rebuild a session from `to_state` output."""
        state = cls(session, config)
        (
            state.platform,
            state.title,
            state.host,
            state.live,
            state.ended_ms,
            state.min_event_ms,
            state.next_bin,
            state.late_events,
            state.total_viewers,
            state.peak_online,
            state.online,
            state.online_estimated,
            state.last_series_s,
        ) = data["meta"]
        vc = data["viewer_count"]
        state.viewer_count = (vc[0], vc[1], vc[2]) if vc else None
        state.clock.restore(data["clock"])
        state.totals = list(data["totals"])
        state.ring = Ring.from_state(data["ring"])
        state.minutes = Ring.from_state(data["minutes"])
        state.seen_by_minute = {int(m): list(ids) for m, ids in data["seen"].items()}
        state.seen = {i for ids in state.seen_by_minute.values() for i in ids}
        state.viewers = set(data["viewers"])
        state.clickers = set(data["clickers"])
        state.last_click = dict(data["last_click"])
        state.last_interact = dict(data["last_interact"])
        state.orders = OrderBook.from_state(data["orders"])
        state.products.restore(data["products"])
        state.audience.restore(data["audience"])
        state.markers = list(data["markers"])
        state.recent_comments = list(data.get("recent_comments", []))
        return state
