"""Phrase trends: recent counts slide by event-time second, the session baseline stays bounded."""

from __future__ import annotations

import orjson

from monitor.phrase_trends import PhraseTrends


def test_phrase_trends_recent_counts_slide_with_the_window() -> None:
    trends = PhraseTrends(rising_window_s=60, max_baseline=1000)
    trends.count([(0, frozenset({"发货", "慢"})), (30, frozenset({"发货"}))])
    trends.prune(latest_s=61)  # second 0 is still inside [61 - 60 - 1, 61]
    assert trends.recent_total == {"发货": 2, "慢": 1}
    trends.prune(latest_s=62)
    assert trends.recent_total == {"发货": 1}
    assert trends.baseline == {"发货": 2, "慢": 1}


def test_phrase_trends_baseline_halves_when_it_grows_past_its_cap() -> None:
    trends = PhraseTrends(rising_window_s=60, max_baseline=10)
    trends.count([(s, frozenset({f"词{s}"} | ({"常见"} if s % 2 else set()))) for s in range(11)])
    trends.prune(latest_s=10)
    assert len(trends.baseline) == 5
    assert trends.baseline["常见"] == 5


def test_phrase_trends_rise_only_once_the_baseline_is_longer_than_the_window() -> None:
    trends = PhraseTrends(rising_window_s=60, max_baseline=1000)
    trends.count([(s, frozenset({"好看"})) for s in range(0, 600, 60)])
    trends.count([(600 + s, frozenset({"假货"})) for s in range(10)])
    trends.prune(latest_s=609)  # the last 好看, at 540 s, leaves the recent window
    assert trends.rising(60.0) == []
    assert [r["phrase"] for r in trends.rising(610.0)] == ["假货"]


def test_phrase_trends_state_round_trip_rebuilds_the_recent_total() -> None:
    trends = PhraseTrends(rising_window_s=60, max_baseline=1000)
    trends.count([(1, frozenset({"a", "b"})), (2, frozenset({"a"}))])
    restored = PhraseTrends.from_state(60, 1000, orjson.loads(orjson.dumps(trends.to_state())))
    assert restored.recent_total == trends.recent_total
    assert restored.baseline == trends.baseline
    assert orjson.dumps(restored.to_state()) == orjson.dumps(trends.to_state())
