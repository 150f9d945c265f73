"""Conversion drop: downward binomial CUSUMs on cart→order and click→order, plus a
hard "checkout broken" guard.

Orders trail carts by seconds to minutes, so a per-bin ratio is noisy; the CUSUM
accumulates evidence across bins instead of judging any one of them. The baseline is
the session's own count-weighted EW share (no cross-shop prior: conversion differs by
an order of magnitude between categories), and the test only starts once the baseline
has seen `warmup_trials`. A change of pinned product legitimately changes conversion,
so it re-baselines: statistics reset and the baseline is the new product's own from its
earlier pitches in this session (a show pitches each product several times), or is learnt
afresh for a product not pitched before (the guard keeps using the last warm cart share
meanwhile). Carrying a product's baseline across pitches means a small room, where one
pitch alone never brings `warmup_trials`, is judged from its second pitch of a product on.

Bins reach the baseline only after a guard band of `baseline_lag_bins`: a drop gets
that long to build evidence before the adaptive baseline starts learning it as normal
(without it, a 30 % drop at small volume was half absorbed before it could alarm).

A baseline learnt from a few hundred carts after a product switch is itself uncertain,
and a CUSUM treats `p0` as exact; so the test uses the baseline's lower confidence
bound, ``p0 − z·sqrt(p0(1−p0)/trials)``, which converges to `p0` as data accumulates.

The guard needs no baseline model: if `n` carts in a row brought no order, and
``(1−p0)^n < broken_tail``, the payment path is broken — this fires in tens of seconds
where the CUSUM would take minutes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from monitor.bins import Bin
from monitor.detectors.baseline import ShareBaseline, decay_for
from monitor.detectors.condition import Condition, Severity, labels
from monitor.detectors.cusum import cusum_step, zero_order_run_needed

RULE = "conversion_drop"
BROKEN_RULE = "checkout_broken"
STEPS = ("cart_to_order", "click_to_order")


@dataclass(frozen=True, slots=True)
class ConversionConfig:
    """Calibration of the conversion CUSUMs and the checkout guard."""

    h: float = 5.0
    drop: float = 0.30
    half_life_bins: float = 90.0
    baseline_lag_bins: int = 12
    baseline_z: float = 1.0
    warmup_trials: int = 500
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
        if self.baseline_lag_bins < 0:
            raise ValueError(f"baseline_lag_bins: expected >= 0, got {self.baseline_lag_bins}")


@dataclass(slots=True)
class _Step:
    baseline: ShareBaseline
    s: float = 0.0
    holding: bool = False
    lagged: deque[tuple[int, int]] = field(default_factory=deque)  # (x, n) waiting to enter the baseline


class ConversionDetector:
    """Per-session conversion state."""

    def __init__(self, config: ConversionConfig) -> None:
        self.config = config
        self.steps = {name: _Step(ShareBaseline(0.0, 0.0)) for name in STEPS}
        self.pinned: list[str] = []
        self.carts_without_order = 0
        self.guard_share = 0.0  # last warm cart→order share, survives re-baselining
        self.carried: dict[str, list[list[float]]] = {}  # pinned set -> its steps' baselines at its last pitch end

    def observe(self, b: Bin) -> list[Condition]:
        """Fold one bin in; return drop and broken-checkout conditions that hold."""
        cfg = self.config
        pinned = sorted(p.product for p in b.products if p.pinned)
        if pinned != self.pinned:
            if self.pinned:
                self.carried["|".join(self.pinned)] = [self._settled(self.steps[name]) for name in STEPS]
            earlier = self.carried.get("|".join(pinned))
            self.steps = {name: _Step(ShareBaseline.from_state(earlier[k]) if earlier else ShareBaseline(0.0, 0.0))
                          for k, name in enumerate(STEPS)}
            self.pinned = pinned
        out = []
        for name, trials in (("cart_to_order", b.carts), ("click_to_order", b.clicks)):
            condition = self._observe_step(b, name, trials)
            if condition:
                out.append(condition)
        self.carts_without_order = 0 if b.orders > 0 else self.carts_without_order + b.carts
        cart = self.steps["cart_to_order"].baseline
        if cart.trials >= cfg.warmup_trials and cart.share > 0:
            self.guard_share = cart.share
        if self.guard_share > 0:
            needed = max(cfg.broken_min_carts, zero_order_run_needed(self.guard_share, cfg.broken_tail))
            if self.carts_without_order >= needed:
                out.append(
                    Condition(
                        rule=BROKEN_RULE,
                        session=b.session,
                        severity=Severity.CRITICAL,
                        value=float(self.carts_without_order),
                        threshold=float(needed),
                        summary=f"Checkout looks broken: {self.carts_without_order} carts and no order "
                        f"(expected about {self.guard_share:.0%} to convert)",
                        evidence=({"carts_without_order": self.carts_without_order,
                                   "baseline": round(self.guard_share, 4)},),
                    )
                )
        return out

    def _observe_step(self, b: Bin, name: str, trials: int) -> Condition | None:
        cfg = self.config
        step = self.steps[name]
        x = min(b.orders, trials)
        warm = step.baseline.trials >= cfg.warmup_trials and step.baseline.share > 0
        if warm:
            p0 = self._reference(step.baseline)
            step.s = cusum_step(step.s, x, trials, p0, (1 - cfg.drop) * p0, cap=cfg.h * cfg.cap_factor)
            if step.s >= cfg.h:
                step.holding = True
                step.lagged.clear()  # those bins belong to the incident
            elif step.s == 0.0:
                step.holding = False
        if not step.holding:
            if warm:
                step.lagged.append((x, trials))
            else:
                step.baseline.update(x, trials, decay_for(cfg.half_life_bins))  # still learning: no guard band
            while len(step.lagged) > cfg.baseline_lag_bins:
                old_x, old_n = step.lagged.popleft()
                step.baseline.update(old_x, old_n, decay_for(cfg.half_life_bins))
        if not warm or step.s < cfg.h:
            return None
        p0 = self._reference(step.baseline)
        return Condition(
            rule=RULE,
            session=b.session,
            severity=Severity.WARNING,
            value=round(x / trials, 4) if trials else 0.0,
            threshold=round((1 - cfg.drop) * p0, 4),
            summary=f"{name.replace('_', ' ')} conversion has fallen below {(1 - cfg.drop) * p0:.1%} "
            f"(session baseline {p0:.1%})",
            labels=labels(step=name),
            evidence=({"cusum": round(step.s, 3), "h": cfg.h, "baseline": round(p0, 4), "orders": b.orders,
                       "trials": trials},),
        )

    def _settled(self, step: _Step) -> list[float]:
        """The step's baseline with its guard band folded in, unless those bins were an incident."""
        base = ShareBaseline(step.baseline.successes, step.baseline.trials)
        if not step.holding:
            for x, n in step.lagged:
                base.update(x, n, decay_for(self.config.half_life_bins))
        return base.to_state()

    def _reference(self, baseline: ShareBaseline) -> float:
        """Lower confidence bound of the baseline share: the p0 the test can trust."""
        p = baseline.share
        return max(1e-4, p - self.config.baseline_z * math.sqrt(p * (1 - p) / baseline.trials))

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {
            "steps": {n: [s.baseline.to_state(), s.s, s.holding, [list(v) for v in s.lagged]]
                      for n, s in self.steps.items()},
            "pinned": self.pinned,
            "carts_without_order": self.carts_without_order,
            "guard_share": self.guard_share,
            "carried": self.carried,
        }

    @classmethod
    def from_state(cls, config: ConversionConfig, data: dict[str, Any]) -> ConversionDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        for name, (base, s, holding, lagged) in data["steps"].items():
            det.steps[name] = _Step(ShareBaseline.from_state(base), float(s), bool(holding),
                                    deque((int(x), int(n)) for x, n in lagged))
        det.pinned = list(data["pinned"])
        det.carts_without_order = int(data["carts_without_order"])
        det.guard_share = float(data["guard_share"])
        det.carried = {k: [[float(v) for v in pair] for pair in pairs]
                       for k, pairs in data.get("carried", {}).items()}  # absent in older checkpoints
        return det
