"""Minute curves of a finished session: online, entries, leaves, GMV, comments, sentiment.

Each curve is a `np.bincount` over minute indices counted from the session's first minute,
so a 6-hour session is a few hundred numbers however many events it had.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from monitor.review.facts import Facts

MINUTE_MS = 60_000

FloatArray = npt.NDArray[np.float64]


def minute_count(facts: Facts) -> int:
    """Number of minutes from the start minute to the end minute, inclusive."""
    return int((facts.end_ms - facts.start_ms) // MINUTE_MS) + 1


def minute_index(ts: npt.NDArray[np.int64], facts: Facts) -> npt.NDArray[np.int64]:
    """Minute of each timestamp, clipped into the session (early or late stragglers join the edges)."""
    return np.clip((ts - facts.start_ms) // MINUTE_MS, 0, minute_count(facts) - 1)


def per_minute(ts: Sequence[int] | npt.NDArray[np.int64], facts: Facts,
               weights: Sequence[float] | None = None) -> FloatArray:
    """Sum `weights` (or count) per minute."""
    n = minute_count(facts)
    if len(ts) == 0:
        return np.zeros(n)
    index = minute_index(np.asarray(ts, dtype=np.int64), facts)
    sums = np.bincount(index, weights=None if weights is None else np.asarray(weights, float), minlength=n)
    return sums[:n].astype(np.float64)


def online_per_minute(facts: Facts) -> tuple[FloatArray, bool]:
    """Mean online viewers per minute (NaN where unknown) and whether it is estimated.

    With platform viewer counts, the mean of the counts reported in the minute; without
    them, the number of open visits at the end of each minute (an estimate, as on the
    live screen).
    """
    n = minute_count(facts)
    if facts.viewer_counts:
        ts = [t for t, _ in facts.viewer_counts]
        sums = per_minute(ts, facts, [float(v) for _, v in facts.viewer_counts])
        counts = per_minute(ts, facts)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), False
    if not len(facts.visit_starts):
        return np.full(n, np.nan), True
    starts, ends = np.sort(facts.visit_starts), np.sort(facts.visit_ends)
    probes = facts.start_ms + (np.arange(n, dtype=np.int64) + 1) * MINUTE_MS - 1
    probes = np.minimum(probes, facts.end_ms)
    open_visits = np.searchsorted(starts, probes, "right") - np.searchsorted(ends, probes, "right")
    return open_visits.astype(float), True


def curve(values: FloatArray, digits: int = 2) -> tuple[float | None, ...]:
    """JSON-ready curve: rounded floats, None for NaN."""
    return tuple(None if np.isnan(v) else round(float(v), digits) for v in values)
