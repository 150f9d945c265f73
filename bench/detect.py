"""Detector evaluation on labelled synthetic sessions: recall, precision, false alarms, delay.

Generates 10-s `Bin` series itself (no simulator yet): incident-free sessions with
ordinary ups and downs (audience random walk, flash-sale volume surges at an unchanged
negative share, product switches that move conversion ±20 %, a drifting negative share,
questions answered within seconds), and sessions with injected, labelled incidents of
every kind. Each session runs through the real `DetectorSuite` and `AlertBook` with the
shipped `config/alerts.toml`; an alert counts when it *fires* (after `for`).

Side by side, on the same bins: a plain EWMA chart (λ = 0.2, L = 3, mean and σ from the
previous 30 bins) on each incident's natural series — the baseline to beat.

    python bench/detect.py [--seed 1] [--quick]

Prints a table per detector and ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.alert_config import load_alert_config
from monitor.alerts import AlertBook
from monitor.bins import BIN_SECONDS, Bin, ProductBin
from monitor.detectors import DetectorSuite

T0 = 1_767_225_600  # 2026-01-01
WARM_BINS = 60  # incidents start after 10 min: baselines need a history
GRACE_S = 120  # an alert up to 2 min after an incident ends still belongs to it

# incident kind -> (rule that must catch it, rules that may legitimately fire too)
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "storm_x3": ("negative_storm", frozenset()),
    "storm_x2": ("negative_storm", frozenset()),
    "raid": ("raid", frozenset({"negative_storm"})),
    "conversion_drop_30": ("conversion_drop", frozenset({"carts_not_converting"})),
    "checkout_broken": ("checkout_broken", frozenset({"conversion_drop", "carts_not_converting"})),
    "viewer_crash": ("viewer_crash", frozenset({"dwell_drop", "conversion_drop"})),
    "dwell_drop": ("dwell_drop", frozenset()),
    "carts_stuck": ("carts_not_converting", frozenset({"conversion_drop"})),
    "sellout": ("sellout_risk", frozenset({"out_of_stock_pinned", "conversion_drop", "checkout_broken",
                                           "carts_not_converting"})),
    "out_of_stock": ("out_of_stock_pinned", frozenset({"conversion_drop", "checkout_broken",
                                                       "carts_not_converting"})),
    "questions": ("unanswered_questions", frozenset()),
    "silence": ("ingest_silence", frozenset({"viewer_crash", "negative_storm", "raid", "dwell_drop",
                                             "conversion_drop", "checkout_broken", "carts_not_converting"})),
}
DURATION_BINS = {"storm_x3": 24, "storm_x2": 36, "raid": 12, "conversion_drop_30": 36, "checkout_broken": 12,
                 "viewer_crash": 30, "dwell_drop": 30, "carts_stuck": 36, "sellout": 36, "out_of_stock": 12,
                 "questions": 8, "silence": 9}


@dataclass
class Incident:
    kind: str
    session: str
    start: int
    end: int
    comment_rate: float
    detected_at: float | None = None
    baseline_at: float | None = None
    pin_switch_s: float | None = None  # when the host switched products within 3 min of the start (s, ±)


@dataclass
class SessionPlan:
    name: str
    bins: int
    comment_rate: float  # comments per bin
    cart_rate: float  # carts per bin
    incidents: list[Incident] = field(default_factory=list)


def make_bins(plan: SessionPlan, rng: np.random.Generator) -> list[Bin]:
    """Generate one session's bins with its incidents injected.

    Incidents start at any second, not on bin edges, so the first affected bin holds
    the incident for only a fraction `f` of its 10 s, and delays are measured from
    the true start.
    """
    viewers0 = float(rng.uniform(400, 5000))
    level = viewers0
    logit = math.log(0.1 / 0.9) + float(rng.normal(0, 0.3))
    products = [f"{plan.name}-p{k}" for k in range(12)]
    conv = {p: 0.30 * float(rng.uniform(0.8, 1.2)) for p in products}
    pin_index, next_switch = 0, int(rng.integers(36, 72))
    surge_until = -1
    stock: int | None = None
    out = []
    for i in range(plan.bins):
        start, end = T0 + i * BIN_SECONDS, T0 + (i + 1) * BIN_SECONDS
        inc = next((x for x in plan.incidents if x.start < end and x.end > start), None)
        kind = inc.kind if inc else None
        f = (min(end, inc.end) - max(start, inc.start)) / BIN_SECONDS if inc else 0.0
        if i == next_switch:
            pin_index, next_switch = pin_index + 1, i + int(rng.integers(36, 72))
            for x in plan.incidents:
                if -180 <= start - x.start < 180 and (x.pin_switch_s is None or start - x.start >= 0):
                    x.pin_switch_s = start - x.start
        if rng.random() < 0.004:
            surge_until = i + int(rng.integers(6, 18))  # flash sale: volume up, share unchanged
        surge = 2.5 if i < surge_until else 1.0
        level *= math.exp(float(rng.normal(0, 0.008)) - 0.0005 * math.log(level / viewers0))
        crash = 0.5 if kind == "viewer_crash" else 1.0  # a gauge: the bin reports the value at its end
        viewers = int(level * crash * (1 + float(rng.normal(0, 0.03))) * (1.3 if surge > 1 else 1))
        logit += float(rng.normal(0, 0.03)) - 0.02 * (logit - math.log(0.1 / 0.9))
        share = 1 / (1 + math.exp(-logit))
        share *= 1 + (2 if kind == "storm_x3" else 1 if kind == "storm_x2" else 0) * f
        volume = plan.comment_rate * surge * (viewers / viewers0) ** 0.5
        n = int(rng.poisson(volume))
        negative = int(rng.binomial(n, min(share, 0.95)))
        spam = int(rng.binomial(n, 0.05))
        raid = 0
        if kind == "raid":
            raid = int(rng.poisson(volume * 1.2 * f))
            negative += int(rng.binomial(raid, 0.1))
            n += raid
        pinned = products[pin_index % len(products)]
        p_conv = conv[pinned] * (1 - 0.3 * f if kind == "conversion_drop_30" else 1 - f if kind == "checkout_broken"
                                 else 1)
        carts = int(rng.poisson(plan.cart_rate * surge))
        clicks = carts * 3 + int(rng.poisson(5))
        orders = int(rng.binomial(carts, p_conv))
        product_bins = []
        if kind == "sellout":
            if stock is None:
                stock = int(max(orders, 1) * 6 * 4)  # restock report: ~4 min left at the current pace
            stock = max(0, stock - orders)
            if stock == 0:
                orders = 0
        elif kind == "out_of_stock":
            stock, orders = 0, int(orders * (1 - f))
        else:
            stock = None
        product_bins.append(ProductBin(pinned, clicks=clicks, carts=carts, orders=orders, pinned=True,
                                       stock=stock if stock is not None else 10_000))
        if kind == "carts_stuck":
            hes = f"{plan.name}-hesitant"
            h_clicks, h_carts = int(rng.poisson(8 * f)), int(rng.poisson(2 * f))
            h_orders = int(rng.binomial(h_carts, 0.02))
            product_bins.append(ProductBin(hes, clicks=h_clicks, carts=h_carts, orders=h_orders))
            clicks, carts, orders = clicks + h_clicks, carts + h_carts, orders + h_orders
        dwell = float(rng.normal(90, 10)) * (1 - 0.5 * f if kind == "dwell_drop" else 1.0)
        if kind == "questions" and inc is not None:
            groups, age = 1 + (i % 3 == 0), float(min(end, inc.end) - inc.start)  # asked at the incident start
        else:
            opened = rng.random() < 0.15  # asked and answered within seconds
            groups, age = int(opened), float(rng.uniform(1, 9)) if opened else 0.0
        events = n + spam + clicks + carts + orders + 3
        if kind == "silence":
            if f >= 1:
                n = negative = spam = raid = clicks = carts = orders = groups = 0
                age, product_bins = 0.0, []
            events = int(events * (1 - f))
        out.append(Bin(session=plan.name, start=start, viewers=viewers, viewers_estimated=False,
                       comments=n + spam, negative=negative, spam=spam, raid=raid,
                       top_topic="quality" if kind in ("storm_x3", "storm_x2") else None,
                       clicks=clicks, carts=carts, orders=orders, gmv=orders * 99.0, avg_dwell_s=dwell,
                       open_question_groups=groups, oldest_question_age_s=age, events=events,
                       products=tuple(product_bins)))
    return out


def plan_sessions(rng: np.random.Generator, per_kind: int, clean: int, hours: float) -> list[SessionPlan]:
    """Sessions with incidents (two per session, kinds shuffled) plus incident-free ones."""
    kinds = [k for k in KINDS for _ in range(per_kind)]
    rng.shuffle(kinds)
    bins = int(hours * 3600 / BIN_SECONDS)
    plans = []
    for s in range(0, len(kinds), 2):
        plan = SessionPlan(f"inc{s // 2}", bins, float(rng.uniform(15, 100)), 200 / 6)
        starts = [int(rng.integers(WARM_BINS, bins // 2 - 40)), int(rng.integers(bins // 2 + 20, bins - 60))]
        for kind, start in zip(kinds[s:s + 2], starts):
            at = T0 + start * BIN_SECONDS + int(rng.integers(0, BIN_SECONDS))
            plan.incidents.append(Incident(kind, plan.name, at, at + DURATION_BINS[kind] * BIN_SECONDS,
                                           plan.comment_rate))
        plans.append(plan)
    for c in range(clean):
        plans.append(SessionPlan(f"clean{c}", bins, float(rng.uniform(15, 100)), float(rng.uniform(10, 40))))
    return plans


class EwmaChart:
    """Textbook EWMA chart (λ, L) with mean/σ from a rolling window of the previous bins."""

    def __init__(self, side: str, lam: float = 0.2, width: float = 3.0, window: int = 30) -> None:
        self.side, self.lam, self.width, self.window = side, lam, width, window
        self.history: list[float] = []
        self.z: float | None = None
        self.out = False

    def observe(self, x: float) -> bool:
        """Return True on the first bin of each out-of-control excursion."""
        fired = False
        if len(self.history) >= self.window:
            ref = self.history[-self.window:]
            mu, sd = statistics.fmean(ref), statistics.pstdev(ref) or 1e-9
            self.z = x if self.z is None else self.lam * x + (1 - self.lam) * self.z
            limit = self.width * sd * math.sqrt(self.lam / (2 - self.lam))
            beyond = self.z > mu + limit if self.side == "up" else self.z < mu - limit
            fired, self.out = beyond and not self.out, beyond
        self.history.append(x)
        del self.history[:-self.window]
        return fired


BASELINE_SERIES: dict[str, tuple[str, Callable[[Bin], float]]] = {
    "negative_storm": ("up", lambda b: b.negative / max(1, b.comments - b.spam)),
    "raid": ("up", lambda b: b.raid / max(1, b.comments)),
    "conversion_drop": ("down", lambda b: b.orders / max(1, b.carts)),
    "checkout_broken": ("down", lambda b: b.orders / max(1, b.carts)),
    "viewer_crash": ("down", lambda b: float(b.viewers)),
    "dwell_drop": ("down", lambda b: b.avg_dwell_s or 0.0),
    "ingest_silence": ("down", lambda b: float(b.events)),
}


def run(plans: list[SessionPlan], rng: np.random.Generator) -> dict[str, object]:
    config = load_alert_config()
    fires: list[tuple[str, str, float]] = []  # (session, rule, at)
    base_fires: list[tuple[str, str, float]] = []
    n_bins, t_detect = 0, 0.0
    for plan in plans:
        bins = make_bins(plan, rng)
        suite, book = DetectorSuite(config.detectors), AlertBook(config.lifecycle)
        charts = {rule: EwmaChart(side) for rule, (side, _) in BASELINE_SERIES.items()}
        started = time.perf_counter()
        for b in bins:
            for t in book.evaluate(suite.observe(b), {b.session}, float(b.end)):
                if t.event == "firing":
                    fires.append((b.session, t.rule, t.at))
        t_detect += time.perf_counter() - started
        n_bins += len(bins)
        for b in bins:
            for rule, (_, series) in BASELINE_SERIES.items():
                if charts[rule].observe(series(b)):
                    base_fires.append((b.session, rule, float(b.end)))
    incidents = [inc for p in plans for inc in p.incidents]
    hours = sum(p.bins for p in plans) * BIN_SECONDS / 3600
    return {"ours": score(incidents, fires, hours, "detected_at"),
            "baseline": score(incidents, base_fires, hours, "baseline_at"),
            "incidents": incidents, "hours": hours, "bins": n_bins, "bins_per_s": n_bins / t_detect}


def score(incidents: list[Incident], fires: list[tuple[str, str, float]], hours: float,
          attr: str) -> dict[str, dict[str, float | int | None]]:
    """Match firings to incident windows and compute per-rule figures."""
    true_fire: set[int] = set()
    for inc in incidents:
        primary, extra = KINDS[inc.kind]
        for k, (session, rule, at) in enumerate(fires):
            if session != inc.session or not inc.start <= at <= inc.end + GRACE_S:
                continue
            if rule == primary:
                true_fire.add(k)
                if getattr(inc, attr) is None or at < getattr(inc, attr):
                    setattr(inc, attr, at)
            elif rule in extra:
                true_fire.add(k)
    rules = sorted({rule for _, rule, _ in fires} | {p for p, _ in KINDS.values()})
    out: dict[str, dict[str, float | int | None]] = {}
    for rule in rules:
        mine = [k for k, f in enumerate(fires) if f[1] == rule]
        false = [k for k in mine if k not in true_fire]
        targets = [inc for inc in incidents if KINDS[inc.kind][0] == rule]
        delays = [getattr(inc, attr) - inc.start for inc in targets if getattr(inc, attr) is not None]
        out[rule] = {
            "incidents": len(targets),
            "recall": round(len(delays) / len(targets), 3) if targets else None,
            "precision": round(1 - len(false) / len(mine), 3) if mine else None,
            "false_alarms": len(false),
            "fa_per_session_hour": round(len(false) / hours, 3),
            "median_delay_s": round(statistics.median(delays), 1) if delays else None,
            "p90_delay_s": round(float(np.percentile(delays, 90)), 1) if delays else None,
        }
    return out


def fmt(value: object) -> str:
    """Table cell: a number, or '-' when there is none."""
    return "-" if value is None else f"{value:g}"


def kind_delays(incidents: list[Incident], attr: str) -> dict[str, float | None]:
    """Median delay per incident kind (storms split by room size)."""
    groups: dict[str, list[float]] = {}
    for inc in incidents:
        key = inc.kind
        if inc.kind.startswith("storm"):
            key += "_small" if inc.comment_rate < 40 else "_large"
        value = getattr(inc, attr)
        groups.setdefault(key, []).append(value - inc.start if value is not None else math.inf)
    return {k: (round(statistics.median(v), 1) if statistics.median(v) != math.inf else None)
            for k, v in sorted(groups.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter sessions (for development)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    per_kind, clean, hours = (2, 4, 1.0) if args.quick else (6, 24, 1.5)
    plans = plan_sessions(rng, per_kind, clean, hours)
    result = run(plans, rng)
    ours, base = result["ours"], result["baseline"]
    assert isinstance(ours, dict) and isinstance(base, dict)
    incidents = result["incidents"]
    assert isinstance(incidents, list)
    print(f"{len(plans)} sessions, {result['hours']:.1f} session-hours, {len(incidents)} incidents, "
          f"{result['bins']} bins at {result['bins_per_s']:.0f} bins/s (suite + alert book)\n")
    header = f"{'rule':<22}{'n':>4} | {'recall':>7}{'prec':>7}{'FA/h':>7}{'med s':>7}{'p90 s':>7} | " \
             f"{'EWMA recall':>11}{'prec':>7}{'FA/h':>7}{'med s':>7}"
    print(header + "\n" + "-" * len(header))
    for rule, row in ours.items():
        b = base.get(rule, {})
        print(f"{rule:<22}{row['incidents']:>4} | {fmt(row['recall']):>7}{fmt(row['precision']):>7}"
              f"{fmt(row['fa_per_session_hour']):>7}{fmt(row['median_delay_s']):>7}{fmt(row['p90_delay_s']):>7} | "
              + (f"{fmt(b.get('recall')):>11}{fmt(b.get('precision')):>7}{fmt(b.get('fa_per_session_hour')):>7}"
                 f"{fmt(b.get('median_delay_s')):>7}" if b else f"{'n/a':>11}"))
    total_fa = sum(r["false_alarms"] or 0 for r in ours.values())
    base_fa = sum(r["false_alarms"] or 0 for r in base.values())
    found = sum(1 for inc in incidents if inc.detected_at is not None)
    hours_total = result["hours"]
    assert isinstance(hours_total, float)
    print(f"\nall detectors: recall {found / len(incidents):.3f}, false alarms {total_fa} "
          f"= {total_fa / hours_total:.3f} per session-hour (EWMA baseline on 7 series: {base_fa / hours_total:.3f})")
    delays = kind_delays(incidents, "detected_at")
    print("median delay by incident kind (s):", ", ".join(f"{k} {v}" for k, v in delays.items()))
    drops = [inc for inc in incidents if inc.kind == "conversion_drop_30"]
    switched = [inc for inc in drops if inc.pin_switch_s is not None]
    print(f"conversion drops: {len(switched)} of {len(drops)} had a product switch within 3 min before or after the "
          f"start (caught {sum(i.detected_at is not None for i in switched)}); without one, caught "
          f"{sum(i.detected_at is not None for i in drops if i.pin_switch_s is None)} of {len(drops) - len(switched)}")
    print(orjson.dumps({
        "bench": "detect", "seed": args.seed, "sessions": len(plans), "session_hours": round(hours_total, 2),
        "incidents": len(incidents), "bins_per_s": round(float(result["bins_per_s"]), 0),  # type: ignore[arg-type]
        "recall": round(found / len(incidents), 3), "fa_per_session_hour": round(total_fa / hours_total, 3),
        "baseline_fa_per_session_hour": round(base_fa / hours_total, 3), "median_delay_by_kind_s": delays,
        "per_rule": ours, "baseline_per_rule": base,
    }).decode())


if __name__ == "__main__":
    main()
