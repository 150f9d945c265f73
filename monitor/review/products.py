"""The per-product table of a finished session, with in-pitch figures.

"In pitch" means during that product's own pitches. A click or payment is placed in a
pitch by a binary search over pitch start times (pitches never overlap: one product is
explained at a time), so the table costs O(events · log pitches).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from monitor.metrics import ratio
from monitor.review.comments import CommentFacts
from monitor.review.facts import Facts, Pitch
from monitor.review.model import ProductRow

IntArray = npt.NDArray[np.int64]


def product_order(facts: Facts) -> list[str]:
    """Planned products in run-of-show order, then the others by first appearance."""
    order = dict.fromkeys(facts.planned)
    seen = ([p for _, _, p, _ in facts.pins], [p for _, p in facts.clicks], [p for _, p in facts.carts],
            [p for _, p, _ in facts.orders])
    for products in seen:
        for product in products:
            if product and product not in order:
                order[product] = None
    return list(order)


class _Columns:
    """Product ids as integer codes, and the pitched product at any time, as arrays."""

    def __init__(self, products: list[str], pitches: list[Pitch]) -> None:
        self.code = {p: i for i, p in enumerate(products)}
        self.size = len(products)
        self.starts = np.array([p.start_ms for p in pitches], dtype=np.int64)
        self.ends = np.array([p.end_ms for p in pitches], dtype=np.int64)
        self.pitched = np.array([self.code.get(p.product, -1) for p in pitches], dtype=np.int64)

    def codes(self, products: Sequence[str]) -> IntArray:
        get = self.code.get
        return np.fromiter((get(p, -1) for p in products), np.int64, len(products))

    def pitched_at(self, ts: IntArray) -> IntArray:
        """Code of the product pitched at each time, -1 between pitches."""
        if not len(self.starts):
            return np.full(len(ts), -1, dtype=np.int64)
        i = np.searchsorted(self.starts, ts, "right") - 1
        inside = (i >= 0) & (ts < self.ends[np.maximum(i, 0)])
        return np.where(inside, self.pitched[np.maximum(i, 0)], -1)

    def totals(self, rows: Sequence[tuple[int, str]] | Sequence[tuple[int, str, float]],
               weighted: bool) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Per product: all of it, and the part inside the product's own pitches."""
        if not rows:
            return np.zeros(self.size), np.zeros(self.size)
        ts = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        codes = self.codes([r[1] for r in rows])
        if weighted:
            weights = np.fromiter((r[2] for r in rows), np.float64, len(rows))  # type: ignore[misc]
        else:
            weights = np.ones(len(rows))
        known = codes >= 0
        total = np.bincount(codes[known], weights[known], minlength=self.size)
        own = known & (self.pitched_at(ts) == codes)
        inside = np.bincount(codes[own], weights[own], minlength=self.size)
        return total.astype(np.float64), inside.astype(np.float64)


def product_rows(facts: Facts, said: CommentFacts) -> list[ProductRow]:
    """Build the table; rows follow the run of show."""
    products = product_order(facts)
    cols = _Columns(products, facts.pitches)
    clicks, clicks_in = cols.totals(facts.clicks, weighted=False)
    carts, _ = cols.totals(facts.carts, weighted=False)
    orders, _ = cols.totals(facts.orders, weighted=True)
    paid, paid_in = cols.totals(facts.paid, weighted=True)
    gmv, _ = cols.totals(facts.gmv, weighted=True)
    pitch_ms = np.zeros(cols.size)
    pitch_n = np.zeros(cols.size, dtype=np.int64)
    for p in facts.pitches:
        pitch_ms[cols.code[p.product]] += p.end_ms - p.start_ms
        pitch_n[cols.code[p.product]] += 1
    session_min = max(facts.end_ms - facts.start_ms, 1) / 60_000
    sellout = sellout_times(facts)
    rows = []
    for i, product in enumerate(products):
        pitch_min = pitch_ms[i] / 60_000
        outside_min = session_min - pitch_min
        uplift = None
        if pitch_min > 0 and outside_min > 0 and clicks[i] - clicks_in[i] > 0:
            uplift = round(float((clicks_in[i] / pitch_min) / ((clicks[i] - clicks_in[i]) / outside_min) - 1), 4)
        rows.append(ProductRow(
            product=product,
            name=facts.names.get(product, product),
            price=facts.prices.get(product),
            pitch_count=int(pitch_n[i]),
            pitch_s=round(float(pitch_ms[i]) / 1000, 1),
            clicks=int(clicks[i]),
            carts=int(carts[i]),
            orders=int(orders[i]),
            paid=int(paid[i]),
            unpaid=facts.unpaid_by_product.get(product, 0),
            gmv=round(float(gmv[i]), 2),
            gmv_per_pitch_min=ratio(float(gmv[i]), float(pitch_min), 2),
            click_to_purchase=ratio(float(paid[i]), float(clicks[i])),
            purchase_rate_in_pitch=ratio(float(paid_in[i]), float(clicks_in[i])),
            uplift=uplift,
            sellout_s=sellout.get(product),
            complaints=said.complaints.get(product, 0),
            questions=said.questions.get(product, 0),
        ))
    return rows


def sellout_times(facts: Facts) -> dict[str, float]:
    """Seconds from the start until each product sold out: a reported stock of 0, else planned stock paid for."""
    out: dict[str, float] = {}
    for ts, product, stock in facts.stock:  # sorted by time: the first zero wins
        if stock == 0 and product not in out:
            out[product] = round((ts - facts.start_ms) / 1000, 1)
    sold: dict[str, float] = {}
    for ts, product, qty in facts.qty:
        if product in out or product not in facts.planned_stock:
            continue
        sold[product] = sold.get(product, 0.0) + qty
        if sold[product] >= facts.planned_stock[product] > 0:
            out[product] = round((ts - facts.start_ms) / 1000, 1)
    return out
