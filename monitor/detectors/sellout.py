"""Sell-out risk: stock will run out within minutes at the current order pace, or a
pinned product is already out of stock (the host is pitching what nobody can buy).

A pace read from two or three orders is noise: on a scarce product (a few units left) one
lucky minute projects a sell-out that never comes. So the risk needs `min_orders` in the
velocity window (a Poisson count of 6 is known to about ±40 %) before it is projected;
a product with fewer orders is caught by the out-of-stock rule if it does run out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.condition import Condition, Severity, labels

RULE = "sellout_risk"
OUT_RULE = "out_of_stock_pinned"


@dataclass(frozen=True, slots=True)
class SelloutConfig:
    """Risk when stock ÷ orders-per-minute (over `velocity_bins`) < `min_minutes_left`."""

    min_minutes_left: float = 5.0
    velocity_bins: int = 12
    min_orders_per_min: float = 1.0
    min_orders: int = 6  # orders in the window before the pace is trusted

    def __post_init__(self) -> None:
        if self.min_minutes_left <= 0 or self.velocity_bins < 1 or self.min_orders_per_min <= 0:
            raise ValueError("min_minutes_left > 0, velocity_bins >= 1 and min_orders_per_min > 0 are required")
        if self.min_orders < 1:
            raise ValueError(f"min_orders: expected >= 1, got {self.min_orders}")


class SelloutDetector:
    """Per-product last known stock and recent orders for one session."""

    def __init__(self, config: SelloutConfig) -> None:
        self.config = config
        self.stock: dict[str, int] = {}
        self.orders: dict[str, deque[int]] = {}

    def observe(self, b: Bin) -> list[Condition]:
        """Return sell-out and out-of-stock conditions for this bin's products."""
        cfg = self.config
        seen = {p.product: p for p in b.products}
        for product in seen.keys() | self.orders.keys():
            p = seen.get(product)
            self.orders.setdefault(product, deque(maxlen=cfg.velocity_bins)).append(p.orders if p else 0)
            if p is not None and p.stock is not None:
                self.stock[product] = p.stock
        out = []
        for product, p in seen.items():
            stock = self.stock.get(product)
            if stock is None:
                continue
            if stock == 0 and p.pinned:
                out.append(Condition(
                    rule=OUT_RULE, session=b.session, severity=Severity.CRITICAL, value=0.0, threshold=0.0,
                    summary=f"{p.label} is pinned but out of stock", labels=labels(product=product),
                    evidence=({"stock": 0, "pinned": True},),
                ))
                continue
            # divide by the full window, not the bins seen so far: one early order is not a pace
            recent = sum(self.orders[product])
            per_min = recent * 60 / (cfg.velocity_bins * BIN_SECONDS)
            if stock == 0 or per_min < cfg.min_orders_per_min or recent < cfg.min_orders:
                continue
            minutes = stock / per_min
            if minutes < cfg.min_minutes_left:
                out.append(Condition(
                    rule=RULE, session=b.session, severity=Severity.WARNING, value=round(minutes, 2),
                    threshold=cfg.min_minutes_left,
                    summary=f"{p.label} sells out in about {minutes:.1f} min ({stock} left, {per_min:.0f} orders/min)",
                    labels=labels(product=product),
                    evidence=({"stock": stock, "orders_per_min": round(per_min, 2)},),
                ))
        for product in [q for q, w in self.orders.items() if not any(w) and q not in seen]:
            del self.orders[product]
        return out

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"stock": self.stock, "orders": {p: list(w) for p, w in self.orders.items()}}

    @classmethod
    def from_state(cls, config: SelloutConfig, data: dict[str, Any]) -> SelloutDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.stock = {p: int(s) for p, s in data["stock"].items()}
        for product, rows in data["orders"].items():
            det.orders[product] = deque((int(r) for r in rows), maxlen=config.velocity_bins)
        return det
