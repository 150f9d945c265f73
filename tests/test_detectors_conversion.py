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


def funnel(rng: np.random.Generator, bins: int, carts_per_min: float = 200, p: float = 0.30
           ) -> list[tuple[int, int, int]]:
    out = []
    for _ in range(bins):
        carts = int(rng.poisson(carts_per_min / 6))
        clicks = carts * 3 + int(rng.poisson(5))
        out.append((clicks, carts, int(rng.binomial(carts, p))))
    return out


def run(det: ConversionDetector, rows: list[tuple[int, int, int]], start: int = 0) -> list[tuple[int, set[str]]]:
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


def test_conversion_switch_to_a_worse_converting_product_does_not_alarm() -> None:
    # p1 converts at 30 %; the host switches to p2, which converts at 15 %: not an incident
    det = ConversionDetector(ConversionConfig())
    for i in range(60):
        det.observe(funnel_bin(i, 90, 30, 9))
    assert not any(det.observe(funnel_bin(i, 90, 30, 4 + i % 2, pinned="p2")) for i in range(60, 180))
    assert abs(det.steps["cart_to_order"].products["p2"].share - 0.15) < 0.01


def pitches(rng: np.random.Generator, rates: list[float], bins_each: int, carts_per_min: float = 200,
            drop_at: int | None = None, drop: float = 0.3) -> list[tuple[str, int, int, int]]:
    """A run of show: product k pitched for `bins_each` bins converting at rates[k]; orders fall by
    `drop` from bin `drop_at` on, whatever is pinned (a session-wide cause such as payment friction)."""
    out = []
    for k, rate in enumerate(rates):
        for j in range(bins_each):
            i = k * bins_each + j
            p = rate * (1 - drop if drop_at is not None and i >= drop_at else 1)
            carts = int(rng.poisson(carts_per_min / 6))
            out.append((f"p{k}", carts * 3 + int(rng.poisson(5)), carts, int(rng.binomial(carts, p))))
    return out


def first_fire(det: ConversionDetector, rows: list[tuple[str, int, int, int]]) -> int | None:
    for i, (product, clicks, carts, orders) in enumerate(rows):
        if any(c.rule == "conversion_drop" for c in det.observe(funnel_bin(i, clicks, carts, orders, product))):
            return i
    return None


def drop_delays(rates: list[float], bins_each: int, drop_at: int, seed: int, sessions: int = 10) -> list[int | None]:
    """Bins from the drop's start to the first conversion_drop, one per simulated session (None: missed)."""
    out = []
    for k in range(sessions):
        fired = first_fire(ConversionDetector(ConversionConfig()),
                           pitches(np.random.default_rng(seed + k), rates, bins_each, drop_at=drop_at))
        out.append(None if fired is None else fired - drop_at)
    return out


def test_conversion_drop_starting_in_a_products_first_pitch_is_caught() -> None:
    # five products, each pitched once for 6 min; the drop starts 2 min into the fourth one, so
    # that product's own rate is known only from those 2 min (the per-pitch design re-learnt it)
    delays = drop_delays([0.30, 0.36, 0.27, 0.33, 0.30], 36, 3 * 36 + 12, seed=100)
    assert all(d is None or d >= 0 for d in delays)
    assert sum(d is not None and d <= 18 for d in delays) >= 8  # within 3 min
    assert sorted(d if d is not None else 999 for d in delays)[4] <= 12  # median within 2 min


def test_conversion_drop_that_spans_a_switch_to_a_new_product_is_caught() -> None:
    # the drop starts 2 min before the host moves on to a product never pitched before: the new
    # product's first bins are evidence of the drop already building, not its own usual rate.
    # (One starting under a minute before such a switch is mostly absorbed: docs/alerts.md.)
    delays = drop_delays([0.30, 0.33, 0.30], 48, 2 * 48 - 12, seed=200)
    assert all(d is None or d >= 0 for d in delays)
    assert sum(d is not None and d <= 18 for d in delays) >= 7


def test_conversion_quiet_through_switches_between_products_that_convert_differently() -> None:
    # an hour of 6-min pitches of products converting 0.8-1.2x the session's, ten sessions:
    # a CUSUM at h = 6 has a small in-control alarm rate, so allow one alarmed session of ten
    alarmed = 0
    for seed in range(10):
        rng = np.random.default_rng(300 + seed)
        rows = pitches(rng, list(0.3 * rng.uniform(0.8, 1.2, 10)), 36)
        alarmed += first_fire(ConversionDetector(ConversionConfig()), rows) is not None
    assert alarmed <= 1


def test_conversion_large_drop_of_one_product_in_a_small_room_is_caught() -> None:
    # 12 carts a minute on the pinned product, a trickle on others; p3's link breaks as its third
    # pitch begins (bin 210; 90 % of its orders vanish): the per-product statistic finds it
    rng = np.random.default_rng(7)
    det = ConversionDetector(ConversionConfig())
    fired: list[tuple[int, dict[str, str]]] = []
    for i in range(240):
        pinned = f"p{i // 30 % 4}"
        broken = i >= 210
        products = []
        for product in ("p0", "p1", "p2", "p3"):
            carts = int(rng.poisson(2.0 if product == pinned else 0.2))
            orders = int(rng.binomial(carts, 0.4 * (0.1 if broken and product == "p3" else 1)))
            products.append(ProductBin(product, clicks=carts * 3, carts=carts, orders=orders, pinned=product == pinned))
        b = Bin(session="s1", start=T0 + 10 * i, viewers=800, viewers_estimated=False,
                clicks=sum(p.clicks for p in products), carts=sum(p.carts for p in products),
                orders=sum(p.orders for p in products), products=tuple(products))
        fired += [(i, c.label_dict()) for c in det.observe(b) if c.rule == "conversion_drop"]
    assert fired and all(i >= 210 for i, _ in fired)
    assert fired[0][0] - 210 <= 18  # within 3 min, about 36 carts
    assert {"product": "p3", "step": "cart_to_order"} in [labels for _, labels in fired]


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
    # p1 converts at 30 % over 10 carts a minute: one 5-min pitch is 50 carts
    config = ConversionConfig(warmup_trials=100)
    det = ConversionDetector(config)
    rng = np.random.default_rng(5)
    for pitch, product in enumerate(("p1", "p2")):
        for i in range(30):
            carts = int(rng.poisson(10 / 6)) + (i % 3 == 0)
            det.observe(funnel_bin(pitch * 30 + i, carts * 3, carts, int(rng.binomial(carts, 0.3)), pinned=product))
    det.observe(funnel_bin(60, 6, 2, 1, pinned="p1"))
    # p1's second pitch is judged by what its first taught (≈ 50 carts), not learnt afresh
    own = det.steps["cart_to_order"].products["p1"]
    assert own.trials >= 40
    assert abs(own.share - 0.3) < 0.15  # ≈ 50 carts: σ ≈ 0.065
    restored = ConversionDetector.from_state(config, det.to_state())
    assert restored.to_state() == det.to_state()


def test_conversion_checkpoint_of_the_per_pitch_design_restarts_learning() -> None:
    old = {"steps": {"cart_to_order": [[9.0, 30.0], 0.0, False, []], "click_to_order": [[9.0, 90.0], 0.0, False, []]},
           "pinned": ["p1"], "carts_without_order": 4, "guard_share": 0.3, "carried": {}}
    det = ConversionDetector.from_state(ConversionConfig(), old)
    assert det.steps["cart_to_order"].total == 0 and det.carts_without_order == 0
