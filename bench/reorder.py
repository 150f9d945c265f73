"""Does following livemon's product suggestions sell more? Three policies, same sessions.

Each seed draws one catalogue and audience (`monitor.market`) and plays the same session
under three policies, sharing the seed's catalogue, plan and audience seed so the comparison
is paired by catalogue (the market's draws part once the pins differ, so most of the spread of
a paired difference is still the market's own randomness):

- **fixed**: the run-of-show order, cycled, skipping sold-out products (the baseline);
- **greedy**: at each slot, the product with most GMV so far ("sort by sales so far");
- **livemon**: the Suggester's top product, followed by a simulated host who accepts 85% of
  top picks and otherwise skips it (recorded) and takes the next product on the list.

Every policy pitches in 3-minute slots, never repeats a product within the plan's 10-minute
gap and moves on early when the pinned product sells out, so the only difference is which
product comes next. The Suggester sees only what livemon observes: `products[]` rows built
from counts (clicks, carts, orders, payments, GMV), stock and pin times, read through
`signals_from_snapshot`, never the hidden appeal.

Usage: .venv/bin/python bench/reorder.py [--seeds 40] [--minutes 120] [--first-seed 0] [--config FILE]
Prints a table, then one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.market import Market, MarketConfig, MarketProduct, MarketStep, generate_products
from monitor.product_beliefs import PriorResult
from monitor.product_signals import signals_from_snapshot
from monitor.run_of_show import PlanItem, RunOfShow
from monitor.suggestion_config import DEFAULT_CONFIG_PATH, parse_suggestion_config
from monitor.suggestions import Suggester

START = 1_767_225_600.0  # 2026-01-01T00:00:00Z
TICK_S = 10.0
SLOT_S = 180.0
GAP_S = 600.0
WINDOW_STEPS = 30  # 5 minutes of 10-s ticks, the snapshot's `_5m` window
ACCEPT_P = 0.85


class ProductTable:
    """livemon's view of the products: the snapshot `products[]` rows, built from counts only."""

    def __init__(self, products: tuple[MarketProduct, ...]) -> None:
        self.online = 0  # the snapshot's `online`: viewers in the room at the last step
        self.rows: dict[str, dict[str, Any]] = {}
        self.recent: dict[str, deque[tuple[int, int, int, float]]] = {}
        for p in products:
            self.rows[p.product] = {
                "product": p.product, "name": p.name, "price": p.price, "margin": p.margin, "stock": p.stock,
                "pinned": False, "pin_started_ts": None, "pitch_count": 0, "pitch_seconds_total": 0.0,
                "last_pitch_end_ts": None, "clicks_total": 0, "carts_total": 0, "orders_total": 0,
                "paid_total": 0, "unpaid": 0, "gmv_total": 0.0, "refunds": 0,
            }
            self.recent[p.product] = deque(maxlen=WINDOW_STEPS)

    def observe(self, step: MarketStep) -> None:
        """Fold one market step in, as the engine folds events into its windows."""
        self.online = step.viewers
        for o in step.outcomes:
            row = self.rows[o.product]
            was_pinned, pinned = row["pinned"], step.pinned == o.product
            if pinned and not was_pinned:
                row.update(pinned=True, pin_started_ts=step.start, pitch_count=row["pitch_count"] + 1)
            elif was_pinned and not pinned:
                row.update(pinned=False, pin_started_ts=None, last_pitch_end_ts=step.start)
            if pinned:
                row["pitch_seconds_total"] += step.dt
            row["clicks_total"] += o.clicks
            row["carts_total"] += o.carts
            row["orders_total"] += o.orders
            row["paid_total"] += o.paid
            row["gmv_total"] = round(row["gmv_total"] + o.gmv, 2)
            row["stock"], row["unpaid"] = o.stock, o.unpaid
            self.recent[o.product].append((o.clicks, o.carts, o.orders, o.gmv))
            clicks, carts, orders, gmv = (sum(x) for x in zip(*self.recent[o.product], strict=True))
            row.update(clicks_5m=clicks, carts_5m=carts, orders_5m=orders, gmv_5m=round(gmv, 2))
            row["click_to_purchase"] = row["paid_total"] / row["clicks_total"] if row["clicks_total"] else None
            row["sellout_eta_s"] = o.stock / (orders / 300.0) if orders else None

    def snapshot(self) -> list[dict[str, Any]]:
        """Return the rows as the engine's snapshot would carry them."""
        return [dict(r) for r in self.rows.values()]


