"""What a Suggester hands out: a ranked `Suggestion` and the session's `Attribution`.

Both are immutable records; `Suggestion.to_dict` is the snapshot's `suggestions[]` form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.suggestion_reasons import ReasonCode


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One ranked product: `score` is the sampled GMV value of pitching it next."""

    product: str
    rank: int
    score: float
    reason: str
    reason_zh: str
    reason_codes: tuple[ReasonCode, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot form (`suggestions[]`)."""
        return {
            "product": self.product,
            "rank": self.rank,
            "score": round(self.score, 2),
            "reason": self.reason,
            "reason_zh": self.reason_zh,
            "reason_codes": [c.value for c in self.reason_codes],
        }


@dataclass(frozen=True, slots=True)
class Attribution:
    """How much of the session's pinned GMV followed a suggestion."""

    pins: int
    followed_pins: int
    gmv_pinned: float
    gmv_followed: float
    accepted: int
    skipped: int
