"""What livemon has learnt about each product's selling power: funnel posteriors from counts.

Orders per pitch-minute are learnt as three stages, each with a conjugate posterior:
clicks per pitch-minute (Gamma-Poisson), carts per click and orders per cart
(Beta-Binomial). Clicks are ten to twenty times as frequent as orders, so the funnel learns
far faster than counting orders alone. Evidence while a product is pinned counts against
pitch-minutes; while it is not pinned, against `background_share` of the minutes (the
shopping bag still sells a little, which is free evidence about products not pitched yet).
Minutes are multiplied by the audience in thousands when it is known, so a product pitched
while the room was still filling up is not written off. Evidence halves every `half_life_s`.

Repeats tire the audience: a product's pull is taken as `1 / (1 + exposure / fatigue_scale_s)`,
with `exposure` its pitched seconds halving every `fatigue_half_life_s`. Pinned minutes count
at that factor, so the rate learnt is the product's fresh rate (a best seller pitched five
times is not mistaken for a weak one), and `fatigue` predicts the factor for the next pitch.

Priors come from the catalogue model (`monitor.catalogue_model`, when `spread_prior > 0`):
each stage fitted across the session's other products, log-linear in log price, so the
products already pitched say how price matters and how far one product's few counts should
move it. With `spread_prior = 0` they are the session's pooled figures, the cart share scaled
by a fixed price exponent. The results of earlier sessions (`PriorResult`) are added to either.

Draws are tempered (`SuggestionConfig.exploration`): a 2-hour show has about 40 slots for a dozen products,
too short a horizon for plain Thompson sampling to pay back its exploration.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from monitor.catalogue_model import fit_catalogue, log_rate
from monitor.product_signals import ProductSignals
from monitor.suggestion_config import SuggestionConfig

Posterior = tuple[tuple[float, float], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class PriorResult:
    """A product's results in earlier sessions: funnel counts over pitch-minute equivalents.

    `pitch_minutes` is multiplied by the audience in thousands when the session passed one.
    """

    pitch_minutes: float
    clicks: float
    carts: float
    orders: float


@dataclass(frozen=True, slots=True)
class Pooled:
    """Session-wide funnel figures the priors start from, computed once per tick."""

    click_rate: float  # clicks per pitch-minute
    cart_share: float  # carts per click
    order_share: float  # orders per cart
    median_price: float | None
    # Per product: the catalogue model's leave-one-out priors (Gamma on clicks, Betas on the
    # shares), or None when `spread_prior` is 0 and the pooled figures above are the priors.
    catalogue: Mapping[str, Posterior] | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """What changed for one product since the previous tick, for pin attribution."""

    product: str
    gmv: float  # GMV added since the previous tick
    new_pin: bool  # the product was pinned anew


@dataclass(slots=True)
class _Arm:
    """Mutable learning state of one product: decayed funnel counts and last seen totals."""

    clicks: float = 0.0  # decayed clicks...
    exposure: float = 0.0  # ...over decayed pitch-minute equivalents (× audience in thousands)
    carts: float = 0.0  # decayed carts (out of `clicks`)
    orders: float = 0.0  # decayed orders (out of `carts`)
    seen: tuple[int, int, int, float] = (0, 0, 0, 0.0)  # last totals: clicks, carts, orders, GMV
    pin_started: float | None = None  # start of the current pin as first seen, None when unpinned
    pitched: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # undecayed, see `results()`
    tiring: float = 0.0  # pitched seconds halving every `fatigue_half_life_s`: the audience's weariness


def _pull(tiring: float, pitch_s: float, c: SuggestionConfig) -> float:
    """Mean `1 / (1 + exposure / fatigue_scale_s)` over a pitch of `pitch_s` from `tiring` (Simpson's rule)."""
    def at(t: float) -> float:
        # Annotated: typeshed types float ** float as Any (a negative base gives a complex); 0.5 ** x is real.
        exposure: float = tiring * 0.5 ** (t / c.fatigue_half_life_s) + t
        return 1.0 / (1.0 + exposure / c.fatigue_scale_s)

    return (at(0.0) + 4.0 * at(pitch_s / 2.0) + at(pitch_s)) / 6.0


def _tiring_before(s: ProductSignals, now: float, c: SuggestionConfig) -> float:
    """Weariness from pitches before the first observation, as if all were at the last one (an upper bound)."""
    if s.pinned:
        current = now - s.pin_started_ts if s.pin_started_ts is not None else 0.0
        return max(s.pitch_seconds_total, current)
    if s.last_pitch_end_ts is None:
        return 0.0
    halved: float = 0.5 ** (max(0.0, now - s.last_pitch_end_ts) / c.fatigue_half_life_s)  # real; see `_pull`
    return s.pitch_seconds_total * halved


class FunnelBeliefs:
    """Funnel posteriors of one session's products."""

    def __init__(self, config: SuggestionConfig, earlier: Mapping[str, PriorResult] | None = None) -> None:
        self.config = config
        self.earlier = dict(earlier or {})
        self._arms: dict[str, _Arm] = {}
        self._last_now: float | None = None

    def observe(self, signals: Sequence[ProductSignals], now: float, scale: float) -> list[Observation]:
        """Fold the counts added since the previous call into the posteriors.

        Evidence accrues from the first call that sees a product: earlier totals carry no pin
        history, so they are taken as the starting point rather than as evidence.
        """
        c = self.config
        dt = 0.0 if self._last_now is None else max(0.0, now - self._last_now)
        self._last_now = now
        decay = 0.5 ** (dt / c.half_life_s)
        out = []
        for s in signals:
            arm = self._arms.get(s.product)
            if arm is None:
                arm = self._arms[s.product] = _Arm(seen=(s.clicks_total, s.carts_total, s.orders_total, s.gmv_total))
                arm.tiring = _tiring_before(s, now, c)
            d_clicks = max(0, s.clicks_total - arm.seen[0])
            d_carts = max(0, s.carts_total - arm.seen[1])
            d_orders = max(0, s.orders_total - arm.seen[2])
            d_gmv = max(0.0, s.gmv_total - arm.seen[3])
            arm.clicks = arm.clicks * decay + d_clicks
            pull = _pull(arm.tiring, dt, c) if s.pinned else c.background_share
            arm.exposure = arm.exposure * decay + dt / 60.0 * scale * pull
            arm.tiring = arm.tiring * 0.5 ** (dt / c.fatigue_half_life_s) + (dt if s.pinned else 0.0)
            arm.carts = arm.carts * decay + d_carts
            arm.orders = arm.orders * decay + d_orders
            arm.seen = (s.clicks_total, s.carts_total, s.orders_total, s.gmv_total)
            new_pin = False
            if s.pinned:
                m, k, t, o = arm.pitched
                arm.pitched = (m + dt / 60.0 * scale, k + d_clicks, t + d_carts, o + d_orders)
                started = s.pin_started_ts if s.pin_started_ts is not None else arm.pin_started
                if arm.pin_started is None or started != arm.pin_started:
                    arm.pin_started = started if started is not None else now
                    new_pin = True
            else:
                arm.pin_started = None
            out.append(Observation(s.product, d_gmv, new_pin))
        return out

    def pin_started(self, product: str) -> float | None:
        """Start of the product's current pin as first seen, None when it is not pinned."""
        arm = self._arms.get(product)
        return arm.pin_started if arm else None

    def fatigue(self, product: str, pitch_s: float) -> float:
        """Mean pull of a pitch of `pitch_s` starting now, relative to a product never pitched."""
        arm = self._arms.get(product)
        tiring = arm.tiring if arm else 0.0
        c = self.config
        return _pull(tiring, pitch_s, c) / _pull(0.0, pitch_s, c)

    def pooled(self, signals: Sequence[ProductSignals]) -> Pooled:
        """The session's pooled funnel figures, each with its default as a weak prior."""
        c = self.config
        arms = self._arms.values()
        clicks, carts = sum(a.clicks for a in arms), sum(a.carts for a in arms)
        prices = [x.price for x in signals if x.price]
        k = c.funnel_prior_strength
        pooled = Pooled(
            click_rate=(clicks + c.default_clicks_per_min * c.prior_strength)
            / (sum(a.exposure for a in arms) + c.prior_strength),
            cart_share=(carts + c.default_cart_share * k) / (clicks + k),
            order_share=(sum(a.orders for a in arms) + c.default_order_share * k) / (carts + k),
            median_price=float(np.median(prices)) if prices else None,
        )
        if c.spread_prior <= 0:
            return pooled
        return replace(pooled, catalogue=self._catalogue(signals, pooled))

    def _catalogue(self, signals: Sequence[ProductSignals], pooled: Pooled) -> dict[str, Posterior]:
        """Each product's priors from the catalogue model fitted to the other products' counts.

        The three stages are fitted apart, each log-linear in log price: the slope of the cart
        share starts at `-price_elasticity` and the others at 0, each with sd `slope_prior_sd`,
        so the session's own products say how price matters here.
        """
        c = self.config
        known = [s for s in signals if s.product in self._arms]
        arms = [self._arms[s.product] for s in known]
        median = pooled.median_price
        x = [math.log(s.price / median) if s.price and median else 0.0 for s in known]
        stages = (
            ([(a.clicks, a.exposure) for a in arms], pooled.click_rate, 0.0, False),
            ([(a.carts, a.clicks) for a in arms], pooled.cart_share, -c.price_elasticity, True),
            ([(a.orders, a.carts) for a in arms], pooled.order_share, 0.0, True),
        )
        fits = []
        for counts, guess, slope, share in stages:
            observed = [log_rate(k, n, guess, share) for k, n in counts]
            # The line is the median of a log-normal catalogue; its mean is the pooled `guess`.
            alpha_prior = (math.log(guess) - c.spread_prior**2 / 2.0, 1.0)
            fit = fit_catalogue([o[0] for o in observed], [o[1] for o in observed], x, alpha_prior,
                                (slope, c.slope_prior_sd), c.spread_prior, c.spread_weight)
            fits.append(fit.priors)
        return {s.product: (fits[0][i].gamma(), fits[1][i].beta(), fits[2][i].beta()) for i, s in enumerate(known)}

    def posterior(self, s: ProductSignals, pooled: Pooled) -> Posterior:
        """Gamma (shape, rate) on clicks per pitch-minute, Beta (a, b) on carts per click and on
        orders per cart.

        Priors: the catalogue model's leave-one-out fit when `spread_prior > 0`; otherwise
        the pooled click rate worth `prior_strength` pitch-minutes, the pooled shares
        worth `funnel_prior_strength` clicks or carts, the cart share scaled by
        `(median price / price) ** price_elasticity` (cheaper converts more); earlier
        sessions add their counts times `earlier_session_weight`.
        """
        c = self.config
        arm = self._arms[s.product]
        prior = pooled.catalogue.get(s.product) if pooled.catalogue is not None else None
        if prior is not None:
            (ks, kr), (ca, cb), (oa, ob) = prior
            return self._with_earlier(s, [ks + arm.clicks, kr + arm.exposure],
                                      [ca + arm.carts, cb + max(0.0, arm.clicks - arm.carts)],
                                      [oa + arm.orders, ob + max(0.0, arm.carts - arm.orders)])
        cart_share = pooled.cart_share
        if s.price and pooled.median_price:
            cart_share *= (pooled.median_price / s.price) ** c.price_elasticity
        cart_share = min(0.95, max(0.001, cart_share))
        k = c.funnel_prior_strength
        clicks = [c.prior_strength * pooled.click_rate + arm.clicks, c.prior_strength + arm.exposure]
        carts = [k * cart_share + arm.carts, k * (1.0 - cart_share) + max(0.0, arm.clicks - arm.carts)]
        orders = [k * pooled.order_share + arm.orders,
                  k * (1.0 - pooled.order_share) + max(0.0, arm.carts - arm.orders)]
        return self._with_earlier(s, clicks, carts, orders)

    def _with_earlier(self, s: ProductSignals, clicks: list[float], carts: list[float],
                      orders: list[float]) -> Posterior:
        """Add earlier sessions' counts, weighted by `earlier_session_weight`."""
        c = self.config
        earlier = self.earlier.get(s.product)
        if earlier is not None:
            w = c.earlier_session_weight
            clicks[0] += w * earlier.clicks
            clicks[1] += w * earlier.pitch_minutes
            carts[0] += w * earlier.carts
            carts[1] += w * max(0.0, earlier.clicks - earlier.carts)
            orders[0] += w * earlier.orders
            orders[1] += w * max(0.0, earlier.carts - earlier.orders)
        return (clicks[0], clicks[1]), (carts[0], carts[1]), (orders[0], orders[1])

    def mean_rate(self, s: ProductSignals, pooled: Pooled) -> float:
        """Posterior mean orders per pitch-minute (per 1,000 viewers when an audience is given)."""
        (ks, kr), (ca, cb), (oa, ob) = self.posterior(s, pooled)
        return ks / kr * ca / (ca + cb) * oa / (oa + ob)

    def sample(self, s: ProductSignals, pooled: Pooled, z: float) -> float:
        """Thompson draw of orders per pitch-minute at the standard-normal quantile `z`.

        The product of a Gamma and two Betas is matched by a log-normal with the same mean and
        squared coefficient of variation (the stages' CV² add, to first order), so one normal
        score per product is enough and a held `z` follows the evidence between redraws. The
        log-scale spread is tempered by `exploration`, keeping the mean.
        """
        (ks, kr), (ca, cb), (oa, ob) = self.posterior(s, pooled)
        mean = ks / kr * ca / (ca + cb) * oa / (oa + ob)
        cv2 = 1.0 / ks + cb / (ca * (ca + cb + 1.0)) + ob / (oa * (oa + ob + 1.0))
        sigma = self.config.exploration * math.sqrt(math.log1p(cv2))
        return mean * math.exp(sigma * z - sigma * sigma / 2.0)

    def results(self) -> dict[str, PriorResult]:
        """This session's pitched results per product, to pass as `earlier` next time."""
        return {p: PriorResult(*a.pitched) for p, a in self._arms.items()}

    def to_state(self) -> dict[str, Any]:
        """JSON-ready learning state."""
        return {
            "earlier": {p: [r.pitch_minutes, r.clicks, r.carts, r.orders] for p, r in self.earlier.items()},
            "arms": {
                p: [a.clicks, a.exposure, a.carts, a.orders, list(a.seen), a.pin_started, list(a.pitched), a.tiring]
                for p, a in self._arms.items()
            },
            "last_now": self._last_now,
        }

    @classmethod
    def from_state(cls, config: SuggestionConfig, state: Mapping[str, Any]) -> FunnelBeliefs:
        """Rebuild from `to_state` output."""
        earlier = {p: PriorResult(*map(float, r)) for p, r in state["earlier"].items()}
        out = cls(config, earlier)
        for product, raw in state["arms"].items():
            clicks, exposure, carts, orders, seen, pin, pitched = raw[:7]
            k, t, o, g = seen
            m, pk, pt, po = pitched
            tiring = float(raw[7]) if len(raw) > 7 else 0.0  # checkpoints before fatigue tracking: rested
            out._arms[product] = _Arm(clicks, exposure, carts, orders, (int(k), int(t), int(o), float(g)), pin,
                                      (m, pk, pt, po), tiring)
        out._last_now = state["last_now"]
        return out
