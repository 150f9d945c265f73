"""Dwell drop: average watch time over the last minute against the last 5–15 minutes.

Dwell is a slow signal (it averages over everyone present), so unlike a viewer crash
it is judged on a one-minute mean; bins without a dwell figure are skipped.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin
from monitor.detectors.condition import Condition, Severity

RULE = "dwell_drop"
RECENT_BINS = 6


@dataclass(frozen=True, slots=True)
class DwellConfig:
    """Drop when the last minute's mean dwell is `drop` below the reference mean."""

    drop: float = 0.30
    reference_bins: int = 90
    min_history_bins: int = 30
    min_reference_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.drop < 1:
            raise ValueError(f"drop: expected in (0, 1), got {self.drop}")
        if not RECENT_BINS < self.min_history_bins <= self.reference_bins:
            raise ValueError(f"min_history_bins: expected in ({RECENT_BINS}, reference_bins], got "
                             f"{self.min_history_bins}")


class DwellDetector:
    """Per-session dwell history."""

    def __init__(self, config: DwellConfig) -> None:
        self.config = config
        self.history: deque[float] = deque(maxlen=config.reference_bins)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the dwell-drop condition when the last minute is well below the reference."""
        cfg = self.config
        if b.avg_dwell_s is None:
            return []
        self.history.append(b.avg_dwell_s)
        if len(self.history) < cfg.min_history_bins:
            return []
        values = list(self.history)
        reference = sum(values[:-RECENT_BINS]) / (len(values) - RECENT_BINS)
        recent = sum(values[-RECENT_BINS:]) / RECENT_BINS
        if reference < cfg.min_reference_s or recent > (1 - cfg.drop) * reference:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING,
                value=round(recent, 1),
                threshold=round((1 - cfg.drop) * reference, 1),
                summary=f"Average dwell fell to {recent:.0f} s from {reference:.0f} s",
                evidence=({"last_minute_s": round(recent, 1), "reference_s": round(reference, 1)},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"history": list(self.history)}

    @classmethod
    def from_state(cls, config: DwellConfig, data: dict[str, Any]) -> DwellDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.history.extend(float(v) for v in data["history"])
        return det
