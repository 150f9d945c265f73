"""Dwell drop: how long viewers stay, over the last minute against the 1–15 minutes before.

No platform sends leave events, so the engine's per-visit dwell (`Bin.avg_dwell_s`) is
first to last activity plus an idle timeout: for the many viewers who only enter, it is
the timeout, whatever they really did, and it barely moves when a dull segment sends
people away. What every platform does send is the online gauge and the entries; by flow
balance the viewers who left in a window are

    departures = joins − (online at the end − online at the start)

and by Little's law the mean time a viewer stays is the mean audience over the departure
rate, `W = mean(online) · seconds / departures`. Unlike online ÷ joins, this is not fooled
by an arrival burst (投流): the extra arrivals raise online as much as they raise joins. A
viewer crash sends a spike of departures and lowers W too (the bench lets dwell_drop fire
beside a crash). Bins whose gauge is an engine estimate still count: the estimate is made
the same way across the windows compared.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.detectors.condition import Condition, Severity

RULE = "dwell_drop"


@dataclass(frozen=True, slots=True)
class DwellConfig:
    """Drop when the last `recent_bins`' dwell is `drop` below that of the `reference_bins` before."""

    drop: float = 0.30
    recent_bins: int = 6  # 1 min
    reference_bins: int = 84  # the 14 min before it
    min_history_bins: int = 36  # the reference holds at least 5 min
    min_departures: int = 20  # per window compared: fewer leave a tiny room than a dwell can be judged on
    min_reference_s: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.drop < 1:
            raise ValueError(f"drop: expected in (0, 1), got {self.drop}")
        if self.recent_bins < 1:
            raise ValueError(f"recent_bins: expected >= 1, got {self.recent_bins}")
        if not self.recent_bins < self.min_history_bins <= self.recent_bins + self.reference_bins:
            raise ValueError(f"min_history_bins: expected in (recent_bins, recent_bins + reference_bins], got "
                             f"{self.min_history_bins}")
        if self.min_departures < 1:
            raise ValueError(f"min_departures: expected >= 1, got {self.min_departures}")


def flow_dwell(window: list[tuple[int, int]], start_online: int) -> tuple[float, float] | None:
    """Return (mean dwell in s, departures) of bins `window` = [(online at close, joins)], or None.

    `start_online` is the gauge at the close of the bin before the window.
    """
    departures = sum(j for _, j in window) - (window[-1][0] - start_online)
    if departures <= 0:
        return None
    online = (start_online + sum(v for v, _ in window)) / (len(window) + 1)
    return online * len(window) * BIN_SECONDS / departures, float(departures)


class DwellDetector:
    """Per-session gauge and entries of the last `1 + reference_bins + recent_bins` bins."""

    def __init__(self, config: DwellConfig) -> None:
        self.config = config
        self.history: deque[tuple[int, int]] = deque(maxlen=1 + config.reference_bins + config.recent_bins)

    def observe(self, b: Bin) -> list[Condition]:
        """Return the dwell-drop condition when the last minute's dwell is well below the reference."""
        cfg = self.config
        self.history.append((b.viewers, b.joins))
        if len(self.history) < cfg.min_history_bins:
            return []
        values = list(self.history)
        recent = flow_dwell(values[-cfg.recent_bins:], values[-cfg.recent_bins - 1][0])
        reference = flow_dwell(values[1:-cfg.recent_bins], values[0][0])
        if recent is None or reference is None:
            return []
        (now_s, gone), (ref_s, ref_gone) = recent, reference
        if min(gone, ref_gone) < cfg.min_departures or ref_s < cfg.min_reference_s or now_s > (1 - cfg.drop) * ref_s:
            return []
        return [
            Condition(
                rule=RULE,
                session=b.session,
                severity=Severity.WARNING,
                value=round(now_s, 1),
                threshold=round((1 - cfg.drop) * ref_s, 1),
                summary=f"Viewers stay {now_s:.0f} s on average, down from {ref_s:.0f} s",
                evidence=({"last_minute_s": round(now_s, 1), "reference_s": round(ref_s, 1),
                           "departures_last_minute": int(gone)},),
            )
        ]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint."""
        return {"flow": [list(v) for v in self.history]}

    @classmethod
    def from_state(cls, config: DwellConfig, data: dict[str, Any]) -> DwellDetector:
        """Inverse of `to_state`; a checkpoint of the per-visit rule restarts the history."""
        det = cls(config)
        det.history.extend((int(v), int(j)) for v, j in data.get("flow", []))
        return det
