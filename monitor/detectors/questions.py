"""Unanswered questions: viewers keep asking and nobody answers.

The comment pipeline groups questions (by intent and product) and closes a group when the
host answers. A bin carries only the number of open groups and the oldest group's age, not
each group's askers.

The oldest age alone says little: a host never answers everything, one question left until
its product is pitched again keeps the oldest age growing for half an hour, and a question
asked before anything was pinned has no product a pin could answer, so it stays open for the
whole show. Nor does a single bin's count: in an ordinary room groups open and close every
few seconds, so the count jumps by a handful from bin to bin.

What a responder can act on is questions piling up: the open groups, averaged over the last
`window_bins`, well above the room's usual level (the mean of the `baseline_bins` before a
guard band of `baseline_lag_bins`, so a surge does not raise its own baseline), while the
oldest group is at least `min_age_s` old and still open (its age grew since the last bin):

    level >= ratio * usual + min_excess

Until `min_history_bins` bins have been seen the usual level is unknown and the rule is
quiet; with `min_history_bins = 0` it is 0, and `window_bins = 1, ratio = 0, min_excess = 1`
is the plain age rule (one group older than `min_age_s` and still open).
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
    """Age thresholds for the oldest open group (seconds) and how far the open groups must rise."""

    min_age_s: float = 15.0
    warning_age_s: float = 60.0
    window_bins: int = 12  # 2 min: the level of open groups, averaged over the bounce of answers
    baseline_bins: int = 60  # 10 min: the room's usual level
    baseline_lag_bins: int = 6  # 1 min guard band between the two
    min_history_bins: int = 30
    ratio: float = 1.0
    min_excess: float = 2.5

    def __post_init__(self) -> None:
        if not 0 < self.min_age_s <= self.warning_age_s:
            raise ValueError(f"min_age_s/warning_age_s: expected 0 < min <= warning, got {self.min_age_s}, "
                             f"{self.warning_age_s}")
        if self.window_bins < 1 or self.baseline_bins < 1 or self.baseline_lag_bins < 0 or self.min_history_bins < 0:
            raise ValueError(f"window_bins >= 1, baseline_bins >= 1, baseline_lag_bins >= 0 and min_history_bins >= 0 "
                             f"are required, got {self.window_bins}, {self.baseline_bins}, {self.baseline_lag_bins}, "
                             f"{self.min_history_bins}")
        if self.ratio < 0 or self.min_excess <= 0:
            raise ValueError(f"ratio >= 0 and min_excess > 0 are required, got {self.ratio}, {self.min_excess}")


class QuestionsDetector:
    """Remembers the previous bin's oldest age and the open groups of recent bins."""

    def __init__(self, config: QuestionsConfig) -> None:
        self.config = config
        self.previous_age = 0.0
        self.seen = 0  # bins observed, for min_history_bins
        # open groups of the last bins, newest last: window, guard band and baseline
        self.groups: deque[int] = deque(maxlen=config.window_bins + config.baseline_lag_bins + config.baseline_bins)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the condition when open question groups pile up above the room's usual level."""
        cfg = self.config
        groups, age = b.open_question_groups, b.oldest_question_age_s
        prev_age, self.previous_age = self.previous_age, age
        self.groups.append(groups)
        self.seen += 1
        if groups < 1 or age < cfg.min_age_s or age <= prev_age or self.seen <= cfg.min_history_bins:
            return []
        recent = list(self.groups)
        window = recent[-cfg.window_bins:]
        before = recent[: max(0, len(recent) - cfg.window_bins - cfg.baseline_lag_bins)]
        level = sum(window) / len(window)
        usual = sum(before) / len(before) if before else 0.0
        needed = cfg.ratio * usual + cfg.min_excess
        if level < needed:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING if age >= cfg.warning_age_s else Severity.INFO,
                value=round(age, 1),
                threshold=cfg.min_age_s,
                summary=f"{groups} question group(s) unanswered (usually {usual:.0f}), the oldest for {age:.0f} s",
                evidence=({"open_groups": groups, "level": round(level, 2), "usual": round(usual, 2),
                           "needed": round(needed, 2), "oldest_age_s": round(age, 1)},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"previous_age": self.previous_age, "seen": self.seen, "groups": list(self.groups)}

    @classmethod
    def from_state(cls, config: QuestionsConfig, data: dict[str, Any]) -> QuestionsDetector:
        """Inverse of `to_state`; a checkpoint of the earlier rule restarts the history."""
        det = cls(config)
        if "previous_age" in data:
            det.previous_age = float(data["previous_age"])
            det.seen = int(data["seen"])
            det.groups.extend(int(g) for g in data["groups"])
        elif "previous" in data:  # earlier rule: only the previous bin is known
            det.previous_age = float(data["previous"][1])
        return det
