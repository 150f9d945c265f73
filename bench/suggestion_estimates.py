"""How well do the Suggester's beliefs value products? Two settings fed the same counts.

A GMV comparison (`bench/reorder.py`) is dominated by the market's own randomness, because two
policies' sessions part after their first different pin. This diagnostic removes that: it
plays livemon's sessions once (default settings) and feeds the *same* counts to two
`FunnelBeliefs`, A and B, comparing each one's posterior-mean value per pitch-minute (rate ×
price) with the hidden truth at every slot boundary:

- regret: how far the truly best in-stock product's value exceeds that of the product the
  beliefs value highest, as a share of the best (0 is perfect);
- top 5: share of the five truly best products among the five valued highest;
- log MSE: mean squared error of log value relative to the catalogue mean.

It says nothing about exploration or the final GMV, only about estimation.

Usage: .venv/bin/python bench/suggestion_estimates.py A.toml B.toml [--seeds 10] [--first-seed 0]
Prints a table by phase of the show, then one line of JSON.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.reorder import START, ProductTable, run_session
from monitor.market import MarketConfig, MarketProduct
from monitor.product_beliefs import FunnelBeliefs
from monitor.product_signals import signals_from_snapshot
from monitor.suggestion_config import DEFAULT_CONFIG_PATH, SuggestionConfig, parse_suggestion_config

Watch = Callable[[float, ProductTable, tuple[MarketProduct, ...]], None]

PHASES = ((0.0, 900.0), (900.0, 2700.0), (2700.0, 7200.0))


def true_value(products: tuple[MarketProduct, ...], config: MarketConfig) -> dict[str, float]:
    """Hidden orders per viewer-minute of full pitch effect, times price, as `monitor.market` draws them."""
    median = float(np.median([p.price for p in products]))
    out = {}
    for p in products:
        conv = p.conversion * (median / p.price) ** config.price_elasticity
        cart_p = min(0.9, 2.5 * conv)
        out[p.product] = p.appeal * cart_p * min(1.0, conv / cart_p) * p.price
    return out


def score(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Regret of the top pick, top-5 overlap and log MSE of relative values."""
    regret = 1.0 - truth[int(np.argmax(estimate))] / truth.max()
    k = min(5, len(truth))
    overlap = len(set(np.argsort(-estimate)[:k]) & set(np.argsort(-truth)[:k])) / k
    error = np.log(estimate / estimate.mean()) - np.log(truth / truth.mean())
    return float(regret), overlap, float(np.mean(error**2))


def follower(configs: list[SuggestionConfig], rows: list[list[float]]) -> Watch:
    """A `run_session` watcher for one session: feeds each setting's beliefs, scores them every slot."""
    beliefs = [FunnelBeliefs(c) for c in configs]
    truth: dict[str, float] = {}

    def watch(now: float, table: ProductTable, products: tuple[MarketProduct, ...]) -> None:
        signals = signals_from_snapshot(table.snapshot(), None, now)
        for b in beliefs:
            b.observe(signals, now, table.online / 1000.0)
        elapsed = now - START
        if elapsed % 180.0 or not elapsed:
            return
        if not truth:
            truth.update(true_value(products, MarketConfig()))
        live = [s for s in signals if not s.out_of_stock]
        actual = np.array([truth[s.product] for s in live])
        row = [elapsed]
        for b in beliefs:
            pooled = b.pooled(signals)
            row.extend(score(np.array([b.mean_rate(s, pooled) * (s.price or 1.0) for s in live]), actual))
        rows.append(row)

    return watch


def main() -> None:
    """Play the sessions, score both settings at every slot boundary, print by phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="settings are tuned on seeds 0-39")
    args = parser.parse_args()
    configs = [parse_suggestion_config(p.read_text()) for p in (args.a, args.b)]
    rows: list[list[float]] = []  # elapsed seconds, then (regret, top 5, log MSE) for A and B
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        run_session(seed, "livemon", 120.0, DEFAULT_CONFIG_PATH.read_text(), watch=follower(configs, rows))
    table = np.array(rows)
    print(f"{args.seeds} sessions from seed {args.first_seed}; A = {args.a}, B = {args.b}\n")
    print(f"{'minutes':<10} {'regret A':>9} {'regret B':>9} {'top5 A':>7} {'top5 B':>7} {'logMSE A':>9} {'logMSE B':>9}")
    figures: dict[str, object] = {"seeds": args.seeds, "first_seed": args.first_seed}
    for lo, hi in PHASES:
        m = table[(table[:, 0] > lo) & (table[:, 0] <= hi)].mean(axis=0)
        print(f"{f'{lo / 60:.0f}-{hi / 60:.0f}':<10} {m[1]:>9.3f} {m[4]:>9.3f} {m[2]:>7.2f} {m[5]:>7.2f} "
              f"{m[3]:>9.3f} {m[6]:>9.3f}")
        figures[f"{lo / 60:.0f}-{hi / 60:.0f}"] = {"a": [round(float(x), 4) for x in m[1:4]],
                                                   "b": [round(float(x), 4) for x in m[4:7]]}
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
