"""Viewer crash: the online count falls sharply against the last 5–15 minutes.

The reference is the median online count of the bins from `reference_bins` ago up to
one minute ago (median: a single glitchy gauge reading does not move it). The current
level is the latest bin, not a minute's mean: a crash is a step, and averaging over a
minute would add ~30 s of delay for no extra certainty about a drop this large.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin
from monitor.detectors.condition import Condition, Severity

RULE = "viewer_crash"
RECENT_BINS = 6  # the last minute, kept out of the reference


@dataclass(frozen=True, slots=True)
class ViewerCrashConfig:
    """Crash when viewers fall by `drop` (fraction) against a reference of ≥ `min_reference`."""

    drop: float = 0.40
    critical_drop: float = 0.50
    reference_bins: int = 90
    min_history_bins: int = 30
    min_reference: int = 50

    def __post_init__(self) -> None:
        if not 0 < self.drop <= self.critical_drop < 1:
            raise ValueError(f"drop/critical_drop: expected 0 < drop <= critical_drop < 1, got {self.drop}, "
                             f"{self.critical_drop}")
        if not RECENT_BINS < self.min_history_bins <= self.reference_bins:
            raise ValueError(f"min_history_bins: expected in ({RECENT_BINS}, reference_bins], got "
                             f"{self.min_history_bins}")


class ViewerCrashDetector:
    """Per-session online-count history."""

    def __init__(self, config: ViewerCrashConfig) -> None:
        self.config = config
        self.history: deque[int] = deque(maxlen=config.reference_bins)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the crash condition when the latest count is far below the reference."""
        cfg = self.config
        self.history.append(b.viewers)
        if len(self.history) < cfg.min_history_bins:
            return []
        reference = statistics.median(list(self.history)[:-RECENT_BINS])
        if reference < cfg.min_reference:
            return []
        fall = 1 - b.viewers / reference
        if fall < cfg.drop:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.CRITICAL if fall >= cfg.critical_drop else Severity.WARNING,
                value=float(b.viewers),
                threshold=round((1 - cfg.drop) * reference, 1),
                summary=f"Viewers fell {fall:.0%}: {b.viewers} online vs {reference:.0f} over the previous minutes",
                evidence=({"online": b.viewers, "reference": reference, "estimated": b.viewers_estimated,
                           "last_minute": list(self.history)[-RECENT_BINS:]},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"history": list(self.history)}

    @classmethod
    def from_state(cls, config: ViewerCrashConfig, data: dict[str, Any]) -> ViewerCrashDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.history.extend(int(v) for v in data["history"])
        return det
