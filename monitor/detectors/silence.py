"""Ingest silence: a live session's bins carry no events at all for `min_silent_s`.

A real live room is never silent for 20 s (viewer counts alone tick every few seconds),
so silence means an adapter or webhook is broken — and every other metric of that
session is unreliable, which is why this alert inhibits others. The default is two whole
empty bins: bins only know that they were empty, and a 30-s outage that straddles bin
edges empties only two of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.condition import Condition, Severity

RULE = "ingest_silence"


@dataclass(frozen=True, slots=True)
class SilenceConfig:
    """How long a live session may send nothing before it is reported."""

    min_silent_s: int = 20

    def __post_init__(self) -> None:
        if self.min_silent_s < BIN_SECONDS:
            raise ValueError(f"min_silent_s: expected >= {BIN_SECONDS}, got {self.min_silent_s}")


class SilenceDetector:
    """Counts consecutive empty bins of one session."""

    def __init__(self, config: SilenceConfig) -> None:
        self.config = config
        self.silent_since: int | None = None

    def observe(self, b: Bin) -> list[Condition]:
        """Return the silence condition once the session has been empty long enough."""
        if b.events > 0:
            self.silent_since = None
            return []
        if self.silent_since is None:
            self.silent_since = b.start
        silent = b.end - self.silent_since
        if silent < self.config.min_silent_s:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.CRITICAL,
                value=float(silent),
                threshold=float(self.config.min_silent_s),
                summary=f"No events received for {silent} s while the session is live — check the adapter",
                evidence=({"silent_since": self.silent_since},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"silent_since": self.silent_since}

    @classmethod
    def from_state(cls, config: SilenceConfig, data: dict[str, Any]) -> SilenceDetector:
        """Inverse of `to_state`."""
        det = cls(config)
        det.silent_since = data["silent_since"]
        return det
