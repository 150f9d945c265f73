""""Last N minutes vs the N minutes before" for headline metrics, worst one highlighted.

The platforms' own dashboards show these deltas; the comparisons are published for the
wallboard (`DetectorSuite.comparisons`), and the worst decline, when it is large and
has enough volume behind it, becomes an info-level condition naming every figure.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.condition import Condition, Severity, labels

RULE = "metric_decline"
METRICS = ("viewers", "comments", "clicks", "carts", "orders", "gmv")
# the count whose volume decides whether a metric's decline means anything (money has no unit count)
VOLUME_OF = {"gmv": "orders"}


@dataclass(frozen=True, slots=True)
class TrendConfig:
    """Window length and what counts as a decline worth highlighting."""

    window_min: int = 5
    decline: float = 0.40
    min_before: float = 20.0

    def __post_init__(self) -> None:
        if self.window_min < 1:
            raise ValueError(f"window_min: expected >= 1, got {self.window_min}")
        if not 0 < self.decline < 1:
            raise ValueError(f"decline: expected in (0, 1), got {self.decline}")

    @property
    def window_bins(self) -> int:
        """Bins in one window."""
        return self.window_min * 60 // BIN_SECONDS


@dataclass(frozen=True, slots=True)
class Comparison:
    """One metric over the last window against the window before it.

    `now`/`before` are sums for counts and means for `viewers`; `delta` is relative.
    """

    metric: str
    now: float
    before: float
    delta: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"metric": self.metric, "now": self.now, "before": self.before, "delta": self.delta,
                "direction": self.direction}


class TrendDetector:
    """Keeps two windows of per-bin headline figures for one session."""

    def __init__(self, config: TrendConfig) -> None:
        self.config = config
        self.rows: deque[tuple[float, ...]] = deque(maxlen=2 * config.window_bins)

    def comparisons(self) -> list[Comparison]:
        """Return every metric's comparison, worst decline first (empty until two windows exist)."""
        w = self.config.window_bins
        if len(self.rows) < 2 * w:
            return []
        rows = list(self.rows)
        out = []
        for i, metric in enumerate(METRICS):
            before = sum(r[i] for r in rows[:w])
            now = sum(r[i] for r in rows[w:])
            if metric == "viewers":
                before, now = before / w, now / w
            delta = (now - before) / before if before else 0.0
            direction = "up" if delta > 0.05 else "down" if delta < -0.05 else "flat"
            out.append(Comparison(metric, round(now, 2), round(before, 2), round(delta, 4), direction))
        return sorted(out, key=lambda c: c.delta)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the worst-decline condition when it passes the volume and size gates."""
        self.rows.append((b.viewers, b.comments, b.clicks, b.carts, b.orders, b.gmv))
        comparisons = self.comparisons()
        before = {c.metric: c.before for c in comparisons}
        eligible = [c for c in comparisons if before[VOLUME_OF.get(c.metric, c.metric)] >= self.config.min_before]
        if not eligible or eligible[0].delta > -self.config.decline:
            return []
        worst = eligible[0]
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.INFO,
                value=worst.delta,
                threshold=-self.config.decline,
                summary=f"{worst.metric} {worst.delta:+.0%} over the last {self.config.window_min} min "
                f"({worst.now:g} vs {worst.before:g})",
                labels=labels(metric=worst.metric),
                evidence=tuple(c.to_dict() for c in comparisons),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"rows": [list(r) for r in self.rows]}

    @classmethod
    def from_state(cls, config: TrendConfig, data: dict[str, Any]) -> TrendDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.rows.extend(tuple(float(v) for v in r) for r in data["rows"])
        return det