Policy = Callable[[float, ProductTable, str | None], str | None]


def allowed(table: ProductTable, product: str, now: float, current: str | None) -> bool:
    """The plan's constraints every policy respects: in stock, not current, gap since last pitch."""
    row = table.rows[product]
    if row["stock"] <= 0 or product == current:
        return False
    return row["last_pitch_end_ts"] is None or now - row["last_pitch_end_ts"] >= GAP_S


def fixed_policy(plan: RunOfShow) -> Policy:
    """Cycle through the plan in order, skipping products that cannot be pitched now."""
    position = [0]

    def choose(now: float, table: ProductTable, current: str | None) -> str | None:
        order = plan.order
        for k in range(len(order)):
            product = order[(position[0] + k) % len(order)]
            if allowed(table, product, now, current):
                position[0] = (position[0] + k + 1) % len(order)
                return product
        return None

    return choose


def greedy_policy(plan: RunOfShow) -> Policy:
    """Pitch the product with the most GMV so far; the plan order breaks ties (all zero at first)."""

    def choose(now: float, table: ProductTable, current: str | None) -> str | None:
        options = [p for p in plan.order if allowed(table, p, now, current)]
        return max(options, key=lambda p: table.rows[p]["gmv_total"]) if options else None

    return choose


def oracle_policy(products: tuple[MarketProduct, ...], config: MarketConfig, plan: RunOfShow,
                  host_rng: np.random.Generator) -> Policy:
    """Diagnostic, not a baseline: the best expected next slot from the *hidden* appeal and conversion.

    Myopic, with the market's own pitch shape, fatigue (exposure replayed step by step) and
    stock, and the same host vetoes as livemon: the ceiling a learning policy that scores
    slot by slot could reach. It shows how much is left to learn, not what a platform could do.
    """
    median = float(np.median([p.price for p in products]))
    per_view: dict[str, float] = {}  # expected orders per viewer-minute of full pitch effect
    for p in products:
        conv = p.conversion * (median / p.price) ** config.price_elasticity
        cart_p = min(0.9, 2.5 * conv)
        per_view[p.product] = p.appeal / 1000.0 * cart_p * min(1.0, conv / cart_p)
    price = {p.product: p.price for p in products}
    exposure = dict.fromkeys(price, 0.0)
    halving = 0.5 ** (TICK_S / config.fatigue_half_life_s)
    last = [START]

    def value(product: str, table: ProductTable) -> float:
        units, tiring = 0.0, exposure[product]
        for k in range(int(SLOT_S / TICK_S)):
            tiring = tiring * halving
            tau = k * TICK_S + TICK_S / 2.0
            shape = (1.0 - math.exp(-tau / config.ramp_s)) * math.exp(-tau / config.pitch_decay_s)
            units += shape / (1.0 + tiring / config.fatigue_scale_s) * TICK_S / 60.0
            tiring += TICK_S
        units *= table.online * per_view[product]
        stock: int = table.rows[product]["stock"]  # the rows are snapshot JSON: dict[str, Any]
        return min(units, stock) * price[product]

    def choose(now: float, table: ProductTable, current: str | None) -> str | None:
        for _ in range(round((now - last[0]) / TICK_S)):  # replay the market's exposure since the last call
            for p in exposure:
                exposure[p] *= halving
            if current is not None:
                exposure[current] += TICK_S
        last[0] = now
        options = sorted((p for p in plan.order if allowed(table, p, now, current)),
                         key=lambda p: -value(p, table))
        if len(options) > 1 and host_rng.random() >= ACCEPT_P:
            return options[1]
        return options[0] if options else None

    return choose


