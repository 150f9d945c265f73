"""One live room's state: folds events, closes 10-s bins (`monitor.session_bins`), expires old state.

Three rings hold windowed counts (1-s buckets for session figures, 10-s buckets per
product, 1-min buckets for the 60-minute chart curves); totals live in plain lists.
Their channels are in `monitor.channels`, the snapshot built from them in
`monitor.snapshot`, the checkpoint layout in `monitor.checkpoint`.
Distinct-user rates ("clickers in the last minute") use latest-position counting: each
user is counted once, in the bucket of their most recent action, so a window that ends
at the clock sums to the number of distinct users who acted inside it.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

import numpy as np

from monitor import products as P
from monitor.batch import CLICK, LEAVE, RECENT_COMMENTS, Part
from monitor.bins import Bin
from monitor.channels import (
    ACTIVE,
    CHANNELS,
    DWELL_EST,
    DWELL_N,
    DWELL_SUM,
    EVENTS,
    GMV,
    INTERACT,
    LATEST_CHANNEL,
    LEAVES_EST,
    M_GMV,
    M_LEAVES,
    M_ONLINE_N,
    M_ONLINE_SUM,
    MINUTE_CHANNEL,
    MINUTE_CHANNELS,
    ORDER_PRODUCT,
    ORDER_SESSION,
    ORDER_TOTAL,
    UNIT_CHANNEL,
)
from monitor.checkpoint import restore, to_state
from monitor.config import EngineConfig
from monitor.dedup import SeenIds
from monitor.dwell import Audience
from monitor.events import PlannedProduct
from monitor.orders import OrderBook
from monitor.session_bins import close_bins
from monitor.snapshot import snapshot
from monitor.watermark import EventClock
from monitor.windows import BoolArray, FloatArray, IntArray, Ring, sort_order

MAX_PENDING = 4096  # settle early past this many waiting events: bounds memory and the work of one tick


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
        self.seen = SeenIds()
        # Viewers are interned to ints once per session, so per-viewer state is numpy arrays
        # indexed by that int (flags, newest action second, -1 for none) instead of string maps.
        self.user_index: dict[str, int] = {}
        self.viewer_flags = np.zeros(0, dtype=bool)
        self.clicker_flags = np.zeros(0, dtype=bool)
        # newest second of each viewer's interaction (even index) and click (odd), -1: none
        self.latest: IntArray = np.zeros(0, dtype=np.int64)
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
        self.order_deltas: list[tuple[int, int, str, float]] = []  # (ts_ms, book channel, product, amount)
        # columns folded at the next `settle`: (users, ts_ms, seconds, kind codes, weights) per batch
        self.pending: list[tuple[tuple[str | None, ...], IntArray, IntArray, IntArray, FloatArray]] = []
        self.pending_events = 0

    # ------------------------------------------------------------------ events

    def fold(self, part: Part) -> None:
        """Fold this session's admitted rows of a batch (`monitor.batch.Part`), in any order.

        What later events of the batch depend on is folded now: the clock, product rows,
        pitch clicks, viewer counts, newest comments, and the rare kinds (orders, pins,
        stock, session start/end) one by one in batch order, after this batch's clicks, so
        a click in the same batch as a pin may fall outside the pitch count (both orders
        are valid arrivals). The columns (window counts, totals, viewers, watch time) wait
        in `pending` until `settle`, which folds every batch since the last tick with one
        set of numpy calls: nothing reads them in between.
        """
        index = part.index
        if not index:
            return
        batch = part.batch
        newest, oldest = int(part.ts.max()), int(part.ts.min())
        clock = self.clock
        clock.max_event_ms = max(clock.max_event_ms, newest)
        if self.min_event_ms is None or oldest < self.min_event_ms:
            self.min_event_ms = oldest
        if self.next_bin is not None and oldest // 1000 < self.next_bin:
            self.late_events += int(np.count_nonzero(part.secs < self.next_bin))
        if self.platform == "other":
            for platform in (batch.rows[i].get("platform") for i in index):
                if platform:
                    self.platform = str(platform)
                    if platform != "other":
                        break
        if part.product_ids:
            self.products.count_columns(part.product_ids, part.product_ts, part.product_click)
        rows = batch.rows
        for i in part.viewer_counts:
            d: Any = rows[index[i]]
            self._viewer_count(d["id"], d["ts"], d.get("viewers") or 0, d.get("total_viewers") or 0)
        if part.comments:
            self._fold_comments(part)
        for i in part.rare:
            self._fold_rare(rows[index[i]])
        self.pending.append((part.users, part.ts, part.secs, part.codes, part.weights))
        self.pending_events += len(index)
        if self.pending_events >= MAX_PENDING:
            self.settle()

    def settle(self) -> None:
        """Fold the columns of every batch since the last call: rings, totals, viewers, orders."""
        self.products.settle()
        self._add_order_deltas()
        if not self.pending:
            return
        users: list[str | None] = []
        for part in self.pending:
            users += part[0]
        ts, secs, codes, weights = (np.concatenate([p[k] for p in self.pending]) for k in range(1, 5))
        self.pending.clear()
        self.pending_events = 0
        ring, totals = self.ring, self.totals
        ring.add_columns(secs, EVENTS)
        totals[EVENTS] += len(secs)
        channels = UNIT_CHANNEL[codes]
        ring.add_columns(secs, channels, weights)
        counts = np.bincount(channels + 1, weights=weights, minlength=CHANNELS + 1).tolist()
        for channel, count in enumerate(counts[1:]):
            if count:
                totals[channel] += count
        self.minutes.add_columns(secs, MINUTE_CHANNEL[codes])
        self._fold_users(users, codes, ts, secs)

    def _fold_users(self, users: list[str | None], codes: IntArray, ts: IntArray, secs: IntArray) -> None:
        """Distinct viewers, clickers, latest-position rates and the audience replay queue."""
        index = self.user_index
        lookup: Any = index.get  # (user or None, -1): an unknown user or None maps to -1
        uid = np.fromiter(map(lookup, users, repeat(-1)), np.int64, len(users))
        unknown = np.flatnonzero(uid < 0)
        if len(unknown):  # a long session meets few new viewers: intern them in arrival order (stable ids)
            strangers = [users[i] for i in unknown.tolist()]
            new = [user for user in dict.fromkeys(strangers) if user is not None]
            if new:
                index.update(zip(new, range(len(index), len(index) + len(new))))
                uid[unknown] = np.fromiter(map(lookup, strangers, repeat(-1)), np.int64, len(strangers))
        self.grow_users(len(index))
        known = uid >= 0
        active = known & ACTIVE[codes]
        self.viewer_flags[uid[active]] = True
        leaving = known & (codes == LEAVE)
        moving = active | leaving
        self.audience.add_columns(ts[moving], leaving[moving], uid[moving])
        clicking = known & (codes == CLICK)
        self.clicker_flags[uid[clicking]] = True
        acting = (known & INTERACT[codes]) | clicking  # no kind is both
        self._latest(uid[acting] * 2 + clicking[acting], secs[acting])

    def _latest(self, keys: IntArray, secs: IntArray) -> None:
        """Move each user's +1 to the bucket of their newest action (latest-position counting).

        `keys` are viewer * 2 + rate (0: interaction, 1: click), one flat array for both rates.
        Per event this is "+1 at the new second, −1 at the old one" whenever the user's newest
        second grows; over a batch those steps telescope to one +1 at the batch's newest second
        and one −1 at the second held before, which is what is added here.
        """
        if not len(keys):
            return
        order = sort_order(keys, secs)
        keys, secs = keys[order], secs[order]
        last = np.ones(len(keys), dtype=bool)
        last[:-1] = keys[1:] != keys[:-1]
        keys, newest = keys[last], secs[last]
        old = self.latest[keys]
        moved = newest > old
        channels = LATEST_CHANNEL[keys & 1]
        self.ring.add_columns(newest[moved], channels[moved])
        drop = moved & (old >= 0)
        self.ring.add_columns(old[drop], channels[drop], np.full(int(np.count_nonzero(drop)), -1.0))
        self.latest[keys[moved]] = newest[moved]

    def grow_users(self, count: int) -> None:  # also used by `monitor.checkpoint.restore`
        """Make the per-viewer arrays hold `count` viewers (doubling, so growth is amortised)."""
        size = len(self.viewer_flags)
        if count <= size:
            return
        size = max(count, 2 * size, 1024)
        grow = size - len(self.viewer_flags)
        self.viewer_flags = np.concatenate((self.viewer_flags, np.zeros(grow, dtype=bool)))
        self.clicker_flags = np.concatenate((self.clicker_flags, np.zeros(grow, dtype=bool)))
        self.latest = np.concatenate((self.latest, np.full(2 * grow, -1, dtype=np.int64)))

    def _fold_comments(self, part: Part) -> None:
        """Keep the newest RECENT_COMMENTS comments (by time, then id) for screens."""
        recent = self.recent_comments
        oldest = (recent[0]["ts"], recent[0]["id"]) if len(recent) >= RECENT_COMMENTS else (-1, "")
        # `part.comments` holds the batch's candidates only (usually eight): Python sorts them exactly
        rows, times, ids = part.batch.rows, part.batch.times, part.batch.ids
        candidates = [(times[row], ids[row], row) for row in map(part.index.__getitem__, part.comments)]
        candidates.sort()
        for t, event_id, row in candidates[-RECENT_COMMENTS:]:
            if (t, event_id) > oldest:
                self._remember_comment(event_id, t, rows[row].get("text"))

    def _fold_rare(self, d: dict[str, Any]) -> None:
        kind = d["type"]
        ts = d["ts"]
        if kind == "order":
            product = d.get("product") or ""
            self.products.get(product)  # a row even when the only news is a cancellation
            self.products.dirty.add(product)
            self.orders.fold(
                d["id"],
                d.get("order_id") or d["id"],
                product,
                ts,
                d.get("status"),
                d.get("amount") or 0.0,
                d.get("qty") or 1,
                d.get("user"),
                self._order_delta,
            )
        elif kind == "stock":
            self.products.set_stock(d.get("product") or "", ts, d.get("stock") or 0)
        elif kind == "product_pin" or kind == "product_unpin":
            self._pin(d["id"], ts, d.get("product") or "", kind == "product_pin")
        elif kind == "session_start":
            self.title = d.get("title") or self.title
            self.host = d.get("host") or self.host
            self.platform = str(d.get("platform") or "other")
            for planned in d.get("products") or ():
                self.products.plan(PlannedProduct(**planned))
        elif kind == "session_end":
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

    def _viewer_count(self, event_id: str, ts: int, viewers: int, total_viewers: int) -> None:
        key = (ts, event_id, viewers)
        if self.viewer_count is None or key[:2] > self.viewer_count[:2]:
            self.viewer_count = key
        self.total_viewers = max(self.total_viewers, total_viewers)
        self.peak_online = max(self.peak_online, viewers)
        self.minutes.add(ts // 1000, M_ONLINE_SUM, float(viewers))
        self.minutes.add(ts // 1000, M_ONLINE_N, 1.0)

    def _order_delta(self, ts_ms: int, channel: int, product: str, amount: float) -> None:
        self.order_deltas.append((ts_ms, channel, product, amount))

    def _add_order_deltas(self) -> None:
        """Add the batch's order deltas to rings and totals as columns (totals in emit order)."""
        deltas = self.order_deltas
        if not deltas:
            return
        times, book, products, amounts = zip(*deltas)
        deltas.clear()
        ts = np.array(times, dtype=np.int64)
        secs = ts // 1000
        book_channels = np.array(book, dtype=np.int64)
        values = np.array(amounts, dtype=np.float64)
        channels = ORDER_SESSION[book_channels]
        self.ring.add_columns(secs, channels, values)
        totals = self.totals
        for channel, amount in zip(channels.tolist(), amounts):
            if channel >= 0:
                totals[channel] += amount
        gmv = channels == GMV
        if gmv.any():
            self.minutes.add_columns(secs[gmv], M_GMV, values[gmv])
        self.products.count_deltas(products, ts, ORDER_PRODUCT[book_channels], ORDER_TOTAL[book_channels], values)

    def _pin(self, event_id: str, ts: int, product: str, pinning: bool) -> None:
        if pinning:
            self.products.pin(product, ts, event_id)
        else:
            self.products.unpin(product, ts, event_id)
        self._mark(ts, "pin" if pinning else "unpin", product)

    def _mark(self, ts: int, kind: str, product: str) -> None:
        """Add a chart marker for a pitch change.

        A marker superseded within `marker_min_s` is replaced: a card popped for a second to
        answer a question is not a pitch, and dozens of those drew a solid block on the curves
        and pushed real pitches out of the `max_markers` cap. Returning to the interrupted
        pitch then adds nothing.
        """
        markers = self.markers
        if markers and 0 <= ts - markers[-1]["ts"] < self.config.marker_min_s * 1000:
            markers.pop()
            if markers and markers[-1]["kind"] == kind and markers[-1]["product"] == product:
                return
        markers.append({"ts": ts, "kind": kind, "product": product})
        if len(markers) > self.config.max_markers:
            markers.sort(key=lambda m: m["ts"])
            del markers[: len(markers) - self.config.max_markers]

    def _dwell_closed(self, end_ms: IntArray, duration_s: FloatArray, estimated: BoolArray) -> None:
        """Count closed visits at their end second: watch time, and estimated leaves."""
        if not len(end_ms):
            return
        second = end_ms // 1000
        count = len(second)
        ring, totals = self.ring, self.totals
        ring.add_columns(second, np.full(count, DWELL_SUM), duration_s)
        ring.add_columns(second, np.full(count, DWELL_N))
        totals[DWELL_SUM] += float(duration_s.sum())
        totals[DWELL_N] += count
        guessed = second[estimated]
        if len(guessed):
            ring.add_columns(guessed, np.full(len(guessed), DWELL_EST))
            ring.add_columns(guessed, np.full(len(guessed), LEAVES_EST))
            totals[DWELL_EST] += len(guessed)
            totals[LEAVES_EST] += len(guessed)
            self.minutes.add_columns(guessed, np.full(len(guessed), M_LEAVES))

    # ------------------------------------------------------------------ tick

    def tick(self, now: float) -> list[Bin]:
        """Advance clock and watermark, replay audience, close due bins, expire old state."""
        self.settle()
        self.ring.flush()
        clock = self.clock
        clock.advance(now)
        self._dwell_closed(*self.audience.advance_columns(clock.watermark_ms))
        self.ring.flush()
        self.products.ring.flush()
        self.minutes.flush()
        if self.viewer_count is not None:
            self.online, self.online_estimated = self.viewer_count[2], False
        else:
            self.online, self.online_estimated = self.audience.open_count(), True
            self.minutes.add(clock.clock_ms // 1000, M_ONLINE_SUM, float(self.online))
            self.minutes.add(clock.clock_ms // 1000, M_ONLINE_N, 1.0)
            self.minutes.flush()
        self.peak_online = max(self.peak_online, self.online)
        bins = close_bins(self)
        self._expire()
        return bins

    def _expire(self) -> None:
        clock_s = self.clock.clock_ms // 1000
        horizon = (clock_s - self.config.dedup_horizon_s) // 60
        self.seen.expire(horizon)
        self.audience.expire_recent(clock_s)
        if clock_s // 60 != self.pruned_minute:  # once a minute is plenty: these only bound memory
            self.pruned_minute = clock_s // 60
            self.orders.forget_settled(self.clock.clock_ms - self.config.order_horizon_s * 1000)

    # ------------------------------------------------------------------ snapshot

    def snapshot(self, now: float) -> dict[str, Any]:
        """Return the JSON-ready session snapshot (docs/architecture.md, docs/metrics.md)."""
        self.settle()
        return snapshot(self, now)

    # ------------------------------------------------------------------ checkpoint

    def to_state(self, seen_inline: bool = True) -> dict[str, Any]:
        """Return all state as JSON-ready data (rings compressed, sets as sorted lists)."""
        self.settle()
        return to_state(self, seen_inline)

    @classmethod
    def from_state(
        cls, session: str, config: EngineConfig, data: dict[str, Any], stored_ids: dict[int, str] | None = None
    ) -> SessionState:
        """Rebuild a session from `to_state` output (`stored_ids`: remembered ids stored beside it)."""
        state = cls(session, config)
        restore(state, data, stored_ids)
        return state
