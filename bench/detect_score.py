"""Scoring for the detector bench: labelled incidents against alert firings.

A firing counts as true when it falls inside an incident's window (from `lead_s` before
its start to `GRACE_S` after its end, the end capped at `cap_s` after the start for
incidents that last until the session ends) and its rule is one that incident may
legitimately raise; every other firing is a false alarm. An incident is caught by the
first firing of one of its `detect` rules; its delay is in event time from the true start.

The baseline to beat is a textbook EWMA chart (λ = 0.2, L = 3, mean and σ of the previous
30 bins) on each incident's natural series, run on the same bins.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from monitor.bins import Bin

GRACE_S = 120  # an alert up to 2 min after an incident ends still belongs to it

Fire = tuple[str, str, float]  # (session, rule, at)


@dataclass(frozen=True, slots=True)
class KindRules:
    """Which rules catch an incident kind, which may fire beside them, and its window."""

    detect: tuple[str, ...]  # the first is the rule the incident is reported under
    extra: frozenset[str] = frozenset()
    lead_s: float = 0.0  # firings this long before the start count (an early warning)
    cap_s: float = math.inf  # the window ends at most this long after the start


@dataclass
class Incident:
    """One labelled incident and, after scoring, when each detector first caught it."""

    kind: str
    session: str
    start: float
    end: float
    group: str = ""  # breakdown key for delays, e.g. storm_x3_small
    detected_at: float | None = None
    baseline_at: float | None = None
    pin_switch_s: float | None = None  # product switch within 3 min of the start (s, ±)
    volume: float | None = None  # carts per minute on the affected product while it lasts (conversion drops)


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
    "unanswered_questions": ("up", lambda b: float(b.question_askers)),
}


def baseline_fires(bins: list[Bin]) -> list[Fire]:
    """Run one EWMA chart per baseline series over one session's bins."""
    charts = {rule: EwmaChart(side) for rule, (side, _) in BASELINE_SERIES.items()}
    out = []
    for b in bins:
        for rule, (_, series) in BASELINE_SERIES.items():
            if charts[rule].observe(series(b)):
                out.append((b.session, rule, float(b.end)))
    return out


def score(incidents: list[Incident], kinds: dict[str, KindRules], fires: list[Fire], hours: float,
          attr: str) -> dict[str, dict[str, float | int | None]]:
    """Match firings to incident windows, set `attr` on caught incidents, return per-rule figures."""
    true_fire: set[int] = set()
    by_session: dict[str, list[int]] = {}
    for k, (session, _, _) in enumerate(fires):
        by_session.setdefault(session, []).append(k)
    for inc in incidents:
        rules = kinds[inc.kind]
        until = min(inc.end, inc.start + rules.cap_s) + GRACE_S
        for k in by_session.get(inc.session, []):
            _, rule, at = fires[k]
            if not inc.start - rules.lead_s <= at <= until:
                continue
            if rule in rules.detect:
                true_fire.add(k)
                if getattr(inc, attr) is None or at < getattr(inc, attr):
                    setattr(inc, attr, at)
            elif rule in rules.extra:
                true_fire.add(k)
    names = sorted({rule for _, rule, _ in fires} | {r.detect[0] for r in kinds.values()})
    out: dict[str, dict[str, float | int | None]] = {}
    for rule in names:
        mine = [k for k, f in enumerate(fires) if f[1] == rule]
        false = [k for k in mine if k not in true_fire]
        targets = [inc for inc in incidents if kinds[inc.kind].detect[0] == rule]
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


def group_delays(incidents: list[Incident], attr: str) -> dict[str, float | None]:
    """Median delay per incident group, a miss counting as infinitely late (None: median missed)."""
    groups: dict[str, list[float]] = {}
    for inc in incidents:
        value = getattr(inc, attr)
        groups.setdefault(inc.group or inc.kind, []).append(value - inc.start if value is not None else math.inf)
    medians = {k: statistics.median(v) for k, v in sorted(groups.items())}
    return {k: (round(v, 1) if v != math.inf else None) for k, v in medians.items()}


def fmt(value: object) -> str:
    """Table cell: a number, or '-' when there is none."""
    return "-" if value is None else f"{value:g}"


def print_table(title: str, ours: dict[str, dict[str, float | int | None]],
                base: dict[str, dict[str, float | int | None]]) -> None:
    """Print one per-rule table, ours beside the EWMA baseline."""
    header = f"{'rule':<22}{'n':>4} | {'recall':>7}{'prec':>7}{'FA/h':>7}{'med s':>7}{'p90 s':>7} | " \
             f"{'EWMA recall':>11}{'prec':>7}{'FA/h':>7}{'med s':>7}"
    print(f"{title}\n{header}\n{'-' * len(header)}")
    for rule, row in ours.items():
        b = base.get(rule, {})
        print(f"{rule:<22}{row['incidents']:>4} | {fmt(row['recall']):>7}{fmt(row['precision']):>7}"
              f"{fmt(row['fa_per_session_hour']):>7}{fmt(row['median_delay_s']):>7}{fmt(row['p90_delay_s']):>7} | "
              + (f"{fmt(b.get('recall')):>11}{fmt(b.get('precision')):>7}{fmt(b.get('fa_per_session_hour')):>7}"
                 f"{fmt(b.get('median_delay_s')):>7}" if b else f"{'n/a':>11}"))
