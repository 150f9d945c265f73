"""Dwell-drop detector: last minute's mean dwell against the previous 5–15 minutes."""

from __future__ import annotations

import numpy as np

from monitor.bins import Bin
from monitor.detectors.dwell import DwellConfig, DwellDetector

T0 = 1_700_000_000


def dwell_bin(i: int, dwell: float | None) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, avg_dwell_s=dwell, events=10)


def test_dwell_quiet_on_noisy_but_steady_dwell() -> None:
    rng = np.random.default_rng(8)
    det = DwellDetector(DwellConfig())
    assert not any(det.observe(dwell_bin(i, float(rng.normal(90, 12)))) for i in range(360))


def test_dwell_fires_when_the_last_minute_falls_by_half() -> None:
    rng = np.random.default_rng(9)
    det = DwellDetector(DwellConfig())
    for i in range(60):
        det.observe(dwell_bin(i, float(rng.normal(90, 12))))
    fired = [i for i in range(60, 72) if det.observe(dwell_bin(i, float(rng.normal(45, 6))))]
    assert fired and fired[0] - 60 <= 5


def test_dwell_skips_bins_without_a_figure() -> None:
    det = DwellDetector(DwellConfig())
    assert not any(det.observe(dwell_bin(i, None)) for i in range(100)) and len(det.history) == 0
