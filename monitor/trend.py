""" "Last N min vs the N min before" (WeChat Channels `live_comparison_index` style)."""

from __future__ import annotations

from typing import Any


def trend(now: float | None, before: float | None, flat_ratio: float) -> dict[str, Any]:
    """Compare two consecutive windows of one metric.

    Direction is "flat" when the change is within `flat_ratio` of the earlier value
    (or both are zero), so noise does not flicker arrows on the wallboard; None when
    either side is unknown.
    """
    if now is None or before is None:
        return {"now": now, "before": before, "delta": None, "direction": None}
    delta = now - before
    if abs(delta) <= flat_ratio * abs(before) or (now == 0 and before == 0):
        direction = "flat"
    else:
        direction = "up" if delta > 0 else "down"
    return {"now": round(now, 4), "before": round(before, 4), "delta": round(delta, 4), "direction": direction}
