"""Conversion drop: session-wide downward binomial CUSUMs on cart→order and click→order,
with each product's expected rate shrunk toward the session's, a per-product test for a
large drop of one product, and a "checkout broken" guard.

A fall in checkout conversion is often session-wide (payment friction, a coupon that
stopped applying) even though every product converts at its own rate. So there is one
statistic per step for the whole session, and each bin adds the evidence of every product
that had trials in it:

    S_t = clamp(S_{t−1} + Σ_p llr(x_p of n_p | ref_p against (1 − drop)·ref_p))

A product switch does not reset S; it only changes whose rate is expected. That rate is
empirical Bayes: the product's own EW counts (kept across its pitches) pooled with the
session's share R worth `k` pseudo-trials, `k` set by the prior spread of products around
the session (`cart_spread`, `click_spread`, coefficients of variation):

    r_p = (orders_p + k·R) / (trials_p + k)        k = (1 − R) / (R·cv²) − 1

The test uses the lower confidence bound ``r_p − z·sd_p`` of that posterior, so an unseen
product is judged leniently (about `cv` below the session) and a well-known one almost at
its own rate. A product's first `product_warmup_bins` bins with trials teach its own rate
untested (a new product that converts half as well is not a drop), unless S was already
half-way to `h` (then they are evidence of a drop that began before the switch). (The
previous design re-learnt each product from scratch on every switch, so a drop in a
product's first pitch or in a small room was never tested; docs/alerts.md.)

One product can also fail alone (a broken link, a wrong price): its evidence is diluted
in S by the products that still sell, so each product has its own CUSUM designed for a
large drop (`sharp_drop`, `sharp_h`), labelled with the product.

Orders trail carts by seconds to minutes, so a per-bin ratio is noisy; the CUSUMs
accumulate evidence across bins instead. Bins reach the baselines only after a guard
band of `baseline_lag_bins`: a drop gets that long to build evidence before the adaptive
baselines learn it as normal; bins seen while a statistic is over its threshold never do.

The guard needs no CUSUM: carts in a row without any order have probability
``Π_p (1 − ref_p)^{n_p}`` at the products' expected rates; below `broken_tail` the payment
path is broken — this fires in tens of seconds where the CUSUM would take minutes.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from monitor.bins import Bin
from monitor.detectors.baseline import ShareBaseline, decay_for
from monitor.detectors.condition import Condition, Severity, labels
from monitor.detectors.cusum import zero_order_run_needed

RULE = "conversion_drop"
BROKEN_RULE = "checkout_broken"
STEPS = ("cart_to_order", "click_to_order")
_OTHER = ""  # funnel counts of a bin not attributed to any product
_FADE = 0.8  # per bin without trials, a product's large-drop statistic shrinks by this factor
_FADED = 0.01

Counts = list[tuple[str, int, int]]  # (product, orders, trials) of one bin


def _drop_llr(x: int, n: int, p0: float, keep: float, log_keep: float) -> float:
    """`cusum.binomial_llr(x, n, p0, keep·p0)` for 0 ≤ x ≤ n, with ln(keep) computed once per bin."""
    p0 = min(p0, 1 - 1e-6)
    return x * log_keep + (n - x) * math.log((1 - keep * p0) / (1 - p0))


@dataclass(frozen=True, slots=True)
class ConversionConfig:
    """Calibration of the conversion CUSUMs and the checkout guard."""

    h: float = 6.0
    drop: float = 0.30
    half_life_bins: float = 90.0
    baseline_lag_bins: int = 12
    baseline_z: float = 1.0
    warmup_trials: int = 500
    product_warmup_bins: int = 6
    cart_spread: float = 0.2
    click_spread: float = 0.5
    sharp_drop: float = 0.8
    sharp_h: float = 7.0
    cap_factor: float = 2.0
    broken_tail: float = 1e-4
    broken_min_carts: int = 15

    def __post_init__(self) -> None:
        if self.h <= 0:
            raise ValueError(f"h: expected > 0, got {self.h}")
        if not 0 < self.drop < 1:
            raise ValueError(f"drop: expected in (0, 1), got {self.drop}")
        if not 0 < self.broken_tail < 1:
            raise ValueError(f"broken_tail: expected in (0, 1), got {self.broken_tail}")
        if self.half_life_bins <= 0 or self.warmup_trials < 0 or self.broken_min_carts < 1:
            raise ValueError("half_life_bins > 0, warmup_trials >= 0 and broken_min_carts >= 1 are required")
        if self.baseline_z < 0:
            raise ValueError(f"baseline_z: expected >= 0, got {self.baseline_z}")
        if self.product_warmup_bins < 0:
            raise ValueError(f"product_warmup_bins: expected >= 0, got {self.product_warmup_bins}")
        if self.baseline_lag_bins < 0:
            raise ValueError(f"baseline_lag_bins: expected >= 0, got {self.baseline_lag_bins}")
        if not 0 <= self.sharp_drop < 1 or self.sharp_h <= 0:
            raise ValueError(f"sharp_drop: expected in [0, 1) with sharp_h > 0, got {self.sharp_drop}, {self.sharp_h}")
        for name in ("cart_spread", "click_spread"):
            if not 0 < getattr(self, name) <= 2:
                raise ValueError(f"{name}: expected in (0, 2], got {getattr(self, name)}")

    def spread(self, step: str) -> float:
        """Prior coefficient of variation of products' conversion around the session's, per step."""
        return self.cart_spread if step == "cart_to_order" else self.click_spread


@dataclass(slots=True)
class _Step:
    session: ShareBaseline = field(default_factory=lambda: ShareBaseline(0.0, 0.0))
    products: dict[str, ShareBaseline] = field(default_factory=dict)
    s: float = 0.0
    sharp: dict[str, float] = field(default_factory=dict)  # per-product CUSUM for a large drop, while > 0
    holding: bool = False
    lagged: deque[Counts] = field(default_factory=deque)  # bins waiting to enter the baselines
    first_bins: dict[str, int] = field(default_factory=dict)  # product -> its bins learnt untested (capped)
    total: int = 0  # trials ever learnt: the warm-up counts these, not the decayed sums a small room never fills

    def learn(self, counts: Counts, retention: float) -> None:
        """Fold one bin's counts into the session's and each product's baseline."""
        trials = sum(n for _, _, n in counts)
        self.session.update(sum(x for _, x, _ in counts), trials, retention)
        self.total += trials
        for product, x, n in counts:
            if product != _OTHER:
                self.products.setdefault(product, ShareBaseline(0.0, 0.0)).update(x, n, retention)

    def to_state(self) -> list[Any]:
        """JSON-ready list."""
        return [self.session.to_state(), {p: b.to_state() for p, b in self.products.items()}, self.s,
                self.sharp, self.holding, [[list(c) for c in counts] for counts in self.lagged], self.first_bins,
                self.total]

    @classmethod
    def from_state(cls, data: list[Any]) -> _Step:
        """Inverse of `to_state`."""
        session, products, s, sharp, holding, lagged, first_bins, total = data
        return cls(ShareBaseline.from_state(session), {p: ShareBaseline.from_state(b) for p, b in products.items()},
                   float(s), {p: float(v) for p, v in sharp.items()}, bool(holding),
                   deque([(str(p), int(x), int(n)) for p, x, n in counts] for counts in lagged),
                   {p: int(v) for p, v in first_bins.items()}, int(total))


