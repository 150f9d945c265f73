"""Carts that don't convert: a product gets carted a lot but hardly bought.

This is a prompt, not an outage: viewers want the product but hesitate at the price,
so the host can re-pitch or offer a coupon. Judged per product over a 5-minute window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin
from monitor.detectors.condition import Condition, Severity, labels


@dataclass(frozen=True, slots=True)
class CartsConfig:
    """Carts/clicks ≥ `min_cart_rate` while orders/carts ≤ `max_order_rate`, with volume gates."""

    window_bins: int = 30
    min_clicks: int = 30
    min_carts: int = 20
    min_cart_rate: float = 0.15
    max_order_rate: float = 0.10

    def __post_init__(self) -> None:
        if self.window_bins < 1 or self.min_clicks < 1 or self.min_carts < 1:
            raise ValueError("window_bins, min_clicks and min_carts: expected >= 1")
        if not 0 < self.min_cart_rate <= 1 or not 0 <= self.max_order_rate < 1:
            raise ValueError("min_cart_rate in (0, 1] and max_order_rate in [0, 1) are required")


RULE = "carts_not_converting"


class CartsDetector:
    """Per-product rolling funnel counts for one session."""

    def __init__(self, config: CartsConfig) -> None:
        self.config = config
        self.windows: dict[str, deque[tuple[int, int, int]]] = {}

    def observe(self, b: Bin) -> list[Condition]:
        """Return one condition per product whose carts are not turning into orders."""
        cfg = self.config
        seen = {p.product: p for p in b.products}
        for product in seen.keys() | self.windows.keys():
            p = seen.get(product)
            window = self.windows.setdefault(product, deque(maxlen=cfg.window_bins))
            window.append((p.clicks, p.carts, p.orders) if p else (0, 0, 0))
        out = []
        for product, window in list(self.windows.items()):
            clicks = sum(w[0] for w in window)
            carts = sum(w[1] for w in window)
            orders = sum(w[2] for w in window)
            if clicks == carts == orders == 0:
                del self.windows[product]  # forget products gone quiet for a whole window
                continue
            if clicks < cfg.min_clicks or carts < cfg.min_carts:
                continue
            cart_rate, order_rate = carts / clicks, orders / carts
            if cart_rate >= cfg.min_cart_rate and order_rate <= cfg.max_order_rate:
                out.append(
                    Condition(
                        rule=RULE,
                        session=b.session,
                        severity=Severity.INFO,
                        value=round(order_rate, 4),
                        threshold=cfg.max_order_rate,
                        summary=f"{b.label_of(product)}: {cart_rate:.0%} of clicks "
                        f"add to cart but only {order_rate:.0%} of carts are bought — re-pitch or offer a coupon",
                        labels=labels(product=product),
                        evidence=({"clicks": clicks, "carts": carts, "orders": orders,
                                   "window_s": cfg.window_bins * 10},),
                    )
                )
        return out

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"windows": {p: [list(w) for w in window] for p, window in self.windows.items()}}

    @classmethod
    def from_state(cls, config: CartsConfig, data: dict[str, Any]) -> CartsDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        for product, rows in data["windows"].items():
            det.windows[product] = deque(((int(a), int(b), int(c)) for a, b, c in rows), maxlen=config.window_bins)
        return det
