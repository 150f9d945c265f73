"""/metrics and /readyz tell an operator how livemon itself is doing."""

from __future__ import annotations

from pathlib import Path

import redis

from livemon import keys
from tests.events_factory import raw_event
from tests.support import Stack, wait_for


def metric_value(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_count_ingested_duplicate_and_rejected_events(stack: Stack) -> None:
    event = raw_event("comment", text="hi")
    stack.post([event, raw_event("like")])
    stack.post([event])
    stack.post([raw_event("order", product="p", amount=-1)])
    text = stack.http.get("/metrics").text
    assert metric_value(text, 'livemon_events_ingested_total{source="http"}') == 2
    assert metric_value(text, 'livemon_events_duplicate_total{source="http"}') == 1
    assert metric_value(text, 'livemon_events_rejected_total{source="http"}') == 1


def test_metrics_report_engine_ticks_and_zero_lag_once_caught_up(stack: Stack) -> None:
    stack.post([raw_event("like") for _ in range(20)])
    wait_for(lambda: 'livemon_engine_tick_seconds{engine="engine-1"}' in stack.http.get("/metrics").text,
             what="engine tick statistics")

    def lags() -> list[float]:
        text = stack.http.get("/metrics").text
        return [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("livemon_stream_lag{")]

    wait_for(lambda: lags() and all(lag == 0 for lag in lags()), what="every partition's lag to reach 0")
    assert stack.http.get("/readyz").json()["status"] == "ready"
    # one quiet room is far inside the publish budget: the configured interval (0.1 s) holds
    text = stack.http.get("/metrics").text
    assert metric_value(text, 'livemon_engine_publish_interval_seconds{engine="engine-1"}') == 0.1


def test_readyz_fails_when_the_engine_falls_behind(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    lagging = Stack(redis_url, tmp_path, with_engine=False, LIVEMON_READY_MAX_LAG="5").start()
    try:
        redis_client.xgroup_create(keys.events_stream(0), keys.ENGINE_GROUP, id="0", mkstream=True)
        lagging.post([raw_event("like", session="room-lag") for _ in range(10)])  # one entry of ten events
        response = lagging.http.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "lagging", "lag": 10, "max_lag": 5}
        partition = keys.partition_of("room-lag", 8)
        text = lagging.http.get("/metrics").text
        assert metric_value(text, f'livemon_stream_lag{{partition="{partition}"}}') == 1  # entries
        assert metric_value(text, f'livemon_stream_lag_events{{partition="{partition}"}}') == 10
    finally:
        lagging.stop()


def test_metrics_forget_an_engine_that_stopped_and_show_its_entries_acknowledged(stack: Stack) -> None:
    # After a clean stop (a scale-down, a deploy) the engine's series must go, or the
    # "engine stuck or dead" alert on its tick age fires for an engine that left on purpose.
    stack.post([raw_event("like") for _ in range(20)])
    wait_for(lambda: 'livemon_engine_tick_seconds{engine="engine-1"}' in stack.http.get("/metrics").text,
             what="engine tick statistics")
    stack.engine.stop()  # SIGTERM: final checkpoint (every entry acknowledged), then it leaves
    lines = stack.http.get("/metrics").text.splitlines()
    assert not [line for line in lines if line.startswith("livemon_engine_") and 'engine="engine-1"' in line]
    pending = [line for line in lines if line.startswith("livemon_stream_pending{") and 'consumer="engine-1"' in line]
    assert pending and all(float(line.rsplit(" ", 1)[1]) == 0 for line in pending)
