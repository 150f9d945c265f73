"""Ratio formulas shared by the snapshot and the docs (docs/metrics.md defines each).

Kept apart so a definition changes in one place: a rate with no denominator is None
(unknown), never 0 or infinity, so screens show "–" instead of a misleading number.
"""

from __future__ import annotations


def ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """Return numerator ÷ denominator rounded, or None when the denominator is 0."""
    return round(numerator / denominator, digits) if denominator else None


def gpm(gmv: float, views: float) -> float | None:
    """GMV per 1,000 views (Compass 千次观看成交金额)."""
    return round(1000.0 * gmv / views, 2) if views else None
