"""Last-N-minutes comparisons and the highlighted worst decline."""

from __future__ import annotations

from monitor.bins import Bin
from monitor.detectors.trends import TrendConfig, TrendDetector

T0 = 1_700_000_000


def t_bin(i: int, orders: int, comments: int = 20) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=1000, viewers_estimated=False, comments=comments,
               clicks=30, carts=10, orders=orders, gmv=orders * 99.0, events=60)


def test_trends_compare_windows_and_highlight_the_worst_decline() -> None:
    det = TrendDetector(TrendConfig(window_min=1))
    # minute 1: 5 orders a bin; minute 2: 1 order a bin (-80 %), comments -25 %
    for i in range(12):
        assert det.observe(t_bin(i, 5 if i < 6 else 1, comments=20 if i < 6 else 15)) == []
    comparisons = det.comparisons()
    by_metric = {c.metric: c for c in comparisons}
    assert by_metric["orders"].delta == -0.8 and by_metric["comments"].delta == -0.25
    assert by_metric["viewers"].direction == "flat"
    assert [c.metric for c in comparisons if c.worst] in (["orders"], ["gmv"])
    assert comparisons[0].worst and [c.delta for c in comparisons] == sorted(c.delta for c in comparisons)


def test_trends_no_highlight_on_small_volumes_or_small_moves() -> None:
    small = TrendDetector(TrendConfig(window_min=1, min_before=20))
    for i in range(12):
        small.observe(t_bin(i, 1 if i < 6 else 0, comments=20))
    assert not any(c.worst for c in small.comparisons())  # 6 orders before: too few to judge GMV or orders
    assert TrendDetector(TrendConfig()).comparisons() == []
