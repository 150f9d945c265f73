"""POST /api/v1/events against real uvicorn and Redis: all or nothing, de-duplicated, explained."""

from __future__ import annotations

import time

import orjson
import redis

from ingest.batch import MAX_BATCH_EVENTS, MAX_BODY_BYTES, MAX_FUTURE_S
from tests import redis_sync
from tests.events_factory import raw_event
from tests.support import Stack


def stream_lengths(client: redis.Redis) -> int:
    return len(redis_sync.stream_events(client))


def test_ingest_accepts_json_array_and_ndjson(stack: Stack, redis_client: redis.Redis) -> None:
    array = stack.post([raw_event("comment", text="hi"), raw_event("like")])
    ndjson = stack.post(b"\n".join(orjson.dumps(raw_event("follow")) for _ in range(3)),
                        content_type="application/x-ndjson")
    assert array.json() == {"accepted": 2, "duplicates": 0}
    assert ndjson.json() == {"accepted": 3, "duplicates": 0}
    assert stream_lengths(redis_client) == 5


def test_ingest_rejects_whole_batch_naming_line_and_field(stack: Stack, redis_client: redis.Redis) -> None:
    batch = [raw_event("comment", text="fine"), raw_event("order", product="p", amount="-3"), raw_event("like")]
    response = stack.post(batch)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == [
        {"line": 2, "field": "amount", "error": "field 'amount': expected a number between 0 and 10000000, got '-3'"}
    ]
    assert "nothing was written" in body["error"]
    assert stream_lengths(redis_client) == 0
    assert not redis_client.keys("lm:dd:*")


def test_ingest_refuses_event_times_from_the_future(stack: Stack, redis_client: redis.Redis) -> None:
    now_ms = int(time.time() * 1000)
    skewed = raw_event("like", ts=now_ms + (MAX_FUTURE_S - 60) * 1000)
    a_day_ahead = raw_event("like", ts=now_ms + 86_400_000)
    response = stack.post([skewed, a_day_ahead])
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["line"] == 2 and error["field"] == "ts"
    assert "ahead of the server clock" in error["error"]
    assert stream_lengths(redis_client) == 0
    assert stack.post([skewed]).json() == {"accepted": 1, "duplicates": 0}


def test_ingest_counts_a_resent_id_once(stack: Stack, redis_client: redis.Redis) -> None:
    event = raw_event("comment", text="same")
    first = stack.post([event])
    second = stack.post([event, raw_event("like")])
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert second.json() == {"accepted": 1, "duplicates": 1}
    assert stream_lengths(redis_client) == 2


def test_ingest_refuses_wrong_key_and_oversize(stack: Stack, redis_client: redis.Redis) -> None:
    assert stack.post([raw_event("like")], key="wrong").status_code == 401
    too_many = stack.post([raw_event("like") for _ in range(MAX_BATCH_EVENTS + 1)])
    assert too_many.status_code == 413
    assert str(MAX_BATCH_EVENTS) in too_many.json()["error"]
    huge = stack.post(b"[" + b" " * (MAX_BODY_BYTES + 1) + b"]")
    assert huge.status_code == 413
    assert stream_lengths(redis_client) == 0


def test_ingest_explains_bad_json(stack: Stack) -> None:
    response = stack.post(b'{"id": "a"}\n{not json', content_type="application/x-ndjson")
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 2


def test_ingest_never_stores_raw_viewer_ids(stack: Stack, redis_client: redis.Redis) -> None:
    stack.post([raw_event("comment", user="real-viewer-42", text="hello")])
    stored = b"".join(redis_sync.stream_events(redis_client))
    assert b"real-viewer-42" not in stored
    assert b'"user":"u_' in stored
