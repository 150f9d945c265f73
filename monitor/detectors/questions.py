"""Unanswered questions: a crowd keeps asking about one product and nobody answers.

The comment pipeline groups questions by intent and product, closes a group when the host
pins its product (or someone marks it answered), and puts in each bin the product with the
most distinct viewers waiting on open questions: how many (`Bin.question_askers`) and how
long the oldest of them has waited (`Bin.question_askers_age_s`).

Distinct askers are what a responder acts on. Neither the number of open groups nor the
oldest age can tell it: one question left for its product's next pitch keeps the oldest age
growing for half an hour, and groups open and close every few seconds in a busy room. In an
ordinary room the crowd on one product stays small because the host answers within seconds
(the room's usual level); a question surge nobody answers adds several askers every bin.

The rule holds when the crowd is well above the room's usual level (the mean of
`baseline_bins` before a guard band of `baseline_lag_bins`, so a surge does not raise its
own baseline), it has waited at least `min_age_s`, and it is still growing:

    askers >= ratio * usual + min_excess

Until `min_history_bins` bins have been seen the usual level is unknown and the rule is quiet.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin
from monitor.detectors.condition import Condition, Severity

RULE = "unanswered_questions"


@dataclass(frozen=True, slots=True)
class QuestionsConfig:
    """How long the crowd must have waited (seconds) and how far above the usual it must be (askers)."""

    min_age_s: float = 15.0
    warning_age_s: float = 60.0
    baseline_bins: int = 60  # 10 min: the room's usual crowd on its most-asked product
    baseline_lag_bins: int = 6  # 1 min guard band
    min_history_bins: int = 30
    ratio: float = 3.0
    min_excess: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.min_age_s <= self.warning_age_s:
            raise ValueError(f"min_age_s/warning_age_s: expected 0 < min <= warning, got {self.min_age_s}, "
                             f"{self.warning_age_s}")
        if self.baseline_bins < 1 or self.baseline_lag_bins < 0 or self.min_history_bins < 0:
            raise ValueError(f"baseline_bins >= 1, baseline_lag_bins >= 0 and min_history_bins >= 0 are required, "
                             f"got {self.baseline_bins}, {self.baseline_lag_bins}, {self.min_history_bins}")
        if self.ratio < 0 or self.min_excess <= 0:
            raise ValueError(f"ratio >= 0 and min_excess > 0 are required, got {self.ratio}, {self.min_excess}")


class QuestionsDetector:
    """Remembers the askers of recent bins: the guard band and the baseline before it."""

    def __init__(self, config: QuestionsConfig) -> None:
        self.config = config
        self.seen = 0  # bins observed, for min_history_bins
        self.askers: deque[int] = deque(maxlen=1 + config.baseline_lag_bins + config.baseline_bins)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the condition when a growing crowd waits well above the room's usual level."""
        cfg = self.config
        askers, age = b.question_askers, b.question_askers_age_s
        previous = self.askers[-1] if self.askers else 0
        self.askers.append(askers)
        self.seen += 1
        if askers <= previous or age < cfg.min_age_s or self.seen <= cfg.min_history_bins:
            return []
        before = list(self.askers)[: max(0, len(self.askers) - 1 - cfg.baseline_lag_bins)]
        usual = sum(before) / len(before) if before else 0.0
        needed = cfg.ratio * usual + cfg.min_excess
        if askers < needed:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING if age >= cfg.warning_age_s else Severity.INFO,
                value=float(askers),
                threshold=round(needed, 1),
                summary=f"{askers} viewers waiting for an answer about one product (usually {usual:.0f}), "
                f"the first for {age:.0f} s",
                evidence=({"askers": askers, "usual": round(usual, 2), "needed": round(needed, 2),
                           "oldest_age_s": round(age, 1), "open_groups": b.open_question_groups},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"seen": self.seen, "askers": list(self.askers)}

    @classmethod
    def from_state(cls, config: QuestionsConfig, data: dict[str, Any]) -> QuestionsDetector:
        """Inverse of `to_state`; a checkpoint of the earlier open-group rule restarts the history."""
        det = cls(config)
        if "askers" in data:
            det.seen = int(data["seen"])
            det.askers.extend(int(a) for a in data["askers"])
        return det
