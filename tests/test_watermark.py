"""Event clock and watermark with a manual wall clock."""

from __future__ import annotations

from monitor.watermark import EventClock


def test_watermark_trails_newest_event_by_lateness() -> None:
    clock = EventClock(lateness_s=5)
    clock.max_event_ms = 100_000
    clock.advance(now=50.0)
    assert (clock.clock_ms, clock.watermark_ms) == (100_000, 95_000)


def test_watermark_advances_with_wall_clock_when_quiet() -> None:
    # event time 100 s seen at wall 50 s; quiet until wall 53 s -> clock 103 s
    #   wall:   50 ── 51 ── 52 ── 53
    #   clock: 100 ─ 101 ─ 102 ─ 103      watermark = clock - 5
    clock = EventClock(lateness_s=5)
    clock.max_event_ms = 100_000
    clock.advance(now=50.0)
    clock.advance(now=53.0)
    assert (clock.clock_ms, clock.watermark_ms) == (103_000, 98_000)


def test_watermark_never_moves_back_when_a_new_event_is_behind_the_extrapolated_clock() -> None:
    clock = EventClock(lateness_s=5)
    clock.max_event_ms = 100_000
    clock.advance(now=50.0)
    clock.advance(now=60.0)  # clock 110 s
    clock.max_event_ms = 101_000  # newer than 100 s, older than the extrapolation
    clock.advance(now=60.0)
    assert clock.watermark_ms == 105_000
    clock.advance(now=70.0)  # re-anchored at (101 s, wall 60): 111 s
    assert clock.clock_ms == 111_000


def test_watermark_replay_event_time_far_from_wall_time() -> None:
    clock = EventClock(lateness_s=2)
    clock.max_event_ms = 1_000_000  # event time 1000 s replayed at wall 1.7e9
    clock.advance(now=1.7e9)
    assert clock.watermark_ms == 998_000
