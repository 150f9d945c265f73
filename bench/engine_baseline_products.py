"""The per-product table of the per-event baseline (docs/metrics.md, "Per-product table").

Funnel counts in 10-s buckets (the last 5 min is the 30 buckets ending with the clock's),
session totals, stock, and pitches (pin to unpin or to the next product's pin), kept per
product in plain objects and dicts, one event at a time.
"""

from __future__ import annotations

from typing import Any

from bench.engine_baseline_parts import (
    GMV,
    ORDERS,
    P_CARTS,
    P_CLICKS,
    P_GMV,
    P_ORDERS,
    P_PAID,
    P_QTY,
    P_REFUND_N,
    P_REFUNDS,
    PAID,
    PRODUCT_CHANNELS,
    QTY,
    REFUND_N,
    REFUNDS,
    Windows,
)

# session order channel -> product channel; the first four are also windowed
TO_PRODUCT = {ORDERS: P_ORDERS, PAID: P_PAID, GMV: P_GMV, QTY: P_QTY, REFUNDS: P_REFUNDS, REFUND_N: P_REFUND_N}
WINDOWED = frozenset((P_CLICKS, P_CARTS, P_ORDERS, P_PAID, P_GMV, P_QTY))


class Product:
    """One product's metadata, totals and pitch state."""

    __slots__ = (
        "baseline_cps",
        "clicks_in_pitch",
        "id",
        "last_pitch_end",
        "margin",
        "name",
        "pin_key",
        "pin_started",
        "pinned",
        "pitch_count",
        "pitch_ms",
        "planned_stock",
        "price",
        "stock",
        "stock_ms",
        "totals",
    )

    def __init__(self, product_id: str) -> None:
        self.id, self.name = product_id, ""
        self.price: float | None = None
        self.margin: float | None = None
        self.planned_stock: int | None = None
        self.stock: int | None = None
        self.stock_ms = -1
        self.totals = [0.0] * PRODUCT_CHANNELS
        self.pinned = False
        self.pin_key: tuple[int, str] = (-1, "")
        self.pin_started: int | None = None
        self.pitch_count = self.pitch_ms = self.clicks_in_pitch = 0
        self.last_pitch_end: int | None = None
        self.baseline_cps: float | None = None


