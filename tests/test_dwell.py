"""Visit replay (monitor/dwell.py): the row-by-row pass for a few events and the skipped idle scan
close exactly the visits the vectorised pass with a scan on every advance closes."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor import dwell
from monitor.dwell import Audience

IDLE_S = 30
# (ms offset: 5-s steps over 100 s, viewer 0-5, is_leave): ties, late rows, gaps of exactly the timeout
activity = st.lists(st.tuples(st.integers(0, 20).map(lambda s: s * 5000), st.integers(0, 5), st.booleans()),
                    max_size=120)
Closed = list[tuple[int, float, bool]]


def replay(chunks: list[list[tuple[int, int, bool]]], watermarks: list[int], few_events: int,
           scan_every_advance: bool) -> tuple[Closed, list[int], list[int]]:
    """Feed each chunk, advance to its watermark; return the visits closed and the open visits left."""
    audience = Audience(IDLE_S, 900)
    closed: Closed = []
    saved = dwell.FEW_EVENTS
    dwell.FEW_EVENTS = few_events
    try:
        for chunk, watermark in zip(chunks, watermarks):
            if chunk:
                ts, viewers, leaves = zip(*chunk)
                audience.add_columns(np.array(ts, np.int64), np.array(leaves, bool), np.array(viewers, np.int64))
            if scan_every_advance:
                audience.idle_after_ms = -math.inf
            ends, durations, estimated = audience.advance_columns(watermark)
            closed += zip(ends.tolist(), durations.tolist(), estimated.tolist())
    finally:
        dwell.FEW_EVENTS = saved
    return closed, audience.start.tolist(), audience.last.tolist()


@settings(max_examples=200, deadline=None)
@given(activity, st.lists(st.integers(1, 30), min_size=1, max_size=8), st.integers(0, 5))
def test_dwell_row_by_row_replay_and_idle_bound_match_the_vectorised_pass(
        rows: list[tuple[int, int, bool]], cuts: list[int], late_s: int) -> None:
    # split the stream into arrival chunks; each advance's watermark trails the newest row by `late_s`
    chunks, start = [], 0
    for cut in cuts:
        chunks.append(rows[start:start + cut])
        start += cut
    chunks.append(rows[start:])
    newest, watermarks = 0, []
    for chunk in chunks:
        newest = max([newest, *(t for t, _, _ in chunk)])
        watermarks.append(newest - late_s * 1000)
    chunks.append([])
    watermarks.append(newest + 10 * IDLE_S * 1000)  # finally every visit times out
    reference = replay(chunks, watermarks, few_events=0, scan_every_advance=True)
    assert replay(chunks, watermarks, few_events=10**9, scan_every_advance=False) == reference
    assert replay(chunks, watermarks, few_events=0, scan_every_advance=False) == reference
    assert all(last == -1 for last in reference[2])  # the last advance closed everything
