"""Viewer-crash detector: latest online count against the previous 5–15 minutes."""

from __future__ import annotations

import numpy as np

from monitor.bins import Bin
from monitor.detectors.condition import Severity
from monitor.detectors.viewers import ViewerCrashConfig, ViewerCrashDetector

T0 = 1_700_000_000


def viewer_bin(i: int, viewers: int) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=viewers, viewers_estimated=False, events=10)


def wander(rng: np.random.Generator, bins: int, level: float = 1000) -> list[int]:
    """Ordinary ups and downs: a slow random walk with ±3 % jitter."""
    out = []
    for _ in range(bins):
        level *= float(np.exp(rng.normal(0, 0.01)))
        out.append(int(level * (1 + rng.normal(0, 0.03))))
    return out


def test_viewer_crash_quiet_on_an_hour_of_wandering_audience() -> None:
    det = ViewerCrashDetector(ViewerCrashConfig())
    rng = np.random.default_rng(4)
    assert not any(det.observe(viewer_bin(i, v)) for i, v in enumerate(wander(rng, 360)))


def test_viewer_crash_fires_on_the_first_bin_after_a_crash() -> None:
    det = ViewerCrashDetector(ViewerCrashConfig())
    rng = np.random.default_rng(5)
    for i, v in enumerate(wander(rng, 60)):
        det.observe(viewer_bin(i, v))
    [c] = det.observe(viewer_bin(60, 400))
    assert c.rule == "viewer_crash" and c.severity is Severity.CRITICAL and c.value == 400


def test_viewer_crash_waits_for_history_and_minimum_audience() -> None:
    det = ViewerCrashDetector(ViewerCrashConfig(min_reference=50))
    assert not any(det.observe(viewer_bin(i, 1000 if i < 20 else 100)) for i in range(25))
    small = ViewerCrashDetector(ViewerCrashConfig(min_reference=50))
    assert not any(small.observe(viewer_bin(i, 30 if i < 60 else 5)) for i in range(70))
