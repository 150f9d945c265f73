"""Funnel posteriors: pinned vs unpinned evidence, forgetting, earlier sessions, checkpoints."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import orjson

from monitor.product_beliefs import FunnelBeliefs, PriorResult
from monitor.product_signals import ProductSignals
from monitor.suggestion_config import SuggestionConfig

T0 = 1_767_225_600.0
CONFIG = SuggestionConfig()
CATALOGUE = dataclasses.replace(CONFIG, spread_prior=0.6)  # the catalogue model on


def grow(s: ProductSignals, clicks: int, carts: int, orders: int) -> ProductSignals:
    return dataclasses.replace(s, clicks_total=s.clicks_total + clicks, carts_total=s.carts_total + carts,
                               orders_total=s.orders_total + orders)


def test_beliefs_unpinned_sales_count_for_more_than_pinned_sales() -> None:
    # Same counts per minute; one product pinned, one not. Unpinned exposure is background_share
    # of the minutes, so selling as much without the host's help means a stronger product.
    beliefs = FunnelBeliefs(CONFIG)
    pinned = ProductSignals("pinned", price=100.0, pinned=True, pin_started_ts=T0)
    bag = ProductSignals("bag", price=100.0)
    for minute in range(11):
        beliefs.observe([pinned, bag], T0 + 60 * minute, 1.0)
        pinned, bag = grow(pinned, 20, 4, 2), grow(bag, 20, 4, 2)
    pooled = beliefs.pooled([pinned, bag])
    assert beliefs.mean_rate(bag, pooled) > 5 * beliefs.mean_rate(pinned, pooled)


def test_beliefs_forget_old_evidence_with_the_half_life() -> None:
    config = dataclasses.replace(CONFIG, half_life_s=600.0)
    beliefs = FunnelBeliefs(config)
    s = ProductSignals("a", pinned=True, pin_started_ts=T0)
    beliefs.observe([s], T0, 1.0)
    beliefs.observe([grow(s, 100, 0, 0)], T0 + 1, 1.0)
    before = beliefs.to_state()["arms"]["a"][0]
    beliefs.observe([grow(s, 100, 0, 0)], T0 + 601, 1.0)
    assert abs(beliefs.to_state()["arms"]["a"][0] - before / 2) < 1e-9


def test_beliefs_earlier_results_shift_the_prior_and_results_export_pitched_counts() -> None:
    s = ProductSignals("a", price=100.0)
    fresh, proven = FunnelBeliefs(CONFIG), FunnelBeliefs(CONFIG, {"a": PriorResult(60.0, 1800.0, 600.0, 240.0)})
    for b in (fresh, proven):
        b.observe([s], T0, 1.0)
    assert proven.mean_rate(s, proven.pooled([s])) > 2 * fresh.mean_rate(s, fresh.pooled([s]))
    pinned = dataclasses.replace(s, pinned=True, pin_started_ts=T0)
    fresh.observe([grow(pinned, 30, 9, 3)], T0 + 120, 2.0)
    assert fresh.results() == {"a": PriorResult(4.0, 30.0, 9.0, 3.0)}  # 2 min × 2 (thousand viewers)


def test_beliefs_state_round_trips_through_json() -> None:
    beliefs = FunnelBeliefs(CONFIG, {"a": PriorResult(1.0, 2.0, 3.0, 1.0)})
    s = ProductSignals("a", price=50.0, pinned=True, pin_started_ts=T0)
    beliefs.observe([s], T0, 1.0)
    beliefs.observe([grow(s, 12, 3, 1)], T0 + 30, 1.0)
    restored = FunnelBeliefs.from_state(CONFIG, orjson.loads(orjson.dumps(beliefs.to_state())))
    assert restored.to_state() == beliefs.to_state()
    assert restored.mean_rate(s, restored.pooled([s])) == beliefs.mean_rate(s, beliefs.pooled([s]))


def test_beliefs_draws_keep_the_posterior_mean_and_temper_its_spread() -> None:
    beliefs = FunnelBeliefs(CONFIG)
    s = ProductSignals("a", price=80.0, pinned=True, pin_started_ts=T0)
    beliefs.observe([s], T0, 1.0)
    s = grow(s, 40, 6, 2)
    beliefs.observe([s], T0 + 180, 1.0)
    pooled = beliefs.pooled([s])
    (ks, _), (ca, cb), (oa, ob) = beliefs.posterior(s, pooled)
    posterior_sigma = math.sqrt(math.log1p(1.0 / ks + cb / (ca * (ca + cb + 1.0)) + ob / (oa * (oa + ob + 1.0))))
    draws = np.array([beliefs.sample(s, pooled, z) for z in np.random.default_rng(7).standard_normal(20_000)])
    assert abs(draws.mean() / beliefs.mean_rate(s, pooled) - 1.0) < 0.01
    assert abs(np.log(draws).std() - SuggestionConfig().exploration * posterior_sigma) < 0.01


def test_beliefs_pitches_tire_a_product_and_rest_restores_it() -> None:
    beliefs = FunnelBeliefs(CONFIG)
    s = ProductSignals("a", price=50.0, pinned=True, pin_started_ts=T0)
    beliefs.observe([s], T0, 1.0)
    assert beliefs.fatigue("a", 180.0) == 1.0  # never pitched before: the reference
    beliefs.observe([s], T0 + 180, 1.0)
    s = dataclasses.replace(s, pinned=False, pin_started_ts=None, last_pitch_end_ts=T0 + 180)
    beliefs.observe([s], T0 + 190, 1.0)
    tired = beliefs.fatigue("a", 180.0)
    beliefs.observe([s], T0 + 190 + 4 * CONFIG.fatigue_half_life_s, 1.0)
    assert tired < 0.9 < beliefs.fatigue("a", 180.0) < 1.0


def test_beliefs_learn_the_fresh_rate_so_a_tired_best_seller_is_not_written_off() -> None:
    # The same 90 clicks in a 3-minute pitch; one product was tired by three recent pitches,
    # so the pull behind its clicks, and the rate learnt for its next fresh pitch, is higher.
    def clicks_per_fresh_minute(pitched_before_s: float) -> float:
        beliefs = FunnelBeliefs(CONFIG)
        s = ProductSignals("a", price=50.0, pinned=True, pin_started_ts=T0, pitch_seconds_total=pitched_before_s,
                           last_pitch_end_ts=T0 - 60 if pitched_before_s else None)
        beliefs.observe([s], T0, 1.0)
        beliefs.observe([grow(s, 90, 9, 3)], T0 + 180, 1.0)
        (shape, rate), _, _ = beliefs.posterior(s, beliefs.pooled([s]))
        return shape / rate

    assert clicks_per_fresh_minute(540.0) > 1.2 * clicks_per_fresh_minute(0.0)


def test_beliefs_a_product_pitched_before_the_first_observation_starts_tired() -> None:
    beliefs = FunnelBeliefs(CONFIG)
    rested = ProductSignals("rested", price=50.0)
    tired = ProductSignals("tired", price=50.0, pitch_count=3, pitch_seconds_total=540.0, last_pitch_end_ts=T0 - 60)
    beliefs.observe([rested, tired], T0, 1.0)
    assert beliefs.fatigue("tired", 180.0) < 0.75 < beliefs.fatigue("rested", 180.0) == 1.0


def test_beliefs_restore_a_checkpoint_written_before_fatigue_was_tracked() -> None:
    beliefs = FunnelBeliefs(CONFIG)
    s = ProductSignals("a", price=50.0, pinned=True, pin_started_ts=T0)
    beliefs.observe([s], T0, 1.0)
    beliefs.observe([grow(s, 12, 3, 1)], T0 + 60, 1.0)
    state = orjson.loads(orjson.dumps(beliefs.to_state()))
    state["arms"]["a"] = state["arms"]["a"][:7]  # the layout before `tiring` was appended
    restored = FunnelBeliefs.from_state(CONFIG, state)
    assert restored.fatigue("a", 180.0) == 1.0
    assert restored.to_state()["arms"]["a"][:7] == beliefs.to_state()["arms"]["a"][:7]


def test_beliefs_catalogue_model_learns_the_price_slope_from_pitched_products() -> None:
    # Four products pitched for 10 minutes each, same clicks, cart share falling as 1/price
    # (steeper than the configured elasticity 0.5). A dear product not pitched yet should be
    # expected to convert as the catalogue says, not as price^-0.5 says.
    #   price:        50    100   200   400   | 400 (unpitched)
    #   carts/click:  0.40  0.20  0.10  0.05  | ?
    pitched = [ProductSignals(f"p{price}", price=float(price), pinned=True, pin_started_ts=T0)
               for price in (50, 100, 200, 400)]
    dear = ProductSignals("dear", price=400.0)
    off = dataclasses.replace(CONFIG, spread_prior=0.0)
    beliefs = {"catalogue": FunnelBeliefs(CATALOGUE), "pooled": FunnelBeliefs(off)}
    for b in beliefs.values():
        rows = [*pitched, dear]
        for minute in range(11):
            b.observe(rows, T0 + 60 * minute, 1.0)
            rows = [grow(s, 200, int(200 * 20 / (s.price or 1)), int(200 * 8 / (s.price or 1))) if s.pinned else s
                    for s in rows]
    share = {}
    for name, b in beliefs.items():
        pooled = b.pooled([*pitched, dear])
        _, (ca, cb), _ = b.posterior(dear, pooled)
        share[name] = ca / (ca + cb)
    # The pooled prior scales the pooled share (~0.19) by (125 / 400)^0.5; the truth is 0.05.
    assert abs(math.log(share["catalogue"] / 0.05)) < 0.5 * abs(math.log(share["pooled"] / 0.05))
    assert share["catalogue"] < share["pooled"]


def test_beliefs_catalogue_model_trusts_a_products_own_counts_more_when_products_differ_widely() -> None:
    # Two sessions of twelve pitched products: in one they all draw 20 clicks a minute, in the
    # other 5 to 80 (about the same typical rate). A thirteenth product, unpitched, drew 3 clicks
    # in 10 background minutes (5 a pitch-minute) in both. Where products differ widely, one
    # product's own counts say more about it, so its estimate should stay nearer its own figure.
    def quiet_rate(rates: list[float]) -> float:
        rows = [ProductSignals(f"p{i}", price=100.0, pinned=True, pin_started_ts=T0) for i in range(12)]
        current = [*rows, ProductSignals("quiet", price=100.0)]
        beliefs = FunnelBeliefs(CATALOGUE)
        for minute in range(11):
            beliefs.observe(current, T0 + 60 * minute, 1.0)
            current = [grow(s, round(r), round(r / 10), round(r / 25)) for s, r in zip(current[:12], rates,
                                                                                       strict=True)] + current[12:]
            if minute == 9:
                current[-1] = grow(current[-1], 3, 0, 0)
        (shape, rate), _, _ = beliefs.posterior(current[-1], beliefs.pooled(current))
        return shape / rate

    alike = quiet_rate([20.0] * 12)
    varied = quiet_rate(list(np.geomspace(5.0, 80.0, 12)))
    own = 3.0 / (10 * CONFIG.background_share)
    assert own < varied < alike
    assert math.log(varied / own) < 0.5 * math.log(alike / own)
