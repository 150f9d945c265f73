"""Channels, sliding windows and the order book of the per-event baseline (`bench/engine_baseline.py`).

The plain-Python way to keep these from docs/metrics.md, one event at a time, with dicts
and lists: running window sums over per-second buckets, and orders by `order_id`. They
share no code with `monitor/`, so agreement with the engine is evidence, not a tautology.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any

# Session channels (per-second buckets and totals share them)
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
    QTY,
) = range(22)
SESSION_CHANNELS = 22
# Product channels (10-s buckets); product totals add refunds
P_CLICKS, P_CARTS, P_ORDERS, P_PAID, P_GMV, P_QTY, P_REFUNDS, P_REFUND_N = range(8)
PRODUCT_CHANNELS = 8


class Span:
    """One sliding window: buckets (end − lag − length, end − lag] and their sums per key."""

    __slots__ = ("hi", "lag", "length", "lo", "sums")

    def __init__(self, length: int, lag: int) -> None:
        self.length, self.lag = length, lag
        self.lo = self.hi = 0  # the window is the buckets in (lo, hi]; empty before the first tick
        self.sums: dict[Hashable, list[float]] = {}


class Windows:
    """Running sums over sliding windows of `width`-second buckets, per key.

    A window (length, lag) covers buckets (end − lag − length, end − lag], where `end` is
    the bucket of the clock. An add updates its bucket and every window that covers it
    now; `advance` slides the windows, adding the buckets that enter and subtracting
    those that leave, so a tick costs the buckets it slides over, not the window length.
    """

    def __init__(self, width: int, channels: int, spans: list[tuple[int, int]], keep: int) -> None:
        self.width = width
        self.channels = channels
        self.keep = keep  # buckets kept behind the newest one (older adds are ignored, as in a ring)
        self.buckets: dict[int, dict[Hashable, list[float]]] = {}
        self.newest: int | None = None
        self.floor: int | None = None  # every bucket below this one has been dropped
        self.spans = [Span(length, lag) for length, lag in spans]
        self.end: int | None = None  # bucket of the clock at the last `advance`

    def add(self, second: int, key: Hashable, channel: int, value: float) -> None:
        """Add `value` to `channel` of `key` at event-time `second`."""
        b = second // self.width
        if self.newest is None or self.floor is None:
            self.newest = self.floor = b
        elif b > self.newest:
            self.newest = b
        elif b <= self.newest - self.keep:
            return  # older than any window reaches: totals only (as a ring recycles the bucket)
        elif b < self.floor:
            self.floor = b
        bucket = self.buckets.get(b)
        if bucket is None:
            bucket = self.buckets[b] = {}
        row = bucket.get(key)
        if row is None:
            row = bucket[key] = [0.0] * self.channels
        row[channel] += value
        if self.end is None or b > self.end:
            return  # newer than the last tick: the windows take it in when they slide over it
        for span in self.spans:
            if span.lo < b <= span.hi:
                total = span.sums.get(key)
                if total is None:
                    total = span.sums[key] = [0.0] * self.channels
                total[channel] += value

    def advance(self, second: int) -> None:
        """Move every window's end to the bucket of `second` (never back) and drop buckets out of reach."""
        end = second // self.width
        if self.end is not None and end <= self.end:
            return
        for span in self.spans:
            lo, hi = end - span.lag - span.length, end - span.lag
            if self.end is None or hi - span.hi >= span.length:
                span.sums = {}
                self._fold(span.sums, lo + 1, hi, 1.0)
            else:
                self._fold(span.sums, span.hi + 1, hi, 1.0)
                self._fold(span.sums, span.lo + 1, lo, -1.0)
            span.lo, span.hi = lo, hi
        self.end = end
        if self.floor is not None and self.newest is not None:
            while self.floor <= self.newest - self.keep:
                self.buckets.pop(self.floor, None)
                self.floor += 1

    def _fold(self, sums: dict[Hashable, list[float]], lo: int, hi: int, sign: float) -> None:
        for b in range(lo, hi + 1):
            for key, row in self.buckets.get(b, {}).items():
                total = sums.get(key)
                if total is None:
                    total = sums[key] = [0.0] * self.channels
                for channel, value in enumerate(row):
                    if value:
                        total[channel] += sign * value

    def sums(self, span: int, key: Hashable) -> list[float]:
        """The sums of window number `span` for `key` (zeros when it has none).

        Rounded to 1e-6: adding and later subtracting amounts leaves float residue (an empty
        window reading -1e-13), and money (cents) and watch time (ms) are coarser than that.
        """
        total = self.spans[span].sums.get(key)
        return [round(v, 6) if v else 0.0 for v in total] if total else [0.0] * self.channels

    def window(self, end_second: int, length_s: int, key: Hashable) -> list[float]:
        """Sum the buckets of an arbitrary window ending with the bucket of `end_second`."""
        end = end_second // self.width
        total = [0.0] * self.channels
        for b in range(end - max(1, length_s // self.width) + 1, end + 1):
            row = self.buckets.get(b, {}).get(key)
            if row is not None:
                total = [t + v for t, v in zip(total, row)]
        return total


Emit = Callable[[int, int, str, float], None]  # (ts_ms, channel, product, amount)


class Orders:
    """Order lifecycle per `order_id`: order time, first payment, unpaid, buyers, refunds.

    Windows and totals get deltas through `emit`: when a later-arriving event moves a fact
    earlier (an earlier `placed`, an earlier `paid`), −1 at the old time and +1 at the new.
    """

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.orders: dict[str, dict[str, Any]] = {}
        self.unpaid: Counter[str] = Counter()  # per product
        self.unpaid_total = 0
        self.buyers: set[str] = set()

    def fold(self, e: dict[str, Any]) -> str:
        """Fold one order event; return the order's product (from its first event)."""
        ts, status, amount = e["ts"], e.get("status"), e.get("amount") or 0.0
        order_id: str = e.get("order_id") or e["id"]
        o = self.orders.get(order_id)
        if o is None:
            o = self.orders[order_id] = {
                "product": e.get("product") or "",
                "order_ms": None,
                "paid": None,
                "placed": False,
                "cancelled": False,
                "last_ms": ts,
            }
        product: str = o["product"]
        was_unpaid = self._unpaid(o)
        o["last_ms"] = max(o["last_ms"], ts)
        if status == "refunded":
            self.emit(ts, REFUNDS, product, amount)
            self.emit(ts, REFUND_N, product, 1.0)
            return product
        if status == "cancelled":
            o["cancelled"] = True
        else:
            o["placed"] = o["placed"] or status == "placed"
            if o["order_ms"] is None or ts < o["order_ms"]:
                if o["order_ms"] is not None:
                    self.emit(o["order_ms"], ORDERS, product, -1.0)
                self.emit(ts, ORDERS, product, 1.0)
                o["order_ms"] = ts
            if status == "paid":
                self._pay(o, ts, e["id"], amount, e.get("qty") or 1, e.get("user"))
        step = self._unpaid(o) - was_unpaid
        if step:
            self.unpaid[product] += step
            self.unpaid_total += step
        return product

    def _pay(self, o: dict[str, Any], ts: int, event_id: str, amount: float, qty: int, user: str | None) -> None:
        if user:
            self.buyers.add(user)
        old = o["paid"]
        if old is not None and (ts, event_id) >= old[:2]:
            return  # a repeated or later payment notice: the first payment stands
        product = o["product"]
        if old is not None:
            for channel, value in ((PAID, 1.0), (GMV, old[2]), (QTY, float(old[3]))):
                self.emit(old[0], channel, product, -value)
        for channel, value in ((PAID, 1.0), (GMV, amount), (QTY, float(qty))):
            self.emit(ts, channel, product, value)
        o["paid"] = (ts, event_id, amount, qty)

    @staticmethod
    def _unpaid(o: dict[str, Any]) -> int:
        return int(o["placed"] and o["paid"] is None and not o["cancelled"])

    def forget_settled(self, before_ms: int) -> None:
        """Forget paid or cancelled orders whose last event is older than `before_ms` (bounds memory)."""
        settled = [
            k for k, o in self.orders.items() if o["last_ms"] < before_ms and (o["paid"] is not None or o["cancelled"])
        ]
        for oid in settled:
            del self.orders[oid]