class ProductTable:
    """All products of a session, with the 5-min window in 10-s buckets."""

    def __init__(self, recent_s: int) -> None:
        self.recent_s = recent_s
        self.products: dict[str, Product] = {}
        # the window, and 3 buckets more for a pin's "5 min before" look-back (as the engine's ring)
        self.windows = Windows(10, PRODUCT_CHANNELS, [(recent_s // 10, 0)], recent_s // 10 + 3)
        self.current: str | None = None
        # Rows are rebuilt only for products with news, while pinned, or when the window slides
        self.dirty: set[str] = set()
        self.cached: dict[str, dict[str, Any]] = {}
        self.cached_end: int | None = None

    def get(self, product_id: str) -> Product:
        """Return the product, creating it on first sight."""
        product = self.products.get(product_id)
        if product is None:
            product = self.products[product_id] = Product(product_id)
        self.dirty.add(product_id)
        return product

    def plan(self, planned: dict[str, Any]) -> None:
        """Run-of-show metadata from `session_start`."""
        p = self.get(planned["id"])
        p.name = planned.get("name") or p.name
        for field in ("price", "margin"):
            if planned.get(field) is not None:
                setattr(p, field, planned[field])
        if planned.get("stock") is not None:
            p.planned_stock = planned["stock"]

    def click_or_cart(self, product_id: str, ts: int, click: bool) -> None:
        """Count one product click or add-to-cart (clicks since a pin feed its uplift)."""
        p = self.get(product_id)
        channel = P_CLICKS if click else P_CARTS
        p.totals[channel] += 1
        self.windows.add(ts // 1000, product_id, channel, 1.0)
        if click and p.pin_started is not None and ts >= p.pin_started:
            p.clicks_in_pitch += 1

    def order_delta(self, product_id: str, ts: int, channel: int, amount: float) -> None:
        """An order-book delta on a session channel (an order without product counts nowhere here)."""
        if not product_id:
            return
        p = self.get(product_id)
        target = TO_PRODUCT[channel]
        p.totals[target] += amount
        if target in WINDOWED:
            self.windows.add(ts // 1000, product_id, target, amount)

    def set_stock(self, product_id: str, ts: int, stock: int) -> None:
        """Keep the newest reported stock level by event time."""
        p = self.get(product_id)
        if ts >= p.stock_ms:
            p.stock_ms, p.stock = ts, stock

    def pin(self, product_id: str, ts: int, event_id: str, pinning: bool) -> None:
        """Start (`pinning`) or end a pitch; a pin ends the pitch of the product pinned before."""
        p = self.get(product_id)
        if (ts, event_id) <= p.pin_key:
            return  # an older pin/unpin of this product arriving late changes nothing
        if not pinning:
            p.pin_key = (ts, event_id)
            self._end_pitch(p, ts)
            return
        if self.current is not None and self.current != product_id:
            self._end_pitch(self.products[self.current], ts)
        p.pin_key = (ts, event_id)
        if not p.pinned:
            before = self.windows.window(ts // 1000 - 10, self.recent_s, product_id)
            p.baseline_cps = before[P_CLICKS] / self.recent_s
            p.pinned, p.pin_started, p.clicks_in_pitch = True, ts, 0
            p.pitch_count += 1
        self.current = product_id

    def _end_pitch(self, p: Product, ts: int) -> None:
        self.dirty.add(p.id)
        if p.pinned and p.pin_started is not None:
            p.pitch_ms += max(0, ts - p.pin_started)
            p.last_pitch_end = ts
        p.pinned = False
        if self.current == p.id:
            self.current = None

    def stock_left(self, p: Product) -> int | None:
        """Reported stock, else planned stock minus items paid, else None."""
        if p.stock is not None:
            return p.stock
        if p.planned_stock is not None:
            return max(0, p.planned_stock - int(p.totals[P_QTY]))
        return None

    def rows(self, clock_ms: int, unpaid: dict[str, int]) -> list[dict[str, Any]]:
        """The live table, one dict per product (`unpaid` per product from the order book)."""
        end = self.windows.end
        if end != self.cached_end:
            self.cached_end = end
            self.dirty.update(self.products)
        self.dirty.update(p.id for p in self.products.values() if p.pinned)
        for p in map(self.products.__getitem__, self.dirty):
            self.cached[p.id] = self._row(p, clock_ms, unpaid)
        self.dirty.clear()
        return list(self.cached.values())

    def _row(self, p: Product, clock_ms: int, unpaid: dict[str, int]) -> dict[str, Any]:
        recent = self.windows.sums(0, p.id)
        t = p.totals
        stock = self.stock_left(p)
        velocity = recent[P_QTY] / self.recent_s
        pitch_ms, uplift = p.pitch_ms, None
        if p.pinned and p.pin_started is not None:
            pitch_ms += max(0, clock_ms - p.pin_started)
            if p.baseline_cps:
                elapsed = max(1.0, (clock_ms - p.pin_started) / 1000)
                uplift = round(p.clicks_in_pitch / elapsed / p.baseline_cps - 1.0, 4)
        return {
            "product": p.id,
            "name": p.name,
            "price": p.price,
            "margin": p.margin,
            "stock": stock,
            "pinned": p.pinned,
            "pin_started_ts": p.pin_started if p.pinned else None,
            "pitch_count": p.pitch_count,
            "pitch_seconds_total": round(pitch_ms / 1000, 1),
            "last_pitch_end_ts": p.last_pitch_end,
            "clicks_5m": int(recent[P_CLICKS]),
            "carts_5m": int(recent[P_CARTS]),
            "orders_5m": int(recent[P_ORDERS]),
            "gmv_5m": round(recent[P_GMV], 2),
            "clicks_total": int(t[P_CLICKS]),
            "carts_total": int(t[P_CARTS]),
            "orders_total": int(t[P_ORDERS]),
            "paid_total": int(t[P_PAID]),
            "unpaid": unpaid.get(p.id, 0),
            "gmv_total": round(t[P_GMV], 2),
            "refunds": int(t[P_REFUND_N]),
            "refund_amount": round(t[P_REFUNDS], 2),
            "click_to_purchase": round(t[P_PAID] / t[P_CLICKS], 4) if t[P_CLICKS] else None,
            "sellout_eta_s": round(stock / velocity, 1) if stock is not None and velocity > 0 else None,
            "pitch_uplift": uplift,
        }
