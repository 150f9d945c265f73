""""Last N minutes vs the N minutes before" for headline metrics, worst one highlighted.

The platforms' own dashboards show these deltas; the comparisons are published for the
wallboard (`DetectorSuite.comparisons`) with the worst decline flagged, as on the
platforms' dashboards. They raise no alert (see `TrendDetector.observe`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.condition import Condition

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
    worst: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"metric": self.metric, "now": self.now, "before": self.before, "delta": self.delta,
                "direction": self.direction, "worst": self.worst}


class TrendDetector:
    """Keeps two windows of per-bin headline figures for one session."""

    def __init__(self, config: TrendConfig) -> None:
        self.config = config
        self.rows: deque[tuple[float, ...]] = deque(maxlen=2 * config.window_bins)

    def comparisons(self) -> list[Comparison]:
        """Return every metric's comparison, worst decline first (empty until two windows exist).

        The first comparison with enough volume behind it (`min_before`; GMV is judged by
        its order count) and a decline of at least `decline` is flagged `worst`.
        """
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
        out.sort(key=lambda c: c.delta)
        volume = {c.metric: c.before for c in out}
        for k, c in enumerate(out):
            if volume[VOLUME_OF.get(c.metric, c.metric)] >= self.config.min_before:
                if c.delta <= -self.config.decline:
                    out[k] = Comparison(c.metric, c.now, c.before, c.delta, c.direction, worst=True)
                break
        return out

    def observe(self, b: Bin) -> list[Condition]:
        """Record one bin. Comparisons are a dashboard highlight, never an alert: a flash
        sale ending halves comment volume every time, and paging someone for it would
        spend the false-alarm budget on nothing (measured in bench/detect.py)."""
        self.rows.append((b.viewers, b.comments, b.clicks, b.carts, b.orders, b.gmv))
        return []

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"rows": [list(r) for r in self.rows]}

    @classmethod
    def from_state(cls, config: TrendConfig, data: dict[str, Any]) -> TrendDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.rows.extend(tuple(float(v) for v in r) for r in data["rows"])
        return det
