"""A seeded live-shopping market: how viewers respond to the product the host pitches.

This is the hidden world used to evaluate product suggestions (`bench/reorder.py`) and to
drive the event simulator. Livemon itself never sees `appeal` or `conversion`; it sees only
the counts a `MarketStep` reports (clicks, carts, orders, payments, stock), as a platform
would.

The model, per product and step of `dt` seconds::

    effect   = pinned ? ramp(τ) · exp(-τ / pitch_decay_s) · fatigue : background_effect
    ramp(τ)  = 1 - exp(-τ / ramp_s)             τ = seconds since this pin started
    fatigue  = 1 / (1 + exposure / fatigue_scale_s)
    exposure = pitched seconds of this product, halving every fatigue_half_life_s
    clicks   ~ Poisson(viewers/1000 · appeal · effect · dt/60)
    carts    ~ Binomial(clicks, cart_p);  orders ~ Binomial(carts, conversion'/cart_p)
    conversion' = conversion · (median_price / price) ** price_elasticity
    orders are capped by stock; each is paid at once with pay_share, else stays unpaid (压单)
    until a later pitch reminds the buyer (pay_later_per_pitch_min).

So a long pitch has diminishing returns (the exp decay: the reference's inverted-U stay
effect), a repeat shortly after the last one sells less (fatigue), and sell-outs end sales.
All randomness comes from the numpy Generator passed in, so a seed replays a session exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class MarketConfig:
    """Shape of the simulated audience and products. Defaults give a ~2-hour, 12-product show."""

    n_products: int = 12
    duration_s: float = 7200.0
    base_viewers: float = 800.0
    viewer_ramp_s: float = 600.0
    viewer_noise: float = 0.05
    price_median: float = 99.0
    price_sigma: float = 0.6
    appeal_median: float = 30.0
    appeal_sigma: float = 0.7
    conversion_median: float = 0.06
    conversion_sigma: float = 0.5
    price_elasticity: float = 0.8
    stock_min: int = 30
    stock_max: int = 200
    pay_share: float = 0.85
    pay_later_per_pitch_min: float = 0.2
    background_effect: float = 0.03
    ramp_s: float = 20.0
    pitch_decay_s: float = 240.0
    fatigue_scale_s: float = 900.0
    fatigue_half_life_s: float = 900.0

    def __post_init__(self) -> None:
        if self.n_products < 1:
            raise ValueError(f"n_products: expected >= 1, got {self.n_products}")
        if not 0 < self.stock_min <= self.stock_max:
            raise ValueError(f"stock_min/stock_max: expected 0 < min <= max, got {self.stock_min}/{self.stock_max}")
        for name in ("duration_s", "base_viewers", "price_median", "appeal_median", "ramp_s", "pitch_decay_s",
                     "fatigue_scale_s", "fatigue_half_life_s", "viewer_ramp_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}: expected > 0, got {getattr(self, name)}")
        for name in ("conversion_median", "pay_share", "pay_later_per_pitch_min", "background_effect"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name}: expected between 0 and 1, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class MarketProduct:
    """One product. `appeal` and `conversion` are hidden from livemon."""

    product: str
    name: str
    price: float
    stock: int
    margin: float
    appeal: float
    conversion: float


@dataclass(frozen=True, slots=True)
class ProductOutcome:
    """What one product did during one step, as a platform would report it."""

    product: str
    clicks: int
    carts: int
    orders: int
    paid: int
    gmv: float
    stock: int
    unpaid: int


@dataclass(frozen=True, slots=True)
class MarketStep:
    """One step of the session: [start, start + dt) in epoch seconds."""

    start: float
    dt: float
    viewers: int
    pinned: str | None
    outcomes: tuple[ProductOutcome, ...]

    @property
    def gmv(self) -> float:
        """GMV paid during the step, all products."""
        return sum(o.gmv for o in self.outcomes)


def generate_products(config: MarketConfig, rng: np.random.Generator) -> tuple[MarketProduct, ...]:
    """Draw a catalogue: log-normal prices, appeal and conversion, uniform stock and margin."""
    n = config.n_products
    prices = np.round(config.price_median * rng.lognormal(0.0, config.price_sigma, n), 0) + 0.9
    appeal = config.appeal_median * rng.lognormal(0.0, config.appeal_sigma, n)
    conversion = np.minimum(0.5, config.conversion_median * rng.lognormal(0.0, config.conversion_sigma, n))
    stock = rng.integers(config.stock_min, config.stock_max + 1, n)
    margin = rng.uniform(0.1, 0.5, n)
    return tuple(
        MarketProduct(
            product=f"p{i + 1:02d}",
            name=f"product {i + 1}",
            price=float(prices[i]),
            stock=int(stock[i]),
            margin=round(float(margin[i]), 3),
            appeal=float(appeal[i]),
            conversion=float(conversion[i]),
        )
        for i in range(n)
    )


class Market:
    """The audience of one session, advanced step by step with the host's pinned product."""

    def __init__(
        self,
        products: tuple[MarketProduct, ...],
        config: MarketConfig,
        rng: np.random.Generator,
        start: float,
    ) -> None:
        self.products = products
        self.config = config
        self.rng = rng
        self.start = start
        self.now = start
        self._index = {p.product: i for i, p in enumerate(products)}
        self._price = np.array([p.price for p in products])
        self._appeal = np.array([p.appeal for p in products])
        median = float(np.median(self._price))
        conv = np.array([p.conversion for p in products]) * (median / self._price) ** config.price_elasticity
        self._cart_p = np.minimum(0.9, 2.5 * conv)
        self._order_p = np.minimum(1.0, conv / self._cart_p)
        self.stock = np.array([p.stock for p in products], dtype=np.int64)
        self.unpaid = np.zeros(len(products), dtype=np.int64)
        self._exposure = np.zeros(len(products))
        self._viewer_level = 1.0
        self._pinned: str | None = None
        self._pin_started = start

    def viewers(self) -> int:
        """Online viewers now: a ramp-up over the first minutes, a slow fade, AR(1) noise."""
        c = self.config
        elapsed = self.now - self.start
        ramp = min(1.0, (elapsed + 60.0) / c.viewer_ramp_s)
        fade = 1.0 - 0.25 * min(1.0, elapsed / c.duration_s)
        return max(1, int(c.base_viewers * ramp * fade * self._viewer_level))

    def step(self, pinned: str | None, dt: float) -> MarketStep:
        """Advance `dt` seconds with `pinned` on screen (None: nothing pinned).

        Raises:
            KeyError: `pinned` is not a product of this market.
        """
        c = self.config
        if pinned is not None and pinned not in self._index:
            raise KeyError(f"pinned: expected one of this market's products, got {pinned!r}")
        if pinned != self._pinned:
            self._pinned, self._pin_started = pinned, self.now
        self._viewer_level = max(0.5, 1.0 + 0.9 * (self._viewer_level - 1.0) + self.rng.normal(0.0, c.viewer_noise))
        viewers = self.viewers()
        effect = np.full(len(self.products), c.background_effect)
        self._exposure *= 0.5 ** (dt / c.fatigue_half_life_s)
        pin_i = self._index[pinned] if pinned is not None else -1
        if pin_i >= 0:
            tau = self.now - self._pin_started + dt / 2.0
            fatigue = 1.0 / (1.0 + self._exposure[pin_i] / c.fatigue_scale_s)
            effect[pin_i] = (1.0 - math.exp(-tau / c.ramp_s)) * math.exp(-tau / c.pitch_decay_s) * fatigue
            self._exposure[pin_i] += dt
        clicks = self.rng.poisson(viewers / 1000.0 * self._appeal * effect * dt / 60.0)
        carts = self.rng.binomial(clicks, self._cart_p)
        orders = np.minimum(self.rng.binomial(carts, self._order_p), self.stock)
        self.stock -= orders
        paid = self.rng.binomial(orders, c.pay_share)
        self.unpaid += orders - paid
        if pin_i >= 0 and self.unpaid[pin_i] > 0:
            late = self.rng.binomial(self.unpaid[pin_i], min(1.0, c.pay_later_per_pitch_min * dt / 60.0))
            self.unpaid[pin_i] -= late
            paid[pin_i] += late
        outcomes = tuple(
            ProductOutcome(
                product=p.product,
                clicks=int(clicks[i]),
                carts=int(carts[i]),
                orders=int(orders[i]),
                paid=int(paid[i]),
                gmv=round(float(paid[i]) * p.price, 2),
                stock=int(self.stock[i]),
                unpaid=int(self.unpaid[i]),
            )
            for i, p in enumerate(self.products)
        )
        step = MarketStep(start=self.now, dt=dt, viewers=viewers, pinned=pinned, outcomes=outcomes)
        self.now += dt
        return step
