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
    for i in range(6):
        det.observe(t_bin(i, 5))
    out = []
    for i in range(6, 12):
        out = det.observe(t_bin(i, 1, comments=15))
    [c] = out
    assert dict(c.labels)["metric"] in {"orders", "gmv"} and c.value == -0.8
    by_metric = {x.metric: x for x in det.comparisons()}
    assert by_metric["comments"].delta == -0.25 and by_metric["viewers"].direction == "flat"
    assert det.comparisons()[0].delta <= det.comparisons()[-1].delta


def test_trends_quiet_on_small_volumes_and_before_two_windows() -> None:
    det = TrendDetector(TrendConfig(window_min=1, min_before=20))
    assert not any(det.observe(t_bin(i, 1 if i < 6 else 0, comments=20)) for i in range(12))
    assert TrendDetector(TrendConfig()).comparisons() == []
