"""Alert API and websocket delivery against a real web process (uvicorn) and Redis.

No engine process: the test plays the engine with the real `AlertStage` (detectors,
alert book, audit stream), exactly as `livemon.engine_runner` drives it each tick.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from livemon import keys
from livemon.alerting import AlertStage
from monitor.alert_config import load_alert_config
from tests import redis_sync
from tests.support import Stack
from tests.test_alerting import YEAR_S, crash_series, run_step


@pytest.fixture
def web(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(redis_url, tmp_path, with_engine=False).start()
    yield running
    running.stop()


@pytest.fixture
def engine(redis_url: str) -> Any:
    """One engine tick: read commands, evaluate the bins, write (like EngineRunner._tick).

    Bins are live: they end now, as the engine closes them, so wall-clock silences from the
    API apply to them exactly as in production.
    """
    stage = AlertStage(load_alert_config(), YEAR_S)

    def tick(*sessions: str) -> AlertStage:
        t0 = int(time.time()) // 10 * 10 - 420
        bins = [b for s in sessions for b in crash_series(s, t0=t0)]
        run_step(redis_url, stage, bins, time.time())
        return stage

    return tick


def as_token(stack: Stack, token: str) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=10, headers={"Authorization": f"Bearer {token}"})


def fingerprint_of(stack: Stack, session: str) -> str:
    [alert] = stack.http.get("/api/v1/alerts", params={"session": session}).json()["alerts"]
    return str(alert["fingerprint"])


def test_alerts_api_lists_filters_and_narrows_to_the_token(web: Stack, engine: Any) -> None:
    engine("room-1", "room-2")
    alerts = web.http.get("/api/v1/alerts").json()["alerts"]
    assert sorted((a["session"], a["rule"], a["state"]) for a in alerts) == [
        ("room-1", "viewer_crash", "firing"), ("room-2", "viewer_crash", "firing")]
    assert len(web.http.get("/api/v1/alerts", params={"session": "room-1", "state": "active"}).json()["alerts"]) == 1
    assert web.http.get("/api/v1/alerts", params={"severity": "info"}).json()["alerts"] == []
    bad = web.http.get("/api/v1/alerts", params={"state": "burning"})
    assert bad.status_code == 400 and "query 'state'" in bad.json()["error"]
    with as_token(web, web.token("host", "room-2")) as host:
        assert [a["session"] for a in host.get("/api/v1/alerts").json()["alerts"]] == ["room-2"]
        assert host.get(f"/api/v1/alerts/{fingerprint_of(web, 'room-1')}").status_code == 403


def test_alerts_api_ack_and_resolve_go_through_the_engine_into_the_audit_trail(web: Stack, engine: Any) -> None:
    engine("room-1", "room-2")
    fp1, fp2 = fingerprint_of(web, "room-1"), fingerprint_of(web, "room-2")
    with as_token(web, web.token("responder")) as responder, as_token(web, web.token("wall")) as wall:
        assert wall.post(f"/api/v1/alerts/{fp1}/ack", json={"note": "x"}).status_code == 403
        accepted = responder.post(f"/api/v1/alerts/{fp1}/ack", json={"note": "host is on it"})
        assert accepted.status_code == 202 and accepted.json()["accepted"]
        assert responder.post(f"/api/v1/alerts/{fp2}/resolve", json={"note": "studio move"}).status_code == 202
        assert responder.post("/api/v1/alerts/0000000000000000/ack", json={}).status_code == 404
    engine()  # the next tick applies both commands
    detail = web.http.get(f"/api/v1/alerts/{fp1}").json()
    assert detail["alert"]["acked_by"] and detail["alert"]["ack_note"] == "host is on it"
    assert [(t["event"], t["note"]) for t in detail["transitions"]] == [("firing", None),
                                                                       ("acknowledged", "host is on it")]
    resolved = web.http.get(f"/api/v1/alerts/{fp2}").json()
    assert resolved["alert"]["state"] == "resolved" and resolved["transitions"][-1]["note"] == "studio move"
    again = web.http.post(f"/api/v1/alerts/{fp2}/resolve", json={})
    assert again.status_code == 409


def test_alerts_api_silences_mute_new_alerts_until_ended(web: Stack, engine: Any) -> None:
    created = web.http.post("/api/v1/silences", json={"matchers": {"session": "room-3"}, "duration_s": 600,
                                                       "reason": "rehearsal, ignore"})
    assert created.status_code == 201
    silence = created.json()["silence"]
    assert [s["id"] for s in web.http.get("/api/v1/silences").json()["silences"]] == [silence["id"]]
    assert web.http.post("/api/v1/silences", json={"matchers": {}, "duration_s": 60, "reason": "x"}).status_code == 400
    stage = engine("room-3")
    [alert] = web.http.get("/api/v1/alerts").json()["alerts"]
    assert alert["muted"] == "silenced" and silence["id"] in stage.book.silences
    assert web.http.delete(f"/api/v1/silences/{silence['id']}").status_code == 202
    engine()
    assert web.http.get("/api/v1/silences").json()["silences"] == [] and stage.book.silences == {}


def test_alerts_api_transitions_page_by_stream_id(web: Stack, engine: Any, redis_client: redis.Redis) -> None:
    engine("room-1", "room-2", "room-3")
    first = web.http.get("/api/v1/alerts/transitions", params={"limit": 2}).json()
    rest = web.http.get("/api/v1/alerts/transitions", params={"after": first["next"]}).json()
    ids = [t["id"] for t in first["transitions"] + rest["transitions"]]
    assert ids == [i.decode() for i, _ in redis_sync.xrange(redis_client, keys.ALERTS)] and len(ids) == 3
    assert web.http.get("/api/v1/alerts/transitions", params={"after": "yesterday"}).status_code == 400
    assert web.http.get("/api/v1/alerts/transitions", params={"after": "1-0\n"}).status_code == 400
    assert web.http.get("/api/v1/alerts/deliveries").json() == {"receivers": {}, "failed": []}


# ---------------------------------------------------------------- websocket


@contextlib.contextmanager
def subscribe(stack: Stack, last_alert_id: str | None = None, token: str | None = None,
              ) -> Iterator[ClientConnection]:
    url = stack.ws_url if token is None else f"{stack.ws_url.split('?')[0]}?token={token}"
    with connect(url) as ws:
        assert orjson.loads(ws.recv(timeout=10))["type"] == "hello"
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": "*", "last_alert_id": last_alert_id}).decode())
        yield ws


def next_alerts(ws: ClientConnection, count: int, timeout_s: float = 10) -> list[dict[str, Any]]:
    """The next `count` alert messages, skipping snapshots and heartbeats."""
    out: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while len(out) < count:
        message = orjson.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        out.extend(m for m in message.get("messages", [message]) if m["type"] == "alert")
    assert len(out) == count, out
    return out


def test_alerts_websocket_pushes_transitions_live(web: Stack, engine: Any) -> None:
    with subscribe(web) as ws:
        engine("room-1")
        [message] = next_alerts(ws, 1)
    assert message["data"]["rule"] == "viewer_crash" and message["session"] == "room-1" and message["id"]


def test_alerts_websocket_resume_receives_exactly_the_missed_transitions_in_order(
        web: Stack, engine: Any, redis_client: redis.Redis) -> None:
    with subscribe(web) as ws:
        engine("room-1")
        [seen] = next_alerts(ws, 1)
    # disconnected: three transitions happen meanwhile (a crash, an ack, another crash)
    engine("room-2")
    web.http.post(f"/api/v1/alerts/{fingerprint_of(web, 'room-1')}/ack", json={"note": "seen"})
    engine("room-3")
    missed = [i.decode() for i, _ in redis_sync.xrange(redis_client, keys.ALERTS, f"({seen['id']}")]
    assert len(missed) == 3
    with subscribe(web, last_alert_id=seen["id"]) as ws:
        replayed = next_alerts(ws, 3)
        engine("room-4")  # and live ones continue after the replay, without repeats
        [live] = next_alerts(ws, 1)
    assert [m["id"] for m in replayed] == missed
    assert [(m["session"], m["data"]["event"]) for m in replayed] == [
        ("room-2", "firing"), ("room-1", "acknowledged"), ("room-3", "firing")]
    assert live["session"] == "room-4"


def test_alerts_websocket_resume_only_replays_sessions_the_token_may_see(web: Stack, engine: Any) -> None:
    engine("room-1", "room-2")
    with subscribe(web, last_alert_id="0-0", token=web.token("host", "room-2")) as ws:
        [only] = next_alerts(ws, 1)
        engine("room-3", "room-2")  # room-2 evaluated again: no new transition; room-3 is not visible
        engine("room-5")
        with pytest.raises(TimeoutError):
            next_alerts(ws, 1, timeout_s=1.5)
    assert only["session"] == "room-2"


def test_alerts_websocket_rejects_a_malformed_resume_id(web: Stack) -> None:
    with subscribe(web, last_alert_id="not-an-id") as ws:
        message = orjson.loads(ws.recv(timeout=10))
        while message.get("type") != "error":
            message = orjson.loads(ws.recv(timeout=10))
    assert "last_alert_id" in message["error"]


# ---------------------------------------------------------------- end to end


def test_alerts_end_to_end_pinned_product_out_of_stock(stack: Stack) -> None:
    """Events over HTTP → engine bins → detector → alert book → audit stream → API and websocket."""
    from tests.events_factory import raw_event
    from tests.support import wait_for

    with subscribe(stack) as ws:
        assert stack.post([raw_event("session_start", "shop-1", title="demo"),
                           raw_event("product_pin", "shop-1", product="sku-9"),
                           raw_event("stock", "shop-1", product="sku-9", stock=0)]).status_code == 200
        [message] = next_alerts(ws, 1, timeout_s=40)
    assert (message["session"], message["data"]["rule"]) == ("shop-1", "out_of_stock_pinned")
    assert message["data"]["labels"] == {"product": "sku-9"} and message["data"]["severity"] == "critical"
    alerts = wait_for(lambda: stack.http.get("/api/v1/alerts", params={"session": "shop-1"}).json()["alerts"],
                      what="the alert in the API")
    assert alerts[0]["rule"] == "out_of_stock_pinned"
