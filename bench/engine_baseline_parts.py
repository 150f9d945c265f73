"""Building blocks of the per-event pure-Python baseline (`bench/engine_baseline.py`).

Each class is the plain-Python way to keep one kind of state from docs/metrics.md, one
event at a time, with dicts, sets, lists and a heap: running window sums over per-second
buckets, the order book, and viewer visits replayed behind the watermark. They share no
code with `monitor/`, so agreement with the engine is evidence, not a tautology.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
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


Closed = tuple[int, float, bool]  # (end_ms, duration_s, estimated)


class Visits:
    """Viewer visits replayed in event-time order behind the watermark (docs/metrics.md, dwell).

    A visit opens on activity, goes on while gaps stay under the idle timeout, and ends at
    an explicit leave or, estimated, at last activity + timeout. Activity waits in
    `pending` until the watermark passes it; a heap of deadlines finds idle visits.
    """

    def __init__(self, idle_timeout_s: float, window_s: int) -> None:
        self.idle_ms = round(idle_timeout_s * 1000)
        self.window_s = window_s
        self.pending: list[tuple[int, bool, str]] = []  # (ts_ms, is_leave, user)
        self.open: dict[str, tuple[int, int]] = {}  # user -> (start_ms, last_ms)
        self.deadlines: list[tuple[int, str]] = []  # (last_ms + idle, user), stale entries skipped
        self.recent: deque[tuple[int, int]] = deque()  # (end_s, whole seconds) inside the window
        self.recent_hist: Counter[int] = Counter()
        self.hist: Counter[int] = Counter()
        self.total_s = 0.0
        self.closed = 0
        self.closed_estimated = 0

    def advance(self, watermark_ms: int) -> list[Closed]:
        """Replay the activity older than the watermark, close idle visits; return closures by end."""
        due = [p for p in self.pending if p[0] < watermark_ms]
        if due:
            self.pending = [p for p in self.pending if p[0] >= watermark_ms]
            due.sort()  # by time, activity before a leave at the same instant
        out: list[Closed] = []
        idle = self.idle_ms
        for ts, leave, user in due:
            visit = self.open.get(user)
            if visit is not None:
                start, last = visit
                if ts < last or (ts == last and not leave):
                    continue  # late activity never moves a visit back in time
                if ts - last < idle:
                    if leave:
                        del self.open[user]
                        out.append((ts, (ts - start) / 1000.0, False))
                    else:
                        self.open[user] = (start, ts)
                        heapq.heappush(self.deadlines, (ts + idle, user))
                    continue
                del self.open[user]
                out.append((last + idle, (last + idle - start) / 1000.0, True))
            if not leave:
                self.open[user] = (ts, ts)
                heapq.heappush(self.deadlines, (ts + idle, user))
        while self.deadlines and self.deadlines[0][0] <= watermark_ms:
            deadline, user = heapq.heappop(self.deadlines)
            visit = self.open.get(user)
            if visit is not None and visit[1] + idle == deadline:
                del self.open[user]
                out.append((deadline, (deadline - visit[0]) / 1000.0, True))
        out.sort(key=lambda c: c[0])
        for end, duration, estimated in out:
            whole = int(duration)
            self.total_s += duration
            self.closed += 1
            self.closed_estimated += estimated
            self.hist[whole] += 1
            self.recent.append((end // 1000, whole))
            self.recent_hist[whole] += 1
        return out

    def expire_recent(self, clock_s: int) -> None:
        """Forget visits that ended before the rolling watch-time window."""
        while self.recent and self.recent[0][0] <= clock_s - self.window_s:
            self.recent_hist[self.recent.popleft()[1]] -= 1

    def median_session(self) -> float | None:
        """Lower median whole-second duration of every closed visit."""
        return lower_median(self.hist)

    def median_recent(self) -> float | None:
        """Lower median whole-second duration of visits ended in the rolling window."""
        return lower_median(self.recent_hist)


def lower_median(hist: Counter[int]) -> float | None:
    """Lower median of values given as value -> count."""
    count = sum(hist.values())
    if not count:
        return None
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen > (count - 1) // 2:
            return float(value)
    return None
