"""Ingest-silence detector."""

from __future__ import annotations

from monitor.bins import Bin
from monitor.detectors.silence import SilenceConfig, SilenceDetector

T0 = 1_700_000_000


def e_bin(i: int, events: int) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, events=events)


def test_silence_fires_after_30_s_without_events_and_clears_on_data() -> None:
    det = SilenceDetector(SilenceConfig(min_silent_s=30))
    assert det.observe(e_bin(0, 40)) == []
    assert det.observe(e_bin(1, 0)) == [] and det.observe(e_bin(2, 0)) == []
    [c] = det.observe(e_bin(3, 0))
    assert (c.rule, c.value) == ("ingest_silence", 30.0)
    assert det.observe(e_bin(4, 1)) == []


def test_silence_quiet_on_sparse_but_live_sessions() -> None:
    det = SilenceDetector(SilenceConfig(min_silent_s=30))
    assert not any(det.observe(e_bin(i, 1 if i % 2 else 0)) for i in range(100))


def test_silence_default_catches_a_30_s_outage_that_straddles_bin_edges() -> None:
    # events stop 3 s into bin 1 and resume 3 s into bin 4: 30 s of silence, two whole empty bins
    #   bin:   0     1      2     3     4
    #        |###|#......|.....|.....|...###|
    det = SilenceDetector(SilenceConfig())
    assert det.observe(e_bin(0, 40)) == [] and det.observe(e_bin(1, 5)) == [] and det.observe(e_bin(2, 0)) == []
    [c] = det.observe(e_bin(3, 0))
    assert (c.rule, c.value) == ("ingest_silence", 20.0)
