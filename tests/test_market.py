"""Market model: seeded replay, stock, pitch effects (diminishing returns, fatigue)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from monitor.market import Market, MarketConfig, MarketProduct, generate_products

T0 = 1_767_225_600.0
# A large, steady room so expected differences dominate Poisson noise in a few runs.
BIG = MarketConfig(n_products=2, base_viewers=20_000.0, viewer_ramp_s=1.0, viewer_noise=0.0,
                   stock_min=100_000, stock_max=100_000)


def product(name: str, stock: int = 100_000) -> MarketProduct:
    return MarketProduct(product=name, name=name, price=100.0, stock=stock, margin=0.3, appeal=30.0, conversion=0.1)


def orders_during(market: Market, pinned: str | None, seconds: int, of: str) -> int:
    total = 0
    for _ in range(seconds // 10):
        step = market.step(pinned, 10.0)
        total += next(o.orders for o in step.outcomes if o.product == of)
    return total


def test_market_replays_exactly_from_a_seed() -> None:
    config = MarketConfig()

    def run(seed: int) -> list[float]:
        products = generate_products(config, np.random.default_rng(seed))
        market = Market(products, config, np.random.default_rng(seed + 1), T0)
        return [market.step(products[i % 3].product, 10.0).gmv for i in range(60)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_market_orders_stop_at_sell_out_and_stock_never_goes_negative() -> None:
    scarce = product("a", stock=25)
    market = Market((scarce, product("b")), BIG, np.random.default_rng(3), T0)
    sold = 0
    for _ in range(120):
        outcome = market.step("a", 10.0).outcomes[0]
        sold += outcome.orders
        assert outcome.stock >= 0
    assert sold == 25 and market.stock[0] == 0


def test_market_pinned_product_sells_far_more_than_when_unpinned() -> None:
    market = Market((product("a"), product("b")), BIG, np.random.default_rng(4), T0)
    pinned = orders_during(market, "a", 180, "a")
    unpinned = orders_during(market, "b", 180, "a")
    assert pinned > 5 * unpinned


def test_market_long_pitch_has_diminishing_returns() -> None:
    market = Market((product("a"), product("b")), replace(BIG, fatigue_scale_s=1e9), np.random.default_rng(5), T0)
    first = orders_during(market, "a", 180, "a")
    orders_during(market, "a", 420, "a")
    tenth_minute_on = orders_during(market, "a", 180, "a")
    assert tenth_minute_on < 0.3 * first  # exp(-τ/240): minutes 10-13 sell ~8% of minutes 0-3


def test_market_repeat_pitch_sells_less_than_after_a_rest() -> None:
    steady = replace(BIG, base_viewers=200_000.0, duration_s=1e9)  # no audience fade across the rest

    def second_pitch(rest_s: int) -> int:
        market = Market((product("a"), product("b")), steady, np.random.default_rng(6), T0)
        orders_during(market, "a", 180, "a")
        orders_during(market, "b", rest_s, "a")
        return orders_during(market, "a", 180, "a")

    # Fatigue after one 3-min pitch: 1 / (1 + 180/900) ≈ 0.83 a minute later, ≈ 0.99 an hour later.
    assert second_pitch(60) < 0.92 * second_pitch(3600)


def test_market_rejects_unknown_pins_and_bad_config() -> None:
    market = Market((product("a"),), BIG, np.random.default_rng(7), T0)
    with pytest.raises(KeyError, match="pinned"):
        market.step("zzz", 10.0)
    with pytest.raises(ValueError, match="pay_share"):
        MarketConfig(pay_share=1.5)
