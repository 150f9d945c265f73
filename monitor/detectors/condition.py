"""What a detector reports: a named rule holding for one session right now.

A `Condition` is a fact about one evaluated bin, not an alert: the alert lifecycle
(`monitor.alerts`) decides whether it becomes pending, firing or resolved.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.StrEnum):
    """How urgently a responder should look; ordered info < warning < critical."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Order for comparisons and routing ("at least warning")."""
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, slots=True)
class Condition:
    """One rule holding for one session at the end of one bin.

    Labels are sorted (name, value) pairs so that the fingerprint session + rule +
    labels is deterministic; only put stable identities there (a product id), never a
    changing figure, or every evaluation would open a new alert.
    """

    rule: str
    session: str
    severity: Severity
    value: float
    threshold: float
    summary: str
    labels: tuple[tuple[str, str], ...] = ()
    evidence: tuple[dict[str, Any], ...] = field(default=())

    def label_dict(self) -> dict[str, str]:
        """Return the labels as a plain dict."""
        return dict(self.labels)


def labels(**values: str) -> tuple[tuple[str, str], ...]:
    """Build the canonical sorted label tuple."""
    return tuple(sorted(values.items()))
