"""A per-event pure-Python engine computing the engine's snapshot figures (docs/metrics.md).

The issue's "straightforward per-event pure-Python implementation of the same metrics":
each wire event is decoded and folded on its own into dicts, sets and lists (no numpy,
no batches): event-time windows with the same lateness and watermark, duplicates once,
traffic, dwell, interaction, funnel and money, the per-product table, trends and the
minute series. It shares no code with `monitor/` (only the settings record), so
`bench.engine_baseline_snapshot.agreement` comparing its snapshots with the engine's is
a real check. Its tick also closes the 10-s bins the engine's tick delivers to detectors.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson

from bench.engine_baseline_parts import (
    CARTS,
    CLICKERS,
    CLICKS,
    COMMENTS,
    DWELL_EST,
    DWELL_N,
    DWELL_SUM,
    EVENTS,
    FOLLOWS,
    GIFTS,
    GMV,
    INTERACTORS,
    JOINS,
    LEAVES,
    LEAVES_EST,
    LIKES,
    QTY,
    SESSION_CHANNELS,
    SHARES,
    Orders,
    Windows,
)
from bench.engine_baseline_products import ProductTable
from bench.engine_baseline_snapshot import (
    M_COMMENTS,
    M_ENTRIES,
    M_GMV,
    M_LEAVES,
    M_ONLINE_N,
    M_ONLINE_SUM,
    closed_bin,
    snapshot,
)
from bench.engine_baseline_visits import Visits
from monitor.config import EngineConfig

UNIT = {
    "comment": COMMENTS,
    "like": LIKES,
    "join": JOINS,
    "leave": LEAVES,
    "product_click": CLICKS,
    "add_to_cart": CARTS,
    "share": SHARES,
    "follow": FOLLOWS,
    "gift": GIFTS,
}
ACTIVE = frozenset(("comment", "like", "join", "product_click", "add_to_cart", "share", "follow", "gift"))
INTERACT = frozenset(("comment", "like", "share"))
MINUTE = {"comment": M_COMMENTS, "join": M_ENTRIES, "leave": M_LEAVES}
RECENT_COMMENTS = 8


class Session:
    """One live room, folded one event at a time."""

    def __init__(self, session: str, config: EngineConfig) -> None:
        self.id, self.cfg = session, config
        self.platform, self.title, self.host, self.live = "other", "", "", True
        self.ended_ms: int | None = None
        self.newest_ms = self.anchor_ms = self.clock_ms = self.watermark_ms = 0
        self.anchor_wall = 0.0
        self.oldest_ms: int | None = None
        self.next_bin: int | None = None
        self.late_events = 0
        self.totals = [0.0] * SESSION_CHANNELS
        n = config.trend_window_s
        spans = [(config.rate_window_s, 0), (config.recent_window_s, 0), (config.dwell_window_s, 0), (n, 0), (n, n)]
        # per-second buckets are kept as long as the engine's ring keeps them: closed bins read them
        self.windows = Windows(1, SESSION_CHANNELS, spans, config.ring_seconds)
        self.minutes: dict[int, list[float]] = {}
        self.seen: set[str] = set()
        self.seen_order: deque[tuple[int, str]] = deque()  # (minute, id), to forget ids after the horizon
        self.viewers: set[str] = set()
        self.clickers: set[str] = set()
        self.latest: dict[tuple[str, int], int] = {}  # (user, INTERACTORS or CLICKERS) -> newest second
        self.viewer_count: tuple[int, str, int] | None = None
        self.total_viewers = self.peak_online = self.online = 0
        self.online_estimated = True
        self.orders = Orders(self._order_delta)
        self.products = ProductTable(config.recent_window_s)
        self.visits = Visits(config.idle_timeout_s, config.dwell_window_s)
        self.markers: list[dict[str, Any]] = []
        self.comments: list[tuple[int, str, str | None]] = []  # newest by (ts, id), oldest first
        self.last_series: float | None = None
        self.pruned_minute = 0

    def fold(self, e: dict[str, Any]) -> None:
        """Fold one event (not a duplicate: the engine checked)."""
        ts, kind, user = e["ts"], e["type"], e.get("user")
        sec = ts // 1000
        self.newest_ms = max(self.newest_ms, ts)
        self.oldest_ms = ts if self.oldest_ms is None else min(self.oldest_ms, ts)
        self.seen_order.append((self.newest_ms // 60_000, e["id"]))
        if self.next_bin is not None and sec < self.next_bin:
            self.late_events += 1
        if self.platform == "other" and e.get("platform"):
            self.platform = e["platform"]
        self._add(sec, EVENTS, 1.0)
        channel = UNIT.get(kind)
        if channel is not None:
            self._add(sec, channel, float(e.get("count") or 1) if kind in ("like", "gift") else 1.0)
            if kind in MINUTE:
                self._minute(sec, MINUTE[kind], 1.0)
            if user is not None:
                if kind != "leave":
                    self.viewers.add(user)
                    if kind == "product_click":
                        self.clickers.add(user)
                        self._latest(user, CLICKERS, sec)
                    elif kind in INTERACT:
                        self._latest(user, INTERACTORS, sec)
                self.visits.pending.append((ts, kind == "leave", user))
            if kind == "product_click" or kind == "add_to_cart":
                self.products.click_or_cart(e.get("product") or "", ts, kind == "product_click")
            elif kind == "comment":
                self._comment(ts, e["id"], e.get("text"))
        elif kind == "viewer_count":
            viewers = e.get("viewers") or 0
            if self.viewer_count is None or (ts, e["id"]) > self.viewer_count[:2]:
                self.viewer_count = (ts, e["id"], viewers)
            self.total_viewers = max(self.total_viewers, e.get("total_viewers") or 0)
            self.peak_online = max(self.peak_online, viewers)
            self._minute(sec, M_ONLINE_SUM, float(viewers))
            self._minute(sec, M_ONLINE_N, 1.0)
        elif kind == "order":
            self.products.get(e.get("product") or "")
            self.orders.fold(e)
        else:
            self._fold_rare(e, kind, ts)

    def _fold_rare(self, e: dict[str, Any], kind: str, ts: int) -> None:
        if kind == "stock":
            self.products.set_stock(e.get("product") or "", ts, e.get("stock") or 0)
        elif kind in ("product_pin", "product_unpin"):
            self.products.pin(e.get("product") or "", ts, e["id"], kind == "product_pin")
            marker = {"ts": ts, "kind": "pin" if kind == "product_pin" else "unpin", "product": e.get("product") or ""}
            # docs/metrics.md: a marker superseded within `marker_min_s` is replaced, and going back
            # to the marker before it adds nothing
            previous = self.markers[-1] if self.markers else None
            if previous is not None and 0 <= ts - previous["ts"] < self.cfg.marker_min_s * 1000:
                self.markers.pop()
                before = self.markers[-1] if self.markers else None
                if before is not None and (before["kind"], before["product"]) == (marker["kind"], marker["product"]):
                    return
            self.markers.append(marker)
            if len(self.markers) > self.cfg.max_markers:
                self.markers.sort(key=lambda m: m["ts"])
                del self.markers[0]
        elif kind == "session_start":
            self.title, self.host = e.get("title") or self.title, e.get("host") or self.host
            self.platform = e.get("platform") or "other"
            for planned in e.get("products") or ():
                self.products.plan(planned)
        elif kind == "session_end":
            self.live = False
            self.ended_ms = ts if self.ended_ms is None else min(self.ended_ms, ts)

    def _add(self, sec: int, channel: int, value: float) -> None:
        self.totals[channel] += value
        self.windows.add(sec, None, channel, value)

    def _minute(self, sec: int, channel: int, value: float) -> None:
        row = self.minutes.get(sec // 60)
        if row is None:
            row = self.minutes[sec // 60] = [0.0] * 6
        row[channel] += value

    def _latest(self, user: str, channel: int, sec: int) -> None:
        """Distinct users per window: each user counts once, in the bucket of their newest action."""
        old = self.latest.get((user, channel))
        if old is None or sec > old:
            self.latest[(user, channel)] = sec
            self.windows.add(sec, None, channel, 1.0)
            if old is not None:
                self.windows.add(old, None, channel, -1.0)

    def _comment(self, ts: int, event_id: str, text: str | None) -> None:
        comments = self.comments
        if len(comments) < RECENT_COMMENTS or (ts, event_id) > comments[0][:2]:
            comments.append((ts, event_id, text))
            comments.sort()
            del comments[:-RECENT_COMMENTS]

    def _order_delta(self, ts: int, channel: int, product: str, amount: float) -> None:
        if channel != QTY:  # items paid count per product only (stock left)
            self._add(ts // 1000, channel, amount)
        if channel == GMV:
            self._minute(ts // 1000, M_GMV, amount)
        self.products.order_delta(product, ts, channel, amount)

    def tick(self, now: float) -> list[dict[str, Any]]:
        """Advance clock and watermark to wall time `now`, replay visits, slide windows, close bins, expire."""
        if self.newest_ms > self.anchor_ms:
            self.anchor_ms, self.anchor_wall = self.newest_ms, now
        idle_ms = int(max(0.0, now - self.anchor_wall) * 1000)
        self.clock_ms = max(self.clock_ms, self.anchor_ms + idle_ms)
        self.watermark_ms = max(self.watermark_ms, self.clock_ms - round(self.cfg.lateness_s * 1000))
        for end, duration, estimated in self.visits.advance(self.watermark_ms):
            self._add(end // 1000, DWELL_SUM, duration)
            self._add(end // 1000, DWELL_N, 1.0)
            if estimated:
                self._add(end // 1000, DWELL_EST, 1.0)
                self._add(end // 1000, LEAVES_EST, 1.0)
                self._minute(end // 1000, M_LEAVES, 1.0)
        clock_s = self.clock_ms // 1000
        self.windows.advance(clock_s)
        self.products.windows.advance(clock_s)
        if self.viewer_count is not None:
            self.online, self.online_estimated = self.viewer_count[2], False
        else:
            self.online, self.online_estimated = len(self.visits.open), True
            self._minute(clock_s, M_ONLINE_SUM, float(self.online))
            self._minute(clock_s, M_ONLINE_N, 1.0)
        self.peak_online = max(self.peak_online, self.online)
        if self.next_bin is None and self.oldest_ms is not None:
            self.next_bin = self.oldest_ms // 10_000 * 10
        last = None if self.ended_ms is None else self.ended_ms // 10_000 * 10
        bins = []
        while self.next_bin is not None and (self.next_bin + 10) * 1000 <= self.watermark_ms:
            if last is not None and self.next_bin > last:
                break
            bins.append(closed_bin(self, self.next_bin))
            self.next_bin += 10
        self._expire(clock_s)
        return bins

    def _expire(self, clock_s: int) -> None:
        horizon = (clock_s - self.cfg.dedup_horizon_s) // 60
        while self.seen_order and self.seen_order[0][0] < horizon:
            self.seen.discard(self.seen_order.popleft()[1])
        self.visits.expire_recent(clock_s)
        for minute in [m for m in self.minutes if m <= clock_s // 60 - self.cfg.series_minutes - 2]:
            del self.minutes[minute]
        if clock_s // 60 != self.pruned_minute:
            self.pruned_minute = clock_s // 60
            self.orders.forget_settled(self.clock_ms - self.cfg.order_horizon_s * 1000)


class PerEventEngine:
    """All sessions, one wire event at a time: `apply` per event, `tick` per second."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.sessions: dict[str, Session] = {}

    def apply(self, raw: bytes) -> None:
        """Decode and fold one `Event.to_wire` payload; a repeated (session, id) counts once."""
        e = orjson.loads(raw)
        session = self.sessions.get(e["session"])
        if session is None:
            session = self.sessions[e["session"]] = Session(e["session"], self.config)
        if e["id"] in session.seen:
            return
        session.seen.add(e["id"])
        session.fold(e)

    def tick(self, now: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Advance every session to wall time `now`: (snapshots, closed bins)."""
        snapshots, bins = [], []
        for session in self.sessions.values():
            bins += session.tick(now)
            snapshots.append(snapshot(session, now))
        return snapshots, bins