def run_session(
    seed: int,
    policy_name: str,
    minutes: float,
    config_text: str,
    earlier: dict[str, PriorResult] | None = None,
    audience_seed: int = 2,
    watch: Callable[[float, ProductTable, tuple[MarketProduct, ...]], None] | None = None,
) -> dict[str, Any]:
    """Play one session under one policy; return its GMV and, for livemon, attribution and results.

    `earlier` passes a previous session's per-product results to the Suggester (warm start);
    `audience_seed` picks the audience's randomness, so a previous session can differ from
    the measured one while selling the same catalogue. `watch(now, table, catalogue)` is called
    after every step, for diagnostics that follow the session (`bench/suggestion_estimates.py`).
    """
    market_config = MarketConfig(duration_s=minutes * 60.0)
    products = generate_products(market_config, np.random.default_rng([seed, 0]))
    order = np.random.default_rng([seed, 1]).permutation(len(products))
    plan = RunOfShow(
        items=tuple(PlanItem(products[i].product, n + 1) for n, i in enumerate(order)),
        duration_s=minutes * 60.0,
        min_gap_s=GAP_S,
    )
    market = Market(products, market_config, np.random.default_rng([seed, audience_seed]), START)
    table = ProductTable(products)
    host_rng = np.random.default_rng([seed, 3])
    suggester_rng = np.random.default_rng([seed, 4])
    fixed = fixed_policy(plan)
    suggester = Suggester(parse_suggestion_config(config_text), plan, START, earlier)
    if policy_name == "fixed":
        policy = fixed
    elif policy_name == "greedy":
        policy = greedy_policy(plan)
    elif policy_name == "oracle":
        policy = oracle_policy(products, market_config, plan, host_rng)
    else:  # livemon, cold or warm

        def policy(now: float, table: ProductTable, current: str | None) -> str | None:
            signals = signals_from_snapshot(table.snapshot(), None, now)
            ranked = suggester.rank(signals, now, suggester_rng, audience=table.online)
            options = [s.product for s in ranked if allowed(table, s.product, now, current)]
            if not options:
                return fixed(now, table, current)
            if host_rng.random() < ACCEPT_P:
                suggester.record_choice(options[0], True, now)
                return options[0]
            # The host vetoes the top pick and takes the next one on the overlay's list.
            suggester.record_choice(options[0], False, now)
            return options[1] if len(options) > 1 else fixed(now, table, current)

    pinned: str | None = None
    slot_end = START
    gmv = 0.0
    now = START
    end = START + minutes * 60.0
    while now < end:
        sold_out = pinned is not None and table.rows[pinned]["stock"] <= 0
        if now >= slot_end or sold_out:
            pinned = policy(now, table, pinned)
            slot_end = now + SLOT_S
        elif policy_name.startswith("livemon"):
            # The suggestions refresh every tick, as on the host overlay, even between decisions.
            suggester.rank(signals_from_snapshot(table.snapshot(), None, now), now, suggester_rng, table.online)
        step = market.step(pinned, TICK_S)
        table.observe(step)
        gmv += step.gmv
        now += TICK_S
        if watch is not None:
            watch(now, table, products)
    out: dict[str, Any] = {"gmv": gmv}
    if policy_name.startswith("livemon"):
        att = suggester.attribution()
        out.update(followed_share=att.gmv_followed / att.gmv_pinned if att.gmv_pinned else 0.0,
                   results=suggester.results())
    return out


def t_quantile(n: int) -> float:
    """Two-sided 95% Student-t quantile for n observations (Cornish-Fisher; no scipy needed)."""
    z, v = 1.959964, n - 1
    return z + (z**3 + z) / (4 * v) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)


def mean_ci(values: list[float]) -> tuple[float, float, float]:
    """Mean and its 95% confidence interval."""
    arr = np.array(values)
    half = t_quantile(len(arr)) * float(arr.std(ddof=1)) / math.sqrt(len(arr))
    return float(arr.mean()), float(arr.mean()) - half, float(arr.mean()) + half


