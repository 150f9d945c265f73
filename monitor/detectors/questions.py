"""Unanswered questions: viewers keep asking and nobody answers.

The comment pipeline groups questions and closes a group when the host answers. A
group older than `min_age_s` whose age kept growing since the last bin (the same
group is still open) while the number of open groups did not shrink is waiting for
an answer right now.

That alone fires on every show: a host never answers everything, and one question left
until its product is pitched again keeps the oldest age growing for half an hour. A bin
carries only the number of open groups and the oldest age (not each group's askers), so
"still growing" is read from the groups: at least `min_groups` open and `min_new_groups`
more than at any point of the last `growth_bins` bins — many people asking about things
nobody answers, which is what a responder can act on.
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
    """Age thresholds for the oldest open question group, in seconds."""

    min_age_s: float = 15.0
    warning_age_s: float = 60.0
    min_groups: int = 3
    min_new_groups: int = 2
    growth_bins: int = 6

    def __post_init__(self) -> None:
        if not 0 < self.min_age_s <= self.warning_age_s:
            raise ValueError(f"min_age_s/warning_age_s: expected 0 < min <= warning, got {self.min_age_s}, "
                             f"{self.warning_age_s}")
        if self.min_groups < 1 or self.min_new_groups < 0 or self.growth_bins < 1:
            raise ValueError(f"min_groups >= 1, min_new_groups >= 0 and growth_bins >= 1 are required, got "
                             f"{self.min_groups}, {self.min_new_groups}, {self.growth_bins}")


class QuestionsDetector:
    """Remembers the previous bin's open groups and oldest age."""

    def __init__(self, config: QuestionsConfig) -> None:
        self.config = config
        self.previous: tuple[int, float] = (0, 0.0)
        self.recent_groups: deque[int] = deque(maxlen=config.growth_bins)  # open groups of the bins before

    def observe(self, b: Bin) -> list[Condition]:
        """Return the condition when an old question group is still open and not shrinking."""
        cfg = self.config
        groups, age = b.open_question_groups, b.oldest_question_age_s
        prev_groups, prev_age = self.previous
        self.previous = (groups, age)
        low = min(self.recent_groups, default=0)
        self.recent_groups.append(groups)
        if groups < cfg.min_groups or age < cfg.min_age_s or age <= prev_age or groups < prev_groups:
            return []
        if groups - low < cfg.min_new_groups:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING if age >= cfg.warning_age_s else Severity.INFO,
                value=round(age, 1),
                threshold=cfg.min_age_s,
                summary=f"{groups} question group(s) unanswered, the oldest for {age:.0f} s",
                evidence=({"open_groups": groups, "oldest_age_s": round(age, 1)},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"previous": list(self.previous), "recent_groups": list(self.recent_groups)}

    @classmethod
    def from_state(cls, config: QuestionsConfig, data: dict[str, Any]) -> QuestionsDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.previous = (int(data["previous"][0]), float(data["previous"][1]))
        det.recent_groups.extend(int(g) for g in data.get("recent_groups", []))  # absent in older checkpoints
        return det
