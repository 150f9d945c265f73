"""Raid: a coordinated wave of comments, reported as its own alert kind.

The comment pipeline labels raid comments (`Bin.raid`); a raid moves volume and often
the negative share, so it is named separately rather than left to look like a storm.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin
from monitor.detectors.condition import Condition, Severity

RULE = "raid"
WINDOW_BINS = 6


@dataclass(frozen=True, slots=True)
class RaidConfig:
    """A raid holds when enough raid-labelled comments arrived in the last minute."""

    min_raid_60s: int = 10
    min_share: float = 0.05

    def __post_init__(self) -> None:
        if self.min_raid_60s < 1:
            raise ValueError(f"min_raid_60s: expected >= 1, got {self.min_raid_60s}")
        if not 0 <= self.min_share <= 1:
            raise ValueError(f"min_share: expected in [0, 1], got {self.min_share}")


class RaidDetector:
    """Per-session last-minute raid counts."""

    def __init__(self, config: RaidConfig) -> None:
        self.config = config
        self.recent: deque[tuple[int, int]] = deque(maxlen=WINDOW_BINS)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the raid condition when the last minute holds a labelled raid."""
        self.recent.append((b.raid, b.comments))
        raid = sum(r[0] for r in self.recent)
        comments = sum(r[1] for r in self.recent)
        share = raid / comments if comments else 0.0
        if raid < self.config.min_raid_60s or share < self.config.min_share:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING,
                value=float(raid),
                threshold=float(self.config.min_raid_60s),
                summary=f"Raid: {raid} coordinated comments in the last minute ({share:.0%} of all comments)",
                evidence=({"raid_60s": raid, "comments_60s": comments},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"recent": [list(r) for r in self.recent]}

    @classmethod
    def from_state(cls, config: RaidConfig, data: dict[str, Any]) -> RaidDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.recent.extend((int(a), int(c)) for a, c in data["recent"])
        return det
