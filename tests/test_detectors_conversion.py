"""Conversion-drop CUSUMs and the checkout-broken guard on hand-built funnels."""

from __future__ import annotations

import numpy as np

from monitor.bins import Bin, ProductBin
from monitor.detectors.conversion import ConversionConfig, ConversionDetector

T0 = 1_700_000_000


def funnel_bin(i: int, clicks: int, carts: int, orders: int, pinned: str = "p1") -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=2000, viewers_estimated=False, clicks=clicks, carts=carts,
               orders=orders, events=clicks + carts + orders,
               products=(ProductBin(pinned, clicks=clicks, carts=carts, orders=orders, pinned=True),))


def funnel(rng: np.random.Generator, bins: int, carts_per_min: float = 200, p: float = 0.30) -> list[Bin]:
    out = []
    for _ in range(bins):
        carts = int(rng.poisson(carts_per_min / 6))
        clicks = carts * 3 + int(rng.poisson(5))
        out.append((clicks, carts, int(rng.binomial(carts, p))))
    return out  # type: ignore[return-value]


def run(det: ConversionDetector, rows: list, start: int = 0) -> list[tuple[int, set[str]]]:
    fired = []
    for i, (clicks, carts, orders) in enumerate(rows, start=start):
        out = det.observe(funnel_bin(i, clicks, carts, orders))
        if out:
            fired.append((i, {c.rule + ":" + dict(c.labels).get("step", "") for c in out}))
    return fired


def test_conversion_quiet_on_an_hour_of_steady_funnel() -> None:
    rng = np.random.default_rng(1)
    assert run(ConversionDetector(ConversionConfig()), funnel(rng, 360)) == []


def test_conversion_drop_of_30_percent_found_within_two_minutes() -> None:
    rng = np.random.default_rng(2)
    det = ConversionDetector(ConversionConfig())
    assert run(det, funnel(rng, 90)) == []
    fired = run(det, funnel(rng, 24, p=0.21), start=90)
    assert fired and fired[0][0] - 90 <= 12
    assert "conversion_drop:cart_to_order" in fired[0][1]


def test_conversion_checkout_broken_fires_fast_on_zero_orders() -> None:
    rng = np.random.default_rng(3)
    det = ConversionDetector(ConversionConfig())
    run(det, funnel(rng, 60))
    fired = run(det, funnel(rng, 6, p=0.0), start=60)
    # p0 = 0.3 needs 26 carts without an order; ~33 carts arrive per bin
    assert fired[0][0] - 60 <= 1 and "checkout_broken:" in fired[0][1]


def test_conversion_pin_change_rebaselines_instead_of_alarming() -> None:
    # p1 converts at 30 %; the host switches to p2, which converts at 15 %: not an incident
    det = ConversionDetector(ConversionConfig())
    for i in range(60):
        det.observe(funnel_bin(i, 90, 30, 9))
    assert not any(det.observe(funnel_bin(i, 90, 30, 4 + i % 2, pinned="p2")) for i in range(60, 180))
    assert abs(det.steps["cart_to_order"].baseline.share - 0.15) < 0.01


def test_conversion_silent_during_warm_up() -> None:
    det = ConversionDetector(ConversionConfig(warmup_trials=200))
    assert not any(det.observe(funnel_bin(i, 10, 5, 0)) for i in range(20))


def test_conversion_checkpoint_round_trip() -> None:
    det = ConversionDetector(ConversionConfig())
    for i in range(40):
        det.observe(funnel_bin(i, 90, 30, 9 if i < 30 else 2))
    restored = ConversionDetector.from_state(det.config, det.to_state())
    b = funnel_bin(40, 90, 30, 1)
    assert restored.observe(b) == det.observe(b)


def test_conversion_product_baseline_carries_across_its_pitches() -> None:
    # p1 converts at 30 % over 10 carts a minute: one 5-min pitch is 50 carts, never warm alone
    config = ConversionConfig(warmup_trials=100)
    det = ConversionDetector(config)
    rng = np.random.default_rng(5)
    for pitch, product in enumerate(("p1", "p2")):
        for i in range(30):
            carts = int(rng.poisson(10 / 6)) + (i % 3 == 0)
            det.observe(funnel_bin(pitch * 30 + i, carts * 3, carts, int(rng.binomial(carts, 0.3)), pinned=product))
    det.observe(funnel_bin(60, 6, 2, 1, pinned="p1"))
    # p1's second pitch starts from what its first learnt (≈ 60 carts), not from the 2 carts of this bin
    assert det.steps["cart_to_order"].baseline.trials >= 40
    assert abs(det.steps["cart_to_order"].baseline.share - 0.3) < 0.15  # ≈ 60 carts: σ ≈ 0.06
    restored = ConversionDetector.from_state(config, det.to_state())
    assert restored.carried == det.carried
