"""Thresholds that decide when a number becomes a finding; validated once, explained when wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """When the review speaks up. Defaults are set so that an ordinary session yields no finding.

    Pitch time has an inverted-U effect on sales (PLATFORMS.md §4.4/§1.8): too short a pitch
    cannot sell, so "under-pitched" compares a product with the session's own median pitch
    rather than with a fixed ideal.
    """

    under_pitch_ratio: float = 0.4  # total pitch time below this share of the median product's…
    under_pitch_max_s: float = 180.0  # …and below this many seconds
    min_pitched_products: int = 3  # a median of fewer products says nothing
    loss_window_min: int = 5
    loss_min_share: float = 0.15  # online must fall by this share of its level…
    loss_min_viewers: float = 20.0  # …and by at least this many viewers
    unpaid_min: int = 3
    unpaid_share: float = 0.3  # unpaid ÷ orders placed
    question_min: int = 3
    question_wait_s: float = 120.0
    ack_late_s: float = 120.0  # acknowledged later than this after firing, or firing this long unacknowledged
    follow_window_s: float = 120.0  # a pitch starting this soon after an accepted suggestion followed it
    utc_offset_s: int = 8 * 3600  # clock times in findings are the room's local time (China by default)

    def __post_init__(self) -> None:
        checks = {
            "under_pitch_ratio": 0 < self.under_pitch_ratio <= 1,
            "under_pitch_max_s": self.under_pitch_max_s > 0,
            "min_pitched_products": self.min_pitched_products >= 2,
            "loss_window_min": self.loss_window_min >= 1,
            "loss_min_share": 0 < self.loss_min_share < 1,
            "loss_min_viewers": self.loss_min_viewers >= 0,
            "unpaid_min": self.unpaid_min >= 1,
            "unpaid_share": 0 < self.unpaid_share <= 1,
            "question_min": self.question_min >= 1,
            "question_wait_s": self.question_wait_s > 0,
            "ack_late_s": self.ack_late_s > 0,
            "follow_window_s": self.follow_window_s > 0,
            "utc_offset_s": -14 * 3600 <= self.utc_offset_s <= 14 * 3600,
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            name = wrong[0]
            raise ValueError(f"review setting '{name}': value {getattr(self, name)!r} is out of range")
