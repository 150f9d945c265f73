"""An exponentially weighted share (successes ÷ trials) with a warm-up prior.

Both sums decay by the same factor each bin, so the estimate is count-weighted: a
quiet bin with 3 comments moves it far less than a busy one with 300. Starting the
sums from prior pseudo-counts is the warm-up: early in a session the prior dominates,
and it fades as real bins accumulate (about one half-life per `half_life_bins`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def decay_for(half_life_bins: float) -> float:
    """Return the per-bin retention factor for a half-life given in bins."""
    return math.exp(-math.log(2) / half_life_bins)


@dataclass(slots=True)
class ShareBaseline:
    """Mutable EW estimate of a share; `frozen` updates are simply not called."""

    successes: float
    trials: float

    @classmethod
    def from_prior(cls, share: float, weight: float) -> ShareBaseline:
        """Start from `weight` pseudo-trials at `share`."""
        return cls(successes=share * weight, trials=weight)

    @property
    def share(self) -> float:
        """Current estimate (0 when nothing was ever seen)."""
        return self.successes / self.trials if self.trials > 0 else 0.0

    def update(self, x: int, n: int, retention: float) -> None:
        """Fold in one bin's counts."""
        self.successes = self.successes * retention + x
        self.trials = self.trials * retention + n

    def to_state(self) -> list[float]:
        """JSON-ready pair."""
        return [self.successes, self.trials]

    @classmethod
    def from_state(cls, data: list[float]) -> ShareBaseline:
        """Inverse of `to_state`."""
        return cls(successes=float(data[0]), trials=float(data[1]))
