"""A session's snapshot: every live figure the screens show, from its rings and totals.

Functions of a settled `SessionState` (the parameter keeps the name `self`, as they read
the session's state and move only its series cadence); docs/metrics.md defines each
figure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from monitor.channels import (
    CARTS,
    CLICKERS,
    CLICKS,
    COMMENTS,
    DWELL_N,
    DWELL_SUM,
    EVENTS,
    FOLLOWS,
    GMV,
    INTERACTORS,
    JOINS,
    LEAVES,
    LEAVES_EST,
    LIKES,
    M_COMMENTS,
    M_ENTRIES,
    M_GMV,
    M_LEAVES,
    M_ONLINE_N,
    M_ONLINE_SUM,
    ORDERS,
    PAID,
    REFUND_N,
    REFUNDS,
    SHARES,
)
from monitor.metrics import gpm, ratio
from monitor.trend import trend

if TYPE_CHECKING:
    from monitor.session import SessionState


def snapshot(self: SessionState, now: float) -> dict[str, Any]:
    """Return the JSON-ready snapshot of a settled session (docs/architecture.md, docs/metrics.md)."""
    cfg = self.config
    clock_s = self.clock.clock_ms // 1000
    t = self.totals
    rate = self.ring.window(clock_s, cfg.rate_window_s)
    per_min = 60.0 / cfg.rate_window_s
    recent = self.ring.window(clock_s, cfg.recent_window_s)
    dwell_sum, dwell_n = self.ring.window(clock_s, cfg.dwell_window_s, slice(DWELL_SUM, DWELL_N + 1)).tolist()
    n = cfg.trend_window_s
    cur = recent if n == cfg.recent_window_s else self.ring.window(clock_s, n)  # both 5 min by default
    before = self.ring.window(clock_s - n, n)
    views = self.total_viewers or t[JOINS]
    buyers = len(self.orders.buyers)
    unique = int(np.count_nonzero(self.viewer_flags))
    online = self.online

    def per_minute(window: Any, channel: int) -> float:
        return round(float(window[channel]) * 60.0 / n, 3)

    online_now, online_before = _online_means(self, clock_s, n)
    snap: dict[str, Any] = {
        "session": self.session,
        "platform": self.platform,
        "title": self.title,
        "host": self.host,
        "live": self.live,
        "ended_at": None if self.ended_ms is None else self.ended_ms / 1000,
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
        "click_to_purchase": ratio(buyers, int(np.count_nonzero(self.clicker_flags))),
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
        "avg_watch_s_15m": ratio(dwell_sum, dwell_n, 1),
        "median_watch_s_15m": self.audience.median_recent(),
        "watch_estimated": self.audience.closed_estimated > 0 or not t[LEAVES],
        "events_total": int(t[EVENTS]),
        "last_event_ts": self.clock.max_event_ms,
        "late_events": self.late_events,
        "watermark_ts": self.clock.watermark_ms,
        "trend": {
            "online": trend(online_now, online_before, cfg.trend_flat_ratio),
            "comments_per_min": trend(per_minute(cur, COMMENTS), per_minute(before, COMMENTS), cfg.trend_flat_ratio),
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
        snap["series"] = series(self, clock_s)
        snap["markers"] = sorted(self.markers, key=lambda m: m["ts"])
    return snap


def _online_means(self: SessionState, clock_s: int, n: int) -> tuple[float | None, float | None]:
    minutes = max(1, n // 60)
    rows = self.minutes.buckets(clock_s, 2 * minutes)

    def mean(part: Any) -> float | None:
        count = part[:, M_ONLINE_N].sum()
        return round(float(part[:, M_ONLINE_SUM].sum() / count), 1) if count else None

    return mean(rows[minutes:]), mean(rows[:minutes])


def series(self: SessionState, clock_s: int) -> dict[str, Any]:
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