def _counts(b: Bin, step: str) -> Counts:
    """Orders and trials of each product in the bin; what no product claims goes to `_OTHER`."""
    out: Counts = []
    orders = trials = 0
    for p in b.products:
        n = p.carts if step == "cart_to_order" else p.clicks
        x = min(p.orders, n)  # orders of carts from an earlier bin: at most one per trial here
        orders, trials = orders + p.orders, trials + n
        if n:
            out.append((p.product, x, n))
    total = b.carts if step == "cart_to_order" else b.clicks
    if total > trials:
        out.append((_OTHER, min(max(0, b.orders - orders), total - trials), total - trials))
    return out


class ConversionDetector:
    """Per-session conversion state."""

    def __init__(self, config: ConversionConfig) -> None:
        self.config = config
        self.steps = {name: _Step() for name in STEPS}
        self.carts_without_order = 0
        self.run_log_p = 0.0  # log P(no order in those carts) at each product's expected rate

    def observe(self, b: Bin) -> list[Condition]:
        """Fold one bin in; return drop and broken-checkout conditions that hold."""
        cfg = self.config
        counts = {name: _counts(b, name) for name in STEPS}
        armed = self.steps["cart_to_order"].total >= cfg.warmup_trials
        if b.orders > 0 or not armed:
            self.carts_without_order, self.run_log_p = 0, 0.0
        else:
            self.carts_without_order += b.carts
            carts = counts["cart_to_order"]
            refs = self.references("cart_to_order", (p for p, _, _ in carts))
            self.run_log_p += sum(n * math.log(1 - min(refs[p], 1 - 1e-6)) for p, _, n in carts)
        out = [c for name in STEPS for c in self._observe_step(b, name, counts[name])]
        if self.carts_without_order >= cfg.broken_min_carts and self.run_log_p <= math.log(cfg.broken_tail):
            expected = 1 - math.exp(self.run_log_p / self.carts_without_order)
            out.append(
                Condition(
                    rule=BROKEN_RULE,
                    session=b.session,
                    severity=Severity.CRITICAL,
                    value=float(self.carts_without_order),
                    threshold=float(zero_order_run_needed(expected, cfg.broken_tail)),
                    summary=f"Checkout looks broken: {self.carts_without_order} carts and no order "
                    f"(expected about {expected:.0%} to convert)",
                    evidence=({"carts_without_order": self.carts_without_order, "expected": round(expected, 4),
                               "log10_p": round(self.run_log_p / math.log(10), 2)},),
                )
            )
        return out

    def _observe_step(self, b: Bin, name: str, counts: Counts) -> list[Condition]:
        cfg = self.config
        step = self.steps[name]
        retention = decay_for(cfg.half_life_bins)
        # a product's first bins teach its own rate untested, unless a drop was already building
        # before them (then they are evidence of that drop, not of a product that converts worse)
        building = step.s >= cfg.h / 2
        fresh = [c for c in counts if c[0] != _OTHER and step.first_bins.get(c[0], 0) < cfg.product_warmup_bins
                 and not building]
        for product, _, _ in fresh:
            step.first_bins[product] = step.first_bins.get(product, 0) + 1
        warm = step.total >= cfg.warmup_trials and step.session.share > 0
        if not warm or fresh:
            step.learn(counts if not warm else fresh, retention)  # still learning: no guard band
        if not warm:
            return []
        if fresh:
            counts = [c for c in counts if c not in fresh]
        expected = trials = orders = increment = 0.0
        refs = self.references(name, (p for p, _, _ in counts))
        keep, log_keep = 1 - cfg.drop, math.log(1 - cfg.drop)
        for product, x, n in counts:
            ref = refs[product]
            increment += _drop_llr(x, n, ref, keep, log_keep)
            expected, trials, orders = expected + ref * n, trials + n, orders + x
        step.s = min(cfg.h * cfg.cap_factor, max(0.0, step.s + increment))
        sharp_over = self._sharp(step, counts, refs) if cfg.sharp_drop else []
        if step.s >= cfg.h:
            step.holding = True
            step.lagged.clear()  # those bins belong to the incident
        elif step.s == 0.0:
            step.holding = False
        if not step.holding:
            step.lagged.append([c for c in counts if step.sharp.get(c[0], 0.0) < cfg.sharp_h])
            while len(step.lagged) > cfg.baseline_lag_bins:
                step.learn(step.lagged.popleft(), retention)
        out = []
        if step.s >= cfg.h:
            p0 = expected / trials if trials else self.reference(name, _OTHER)
            out.append(self._condition(b, name, "", orders, trials, p0, step.s, cfg.h))
        for product in sharp_over:
            x, n = next(((x, n) for p, x, n in counts if p == product), (0, 0))
            out.append(self._condition(b, name, product, x, n, refs[product], step.sharp[product], cfg.sharp_h))
        return out

    def _sharp(self, step: _Step, counts: Counts, refs: dict[str, float]) -> list[str]:
        """Advance the per-product large-drop CUSUMs; return the products over `sharp_h` in this bin.

        A product without trials in a bin lets its statistic fade (×`_FADE`), so evidence
        from a pitch long over cannot join a later one. A product over the threshold keeps
        its bins out of the baselines, like the session statistic does.
        """
        cfg = self.config
        keep, log_keep = 1 - cfg.sharp_drop, math.log(1 - cfg.sharp_drop)
        seen = set()
        for product, x, n in counts:
            if product == _OTHER:
                continue
            seen.add(product)
            before = step.sharp.get(product, 0.0)
            value = min(cfg.sharp_h * cfg.cap_factor,
                        before + _drop_llr(x, n, refs[product], keep, log_keep))
            step.sharp[product] = value
            if value >= cfg.sharp_h > before:
                for queued in step.lagged:  # those bins belong to the incident
                    queued[:] = [c for c in queued if c[0] != product]
        for product in list(step.sharp):
            if product not in seen:
                step.sharp[product] *= _FADE
            if step.sharp[product] <= _FADED:
                del step.sharp[product]  # kept only while it matters, so the map stays small
        return sorted(p for p in seen if step.sharp.get(p, 0.0) >= cfg.sharp_h)

    def _condition(self, b: Bin, name: str, product: str, orders: float, trials: float, p0: float, s: float,
                   h: float) -> Condition:
        """A drop of the whole session (`product` empty) or of one product, with its evidence."""
        drop = self.config.drop if not product else self.config.sharp_drop
        what = f"{name.replace('_', ' ')} conversion" + (f" of {b.label_of(product)}" if product else "")
        usual = "its usual rate" if product else "each product's usual rate"
        return Condition(
            rule=RULE,
            session=b.session,
            severity=Severity.WARNING,
            value=round(orders / trials, 4) if trials else 0.0,
            threshold=round((1 - drop) * p0, 4),
            summary=f"{what} has fallen below {(1 - drop) * p0:.1%} (expected {p0:.1%} from {usual}; "
            f"session {self.steps[name].session.share:.1%})",
            labels=labels(step=name, product=product) if product else labels(step=name),
            evidence=({"cusum": round(s, 3), "h": h, "expected": round(p0, 4),
                       "session_share": round(self.steps[name].session.share, 4), "orders": int(orders),
                       "trials": int(trials)},),
        )

    def reference(self, name: str, product: str) -> float:
        """The rate a product is tested against: lower confidence bound of its shrunk estimate."""
        return self.references(name, (product,))[product]

    def references(self, name: str, products: Iterable[str]) -> dict[str, float]:
        """`reference` for several products at once (the session's prior is computed once).

        The session share R is a prior worth k = (1 − R)/(R·cv²) − 1 trials, so that before
        any own data the product's sd is cv·R; own trials then pull the estimate to the
        product's share and narrow it. R's own uncertainty (weighted by the prior's share of
        the estimate) is added to the variance.
        """
        step = self.steps[name]
        base = step.session
        r0 = min(max(base.share, 1e-4), 1 - 1e-4)
        cv = self.config.spread(name)
        k = max(1.0, (1 - r0) / (r0 * cv * cv) - 1)
        prior_var = r0 * (1 - r0) / max(base.trials, 1.0)
        z = self.config.baseline_z
        out = {}
        for product in products:
            own = step.products.get(product) if product != _OTHER else None
            a, n = (own.successes, own.trials) if own else (0.0, 0.0)
            r, w = (a + k * r0) / (n + k), k / (n + k)
            out[product] = max(1e-4, r - z * math.sqrt(r * (1 - r) / (n + k + 1) + w * w * prior_var))
        return out

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {
            "version": 2,
            "steps": {n: s.to_state() for n, s in self.steps.items()},
            "carts_without_order": self.carts_without_order,
            "run_log_p": self.run_log_p,
        }

    @classmethod
    def from_state(cls, config: ConversionConfig, data: dict[str, Any]) -> ConversionDetector:
        """Inverse of `to_state`; a checkpoint of the per-pitch design (no version) restarts learning."""
        det = cls(config)
        if data.get("version") == 2:
            det.carts_without_order = int(data["carts_without_order"])
            det.run_log_p = float(data["run_log_p"])
            det.steps = {name: _Step.from_state(raw) for name, raw in data["steps"].items()}
        return det
