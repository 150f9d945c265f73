"""One-sided binomial log-likelihood-ratio CUSUM (Page 1954), the shared statistic.

For counts `x` successes out of `n` trials the increment is
``x·ln(p1/p0) + (n−x)·ln((1−p1)/(1−p0))``; the statistic is clamped at 0 so evidence
for the in-control share never builds credit, and capped so that recovery after a
long incident takes a bounded number of bins.
"""

from __future__ import annotations

import math

_EPS = 1e-6


def binomial_llr(x: int, n: int, p0: float, p1: float) -> float:
    """Return the log-likelihood ratio of share p1 against p0 for x of n.

    Works for both directions: an upward design has p1 > p0, a downward one p1 < p0.
    """
    p0 = min(max(p0, _EPS), 1 - _EPS)
    p1 = min(max(p1, _EPS), 1 - _EPS)
    x = min(max(x, 0), n)
    return x * math.log(p1 / p0) + (n - x) * math.log((1 - p1) / (1 - p0))


def cusum_step(s: float, x: int, n: int, p0: float, p1: float, cap: float) -> float:
    """Advance the CUSUM statistic by one observation, clamped to [0, cap]."""
    if n <= 0:
        return s
    return min(cap, max(0.0, s + binomial_llr(x, n, p0, p1)))


def zero_order_run_needed(p0: float, tail: float) -> int:
    """Return how many trials with no success make P(0 | p0, n) = (1−p0)^n fall below `tail`."""
    p0 = min(max(p0, _EPS), 1 - _EPS)
    return math.ceil(math.log(tail) / math.log(1 - p0))