def rank_cost_us(products: int, config_text: str, ticks: int = 300) -> float:
    """Microseconds per `Suggester.rank` call for one session of `products` products (the engine's per-tick cost)."""
    config = MarketConfig(n_products=products)
    catalogue = generate_products(config, np.random.default_rng(0))
    market = Market(catalogue, config, np.random.default_rng(1), START)
    table = ProductTable(catalogue)
    suggester = Suggester(parse_suggestion_config(config_text), plan=None, session_start=START)
    rng = np.random.default_rng(2)
    spent = 0.0
    for tick in range(ticks):
        table.observe(market.step(catalogue[(tick // 18) % products].product, TICK_S))
        rows = table.snapshot()
        now = START + (tick + 1) * TICK_S
        started = time.perf_counter()
        suggester.rank(signals_from_snapshot(rows, None, now), now, rng, audience=table.online)
        spent += time.perf_counter() - started
    return spent / ticks * 1e6


def main() -> None:
    """Run all seeds under all policies and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40, help="sessions per policy (at least 2: the table gives 95%% "
                                                             "confidence intervals)")
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="settings were tuned on seeds 0-39; e.g. 100 gives held-out sessions")
    parser.add_argument("--per-seed", action="store_true", help="add each seed's GMV per policy to the JSON line")
    parser.add_argument("--audiences", type=int, default=1,
                        help="average each seed's catalogue over this many audiences (audience seeds 2, 12, ...): "
                             "most of a paired difference's spread is the market's randomness, not the catalogue")
    parser.add_argument("--oracle", action="store_true",
                        help="add a diagnostic row: the myopic oracle that knows the hidden appeal (with vetoes)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG_PATH,
                        help="suggestion settings to evaluate (default: config/suggestions.toml)")
    args = parser.parse_args()
    if args.seeds < 2:
        parser.error(f"--seeds: expected at least 2 (a confidence interval needs two sessions), got {args.seeds}")
    config_text = args.config.read_text()
    cold = ("fixed", "greedy", "livemon", *(("oracle",) if args.oracle else ()))
    policies = (*cold, "livemon_warm")
    results: dict[str, list[float]] = {p: [] for p in policies}
    followed: list[float] = []
    started = time.perf_counter()
    audiences = [2 + 10 * k for k in range(args.audiences)]  # never 5, yesterday's audience
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        gmv: dict[str, float] = dict.fromkeys(policies, 0.0)
        # Warm start: the same catalogue sold yesterday to another audience, results passed in.
        yesterday = run_session(seed, "livemon", args.minutes, config_text, audience_seed=5)
        for audience in audiences:
            for name in cold:
                out = run_session(seed, name, args.minutes, config_text, audience_seed=audience)
                gmv[name] += out["gmv"] / len(audiences)
                if name == "livemon":
                    followed.append(out["followed_share"])
            warm = run_session(seed, "livemon_warm", args.minutes, config_text, yesterday["results"], audience)
            gmv["livemon_warm"] += warm["gmv"] / len(audiences)
        for name in policies:
            results[name].append(gmv[name])
    elapsed = time.perf_counter() - started
    print(f"{args.seeds} catalogues x {args.audiences} audiences, sessions of {args.minutes:.0f} min, 3-min slots, "
          f"{len(policies)} policies "
          f"({elapsed:.1f} s); livemon_warm also gets one earlier session's results as its prior\n")
    print(f"{'policy':<13} {'GMV per session':>16} {'95% CI':>22}")
    figures: dict[str, Any] = {"seeds": args.seeds, "audiences": args.audiences, "first_seed": args.first_seed,
                               "minutes": args.minutes}
    for name in policies:
        mean, lo, hi = mean_ci(results[name])
        print(f"{name:<13} {mean:>16,.0f} {f'[{lo:,.0f}, {hi:,.0f}]':>22}")
        figures[f"gmv_{name}"] = round(mean, 1)
    print(f"\n{'paired difference':<26} {'mean':>10} {'95% CI':>22} {'relative':>10}")
    pairs = [("livemon", "fixed"), ("livemon", "greedy"), ("livemon_warm", "fixed"), ("livemon_warm", "greedy")]
    for ours, base in pairs + ([("oracle", "livemon")] if args.oracle else []):
        diffs = [a - b for a, b in zip(results[ours], results[base], strict=True)]
        mean, lo, hi = mean_ci(diffs)
        rel = mean / float(np.mean(results[base]))
        print(f"{ours + ' - ' + base:<26} {mean:>10,.0f} {f'[{lo:,.0f}, {hi:,.0f}]':>22} {rel:>+10.1%}")
        key = {"livemon_warm": "warm_", "oracle": "oracle_"}.get(ours, "") + base
        figures[f"diff_vs_{key}"] = [round(mean, 1), round(lo, 1), round(hi, 1)]
        figures[f"uplift_vs_{key}"] = round(rel, 4)
    wins = sum(a > b for a, b in zip(results["livemon"], results["fixed"], strict=True))
    print(f"\nlivemon beat the fixed order in {wins}/{args.seeds} sessions; "
          f"{np.mean(followed):.0%} of pinned GMV followed a suggestion")
    figures["wins_vs_fixed"] = wins
    figures["followed_share"] = round(float(np.mean(followed)), 3)
    costs = {n: rank_cost_us(n, config_text) for n in (12, 100)}
    print("rank cost per session per tick (signals_from_snapshot + Suggester.rank): "
          + ", ".join(f"{n} products {us:,.0f} µs" for n, us in costs.items()))
    figures["rank_us_12"], figures["rank_us_100"] = round(costs[12]), round(costs[100])
    if args.per_seed:
        figures["per_seed"] = {name: [round(g, 1) for g in results[name]] for name in policies}
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
