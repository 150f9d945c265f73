"""Per-product live table: funnel counts, last-5-min window, pitches, stock.

Each product gets a row in a shared ring of 10-s buckets (aligned with the closed
`Bin`s, so a bin's per-product counts are one ring row) and a list of session totals.
A pitch is the time between `product_pin` and `product_unpin` (or the next product's
pin: one product is explained at a time, as Compass 讲解 and TikTok's pinned product).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.bins import BIN_SECONDS
from monitor.events import PlannedProduct
from monitor.windows import FloatArray, IntArray, Ring

# Ring channels per product
CLICKS, CARTS, ORDERS, PAID, GMV, QTY = range(6)
CHANNELS = 6
# Totals per product
T_CLICKS, T_CARTS, T_ORDERS, T_PAID, T_GMV, T_QTY, T_REFUNDS, T_REFUND_N = range(8)


@dataclass(slots=True)
class Product:
    """What the table knows about one product (mutable running state)."""

    id: str
    index: int
    name: str = ""
    price: float | None = None
    margin: float | None = None
    planned_stock: int | None = None
    stock_ms: int = -1
    stock: int | None = None
    pinned: bool = False
    pin_key: tuple[int, str] = (-1, "")
    pin_started_ms: int | None = None
    pitch_count: int = 0
    pitch_ms_total: int = 0
    last_pitch_end_ms: int | None = None
    clicks_in_pitch: int = 0
    baseline_clicks_per_s: float | None = None


class ProductTable:
    """All products of a session: metadata, totals and the 10-s product ring.

    The ring has room for at least `len(totals)` products (columns beyond them stay zero).
    """

    __slots__ = (
        "_rows",
        "_rows_bucket",
        "current",
        "dirty",
        "pending",
        "pitched",
        "products",
        "recent_s",
        "ring",
        "totals",
    )

    def __init__(self, recent_s: int, lateness_s: float) -> None:
        self.products: dict[str, Product] = {}
        self.totals: list[list[float]] = []
        # recent window + lateness + the bucket being filled + one being closed
        slots = recent_s // BIN_SECONDS + int(lateness_s) // BIN_SECONDS + 3
        self.ring = Ring(0, slots, BIN_SECONDS)
        self.recent_s = recent_s
        self.current: str | None = None
        self.pitched = False  # some product has been pinned: clicks are checked against its pin time
        self.pending: list[tuple[list[str], IntArray, npt.NDArray[np.bool_]]] = []  # (ids, ts_ms, is_click)
        # Row cache: a row changes only when its product gets news, when the 10-s window
        # slides, or while it is pinned (pitch seconds), so most ticks rebuild few rows.
        self.dirty: set[str] = set()
        self._rows: dict[str, dict[str, Any]] = {}
        self._rows_bucket = -1

    def get(self, product_id: str) -> Product:
        """Return the product, creating its row on first sight."""
        product = self.products.get(product_id)
        if product is None:
            product = self.products[product_id] = Product(product_id, len(self.totals))
            self.totals.append([0.0] * 8)
            needed = len(self.totals) * CHANNELS
            if needed > self.ring.channels:  # grow by doubling: widening copies the whole ring
                self.ring.widen(max(needed, 2 * self.ring.channels))
        return product

    def plan(self, planned: PlannedProduct) -> None:
        """Record run-of-show metadata from `session_start`."""
        product = self.get(planned.id)
        self.dirty.add(planned.id)
        product.name = planned.name or product.name
        product.price = planned.price if planned.price is not None else product.price
        product.margin = planned.margin if planned.margin is not None else product.margin
        product.planned_stock = planned.stock if planned.stock is not None else product.planned_stock

    def count_deltas(
        self, product_ids: tuple[str, ...], ts_ms: IntArray, channels: IntArray, totals: IntArray, amounts: FloatArray
    ) -> None:
        """Add order deltas, one per element: `amount` on a ring channel (none when < 0) and a total.

        A delta without a product ("") counts nowhere here (the session totals have it).
        """
        named = [i for i, p in enumerate(product_ids) if p]
        if len(named) < len(product_ids):
            if not named:
                return
            product_ids = tuple(product_ids[i] for i in named)
            ts_ms, channels, totals, amounts = ts_ms[named], channels[named], totals[named], amounts[named]
        self.dirty.update(product_ids)
        index = np.fromiter([self.get(p).index for p in product_ids], np.int64, len(product_ids))
        self.ring.add_columns(ts_ms // 1000, np.where(channels >= 0, index * CHANNELS + channels, -1), amounts)
        rows = self.totals
        for i, total, amount in zip(index.tolist(), totals.tolist(), amounts.tolist()):
            rows[i][total] += amount

    def count_columns(self, product_ids: list[str], ts_ms: IntArray, is_click: npt.NDArray[np.bool_]) -> None:
        """Count a batch of clicks (`is_click`) and add-to-carts, one per element.

        Rows (first-seen order) and pitch clicks follow the batch now; ring and totals wait
        for `settle`, which adds every batch since the last one with one set of numpy calls.
        """
        products = self.products
        distinct = dict.fromkeys(product_ids)
        if not distinct.keys() <= products.keys():
            for product_id in distinct:  # rows are created in first-seen order
                self.get(product_id)
        self.dirty.update(product_ids)
        if self.pitched:  # clicks since the pin feed the pitch uplift
            for product_id, t, click in zip(product_ids, ts_ms.tolist(), is_click.tolist()):
                product = products[product_id]
                if click and product.pin_started_ms is not None and t >= product.pin_started_ms:
                    product.clicks_in_pitch += 1
        self.pending.append((product_ids, ts_ms, is_click))

    def settle(self) -> None:
        """Add the clicks and add-to-carts of `count_columns` since the last call to ring and totals."""
        if not self.pending:
            return
        product_ids: list[str] = []
        for part in self.pending:
            product_ids += part[0]
        ts_ms = np.concatenate([p[1] for p in self.pending])
        is_click = np.concatenate([p[2] for p in self.pending])
        self.pending.clear()
        products = self.products
        index = np.fromiter([products[p].index for p in product_ids], np.int64, len(product_ids))
        self.ring.add_columns(ts_ms // 1000, index * CHANNELS + np.where(is_click, CLICKS, CARTS))
        count = len(self.totals)
        clicks = np.bincount(index[is_click], minlength=count).tolist()
        carts = np.bincount(index[~is_click], minlength=count).tolist()
        for i in np.flatnonzero(np.bincount(index, minlength=count)).tolist():
            totals = self.totals[i]
            totals[T_CLICKS] += clicks[i]
            totals[T_CARTS] += carts[i]

    def set_stock(self, product_id: str, ts_ms: int, stock: int) -> None:
        """Keep the newest reported stock level (by event time)."""
        product = self.get(product_id)
        self.dirty.add(product_id)
        if ts_ms >= product.stock_ms:
            product.stock_ms, product.stock = ts_ms, stock

    def pin(self, product_id: str, ts_ms: int, event_id: str) -> None:
        """Start a pitch (ending the current product's pitch at the same instant)."""
        product = self.get(product_id)
        self.dirty.add(product_id)
        if (ts_ms, event_id) <= product.pin_key:
            return
        if self.current is not None and self.current != product_id:
            self._end_pitch(self.products[self.current], ts_ms)
        product.pin_key = (ts_ms, event_id)
        if not product.pinned:
            self.settle()
            self.ring.flush()
            before = self.ring.window(ts_ms // 1000 - BIN_SECONDS, self.recent_s)
            product.baseline_clicks_per_s = float(before[product.index * CHANNELS + CLICKS]) / self.recent_s
            product.pinned = True
            product.pin_started_ms = ts_ms
            self.pitched = True
            product.pitch_count += 1
            product.clicks_in_pitch = 0
        self.current = product_id

    def unpin(self, product_id: str, ts_ms: int, event_id: str) -> None:
        """End the product's pitch."""
        product = self.get(product_id)
        if (ts_ms, event_id) <= product.pin_key:
            return
        product.pin_key = (ts_ms, event_id)
        self._end_pitch(product, ts_ms)

    def _end_pitch(self, product: Product, ts_ms: int) -> None:
        self.dirty.add(product.id)
        if product.pinned and product.pin_started_ms is not None:
            product.pitch_ms_total += max(0, ts_ms - product.pin_started_ms)
            product.last_pitch_end_ms = ts_ms
        product.pinned = False
        if self.current == product.id:
            self.current = None

    def rows(self, clock_s: int, clock_ms: int, unpaid: dict[str, int]) -> list[dict[str, Any]]:
        """Return the live table, one JSON-ready dict per product (`unpaid` from the order book)."""
        self.settle()
        self.ring.flush()
        count = len(self.totals)
        if not count:
            return []
        # Whole columns at once: one numpy pass instead of ~20 scalar conversions per product
        recent = self.ring.window(clock_s, self.recent_s)[: count * CHANNELS].reshape(count, CHANNELS)
        clicks_5m, carts_5m, orders_5m = (recent[:, c].astype(np.int64).tolist() for c in (CLICKS, CARTS, ORDERS))
        gmv_5m, qty_5m = recent[:, GMV].tolist(), recent[:, QTY].tolist()
        bucket = clock_s // BIN_SECONDS
        if bucket != self._rows_bucket:
            self._rows_bucket = bucket
            todo = list(self.products.values())
        else:
            todo = [self.products[p] for p in self.dirty]
            todo += [p for p in self.products.values() if p.pinned and p.id not in self.dirty]
        self.dirty.clear()
        for product in todo:
            i = product.index
            t = self.totals[i]
            stock = self.stock_left(product)
            velocity = qty_5m[i] / self.recent_s
            uplift = None
            pitch_ms = product.pitch_ms_total
            if product.pinned and product.pin_started_ms is not None:
                pitch_ms += max(0, clock_ms - product.pin_started_ms)
                if product.baseline_clicks_per_s:
                    elapsed = max(1.0, (clock_ms - product.pin_started_ms) / 1000)
                    uplift = round(product.clicks_in_pitch / elapsed / product.baseline_clicks_per_s - 1.0, 4)
            clicks, paid = t[T_CLICKS], t[T_PAID]
            self._rows[product.id] = {
                "product": product.id,
                "name": product.name,
                "price": product.price,
                "margin": product.margin,
                "stock": stock,
                "pinned": product.pinned,
                "pin_started_ts": product.pin_started_ms if product.pinned else None,
                "pitch_count": product.pitch_count,
                "pitch_seconds_total": round(pitch_ms / 1000, 1),
                "last_pitch_end_ts": product.last_pitch_end_ms,
                "clicks_5m": clicks_5m[i],
                "carts_5m": carts_5m[i],
                "orders_5m": orders_5m[i],
                "gmv_5m": round(gmv_5m[i], 2),
                "clicks_total": int(clicks),
                "carts_total": int(t[T_CARTS]),
                "orders_total": int(t[T_ORDERS]),
                "paid_total": int(paid),
                "unpaid": unpaid.get(product.id, 0),
                "gmv_total": round(t[T_GMV], 2),
                "refunds": int(t[T_REFUND_N]),
                "refund_amount": round(t[T_REFUNDS], 2),
                "click_to_purchase": round(paid / clicks, 4) if clicks else None,
                "sellout_eta_s": round(stock / velocity, 1) if stock is not None and velocity > 0 else None,
                "pitch_uplift": uplift,
            }
        return [self._rows[pid] for pid in self.products]  # first-seen order, whatever was rebuilt

    def stock_left(self, product: Product) -> int | None:
        """Reported stock if any, else planned stock minus items paid this session."""
        if product.stock is not None:
            return product.stock
        if product.planned_stock is not None:
            return max(0, product.planned_stock - int(self.totals[product.index][T_QTY]))
        return None

    def to_state(self) -> dict[str, Any]:
        """Return JSON-ready state."""
        self.settle()
        return {
            "products": [
                [
                    p.id,
                    p.name,
                    p.price,
                    p.margin,
                    p.planned_stock,
                    p.stock_ms,
                    p.stock,
                    p.pinned,
                    list(p.pin_key),
                    p.pin_started_ms,
                    p.pitch_count,
                    p.pitch_ms_total,
                    p.last_pitch_end_ms,
                    p.clicks_in_pitch,
                    p.baseline_clicks_per_s,
                ]
                for p in self.products.values()
            ],
            "totals": self.totals,
            "ring": self.ring.to_state(),
            "current": self.current,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load `to_state` output."""
        for index, (pid, *fields) in enumerate(data["products"]):
            # a row is the Product's fields after id and index, in order (`to_state`)
            product = self.products[pid] = Product(pid, index, *fields)
            product.pin_key = (product.pin_key[0], product.pin_key[1])  # JSON gave a list
        self.totals = [list(t) for t in data["totals"]]
        self.ring = Ring.from_state(data["ring"])
        self.current = data["current"]
        self.pitched = any(p.pin_started_ms is not None for p in self.products.values())
