"""Negative-comment storm: upward binomial CUSUMs on the non-spam negative share.

Per 10-s bin, `n` = comments minus spam and `x` = negative comments. Conditioning on
`n` makes the test immune to volume: a flash sale that doubles all comments does not
move the share. Two CUSUMs run side by side: one designed for a doubled share (`shift`),
one for a large storm (`sharp_shift`), which builds its evidence for a tripled share in
fewer comments, in a small room a bin sooner. The baseline `p0` is a count-weighted EW
share started from a prior (warm-up) and frozen while either statistic is in alarm and
until both have drained back to zero, so an incident cannot teach the baseline that it
is normal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.baseline import ShareBaseline, decay_for
from monitor.detectors.condition import Condition, Severity
from monitor.detectors.cusum import cusum_step
from monitor.topics import topic_name

RULE = "negative_storm"
WINDOW_BINS = 6  # the 60-s gate window


@dataclass(frozen=True, slots=True)
class StormConfig:
    """Calibration of the storm CUSUM (see docs/alerts.md for the figures)."""

    h: float = 8.0
    shift: float = 2.0
    prior_share: float = 0.10
    prior_weight: float = 300.0
    half_life_bins: float = 30.0
    min_share: float = 0.02
    max_alt_share: float = 0.9
    gate_comments_60s: int = 20
    gate_negative_60s: int = 5
    critical_ratio: float = 3.0
    cap_factor: float = 1.25
    sharp_shift: float = 4.0
    sharp_h: float = 6.0  # 0: no second statistic

    def __post_init__(self) -> None:
        if self.h <= 0:
            raise ValueError(f"h: expected > 0, got {self.h}")
        if self.shift <= 1:
            raise ValueError(f"shift: expected > 1 (an upward shift), got {self.shift}")
        if not 0 < self.prior_share < 1:
            raise ValueError(f"prior_share: expected in (0, 1), got {self.prior_share}")
        if self.half_life_bins <= 0 or self.prior_weight < 0:
            raise ValueError("half_life_bins: expected > 0 and prior_weight >= 0")
        if self.sharp_h < 0 or (self.sharp_h and self.sharp_shift <= self.shift):
            raise ValueError(f"sharp_h: expected >= 0 with sharp_shift > shift, got {self.sharp_h}, {self.sharp_shift}")
        if self.cap_factor < 1:
            raise ValueError(f"cap_factor: expected >= 1, got {self.cap_factor}")


class StormDetector:
    """Per-session state of the storm test."""

    def __init__(self, config: StormConfig) -> None:
        self.config = config
        self.baseline = ShareBaseline.from_prior(config.prior_share, config.prior_weight)
        self.s = 0.0
        self.sharp = 0.0  # the same test designed for a tripled share: fewer comments to be sure of one
        self.rise_bins = 0  # consecutive bins with evidence (s > 0): the incident so far
        self.holding = False
        self.recent: deque[tuple[int, int, int, str | None]] = deque(maxlen=WINDOW_BINS)

    def observe(self, b: Bin) -> list[Condition]:
        """Fold one bin in and return the storm condition if it holds."""
        cfg = self.config
        n = max(0, b.comments - b.spam)
        x = min(b.negative, n)
        p0 = max(cfg.min_share, self.baseline.share)
        p1 = min(cfg.max_alt_share, cfg.shift * p0)
        self.s = cusum_step(self.s, x, n, p0, p1, cap=cfg.h * cfg.cap_factor)
        if cfg.sharp_h:
            p3 = min(cfg.max_alt_share, cfg.sharp_shift * p0)
            self.sharp = cusum_step(self.sharp, x, n, p0, p3, cap=cfg.sharp_h * cfg.cap_factor)
        self.recent.append((b.start, n, x, b.top_topic))
        self.rise_bins = self.rise_bins + 1 if self.s > 0 else 0
        over = self.s >= cfg.h or (cfg.sharp_h > 0 and self.sharp >= cfg.sharp_h)
        if over:
            self.holding = True
        elif self.s == 0.0 and self.sharp == 0.0:
            self.holding = False
        if not self.holding:
            self.baseline.update(x, n, decay_for(cfg.half_life_bins))
        n60 = sum(r[1] for r in self.recent)
        x60 = sum(r[2] for r in self.recent)
        if not over or n60 < cfg.gate_comments_60s or x60 < cfg.gate_negative_60s:
            return []
        # report the share of the bins that built the evidence, not a minute diluted by calm bins
        rising = list(self.recent)[-min(self.rise_bins, WINDOW_BINS):]
        share = sum(r[2] for r in rising) / max(1, sum(r[1] for r in rising))
        topic = _top_topic(self.recent)
        severity = Severity.CRITICAL if share >= cfg.critical_ratio * p0 else Severity.WARNING
        about = f"; top complaint: {topic_name(topic, 'en')}" if topic else ""
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=severity,
                value=round(share, 4),
                threshold=round(p1, 4),
                summary=f"Negative comments at {share:.0%} of the last {BIN_SECONDS * len(rising)} s "
                f"vs a {p0:.0%} baseline{about}",
                evidence=tuple(
                    {"bin_start": r[0], "comments": r[1], "negative": r[2], "top_topic": r[3]} for r in self.recent
                )
                + ({"cusum": round(self.s, 3), "h": cfg.h, "sharp_cusum": round(self.sharp, 3), "sharp_h": cfg.sharp_h,
                   "baseline_share": round(p0, 4), "top_topic": topic},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"baseline": self.baseline.to_state(), "s": self.s, "sharp": self.sharp, "rise_bins": self.rise_bins, "holding": self.holding,
                "recent": [list(r) for r in self.recent]}

    @classmethod
    def from_state(cls, config: StormConfig, data: dict[str, Any]) -> StormDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.baseline = ShareBaseline.from_state(data["baseline"])
        det.s = float(data["s"])
        det.sharp = float(data.get("sharp", 0.0))  # absent in checkpoints before the second statistic
        det.rise_bins = int(data["rise_bins"])
        det.holding = bool(data["holding"])
        det.recent.extend((int(r[0]), int(r[1]), int(r[2]), r[3]) for r in data["recent"])
        return det


def _top_topic(recent: deque[tuple[int, int, int, str | None]]) -> str | None:
    """Return the topic named by the bins holding the most negative comments."""
    weights: dict[str, int] = {}
    for _, _, x, topic in recent:
        if topic:
            weights[topic] = weights.get(topic, 0) + max(x, 1)
    return max(weights, key=lambda t: weights[t]) if weights else None
