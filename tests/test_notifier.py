"""Webhook delivery against a real local HTTP receiver and a real Redis."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import orjson
import pytest
import redis

from livemon import keys, redis_replies, telemetry
from livemon.notifier import Notifier
from livemon.redis_client import connect
from monitor.alert_config import AlertConfig, parse_alert_config
from monitor.alert_lifecycle import LifecycleConfig
from monitor.alerts import AlertBook
from monitor.detectors.condition import Condition, Severity


class Receiver:
    """An HTTP endpoint that answers 503 to the first `fail_first` posts, then 200."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[int, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = orjson.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 503 if len(receiver.calls) < receiver.fail_first else 200
                receiver.calls.append((status, body))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"busy" if status == 503 else b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky() -> Iterator[Receiver]:
    with Receiver(fail_first=2) as receiver:
        yield receiver


@pytest.fixture
def dead() -> Iterator[Receiver]:
    with Receiver(fail_first=10**6) as receiver:
        yield receiver


def config(*receivers: tuple[str, str, str]) -> AlertConfig:
    return parse_alert_config({
        "delivery": {"max_attempts": 3, "backoff_initial_s": 0.05, "backoff_max_s": 0.2, "timeout_s": 2.0},
        "receivers": [{"name": n, "kind": k, "url": u} for n, k, u in receivers],
        "routes": [{"receiver": n, "min_severity": "warning"} for n, _, _ in receivers],
    })


def transition_record(severity: Severity = Severity.CRITICAL) -> bytes:
    book = AlertBook(LifecycleConfig())
    [t] = book.evaluate([Condition("viewer_crash", "room-1", severity, 300, 700, "Viewers fell 70%")], {"room-1"},
                        1.7e9)
    return orjson.dumps(t.to_dict())


async def run_until(notifier: Notifier, done: Any, timeout_s: float = 10.0) -> None:
    task = asyncio.create_task(notifier.run())
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not await done():
            assert asyncio.get_running_loop().time() < deadline, "notifier did not finish in time"
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_notifier_retries_a_failing_receiver_until_it_recovers(redis_client: redis.Redis, redis_url: str,
                                                               flaky: Receiver) -> None:
    async def go() -> None:
        client, reader = connect(redis_url), connect(redis_url, blocking_reader=True)
        await client.xgroup_create(keys.ALERTS, keys.NOTIFY_GROUP, id="$", mkstream=True)
        await client.xadd(keys.ALERTS, {"s": "room-1", "r": transition_record()})
        notifier = Notifier(config(("ops", "wecom", flaky.url)), reader, client, consumer="t1")

        async def acknowledged() -> bool:
            return (await client.xpending(keys.ALERTS, keys.NOTIFY_GROUP))["pending"] == 0 and bool(flaky.calls)

        await run_until(notifier, acknowledged)
        raw = await client.hget(keys.NOTIFY_STATUS, "ops")
        assert isinstance(raw, bytes)
        status = orjson.loads(raw)
        await client.aclose()
        await reader.aclose()
        assert (status["failed_attempts"], status["delivered"]) == (2, 1) and "HTTP 503" in status["last_error"]

    failures_before = telemetry.REGISTRY.get_sample_value("livemon_webhook_delivery_failures_total",
                                                          {"receiver": "ops"}) or 0.0
    asyncio.run(go())
    assert [s for s, _ in flaky.calls] == [503, 503, 200]
    assert telemetry.REGISTRY.get_sample_value("livemon_webhook_delivery_failures_total",
                                               {"receiver": "ops"}) == failures_before + 2  # shown on /metrics
    body = flaky.calls[-1][1]
    assert body["msgtype"] == "markdown" and "viewer\\_crash" in body["markdown"]["content"]


def test_notifier_gives_up_visibly_and_keeps_delivering_to_others(redis_client: redis.Redis, redis_url: str,
                                                                  dead: Receiver, flaky: Receiver) -> None:
    flaky.fail_first = 0

    async def go() -> list[dict[str, Any]]:
        client, reader = connect(redis_url), connect(redis_url, blocking_reader=True)
        await client.xgroup_create(keys.ALERTS, keys.NOTIFY_GROUP, id="$", mkstream=True)
        await client.xadd(keys.ALERTS, {"s": "room-1", "r": transition_record()})
        notifier = Notifier(config(("down", "webhook", dead.url), ("up", "slack", flaky.url)), reader, client,
                            consumer="t2")

        async def failed_recorded() -> bool:
            return bool(await client.xlen(keys.NOTIFY_FAILED)) if await client.exists(keys.NOTIFY_FAILED) else False

        await run_until(notifier, failed_recorded)
        entries = await redis_replies.xrange(client, keys.NOTIFY_FAILED, "-", "+", count=10)
        failed = [orjson.loads(f[b"r"]) for _, f in entries]
        await client.aclose()
        await reader.aclose()
        return failed

    [failure] = asyncio.run(go())
    assert (failure["receiver"], failure["attempts"], failure["rule"]) == ("down", 3, "viewer_crash")
    assert len(dead.calls) == 3 and [s for s, _ in flaky.calls] == [200]
    assert "blocks" in flaky.calls[0][1]


def test_notifier_routes_by_severity_and_skips_muted_transitions(redis_client: redis.Redis, redis_url: str) -> None:
    notifier = Notifier(config(("ops", "webhook", "http://127.0.0.1:9/x")), connect(redis_url), connect(redis_url))
    warning = orjson.loads(transition_record(Severity.WARNING))
    assert [r.name for r in notifier.receivers_for(warning)] == ["ops"]
    assert notifier.receivers_for({**warning, "severity": "info"}) == []
    assert notifier.receivers_for({**warning, "notify": False}) == []
    asyncio.run(notifier.http.aclose())


def test_notifier_takes_over_what_a_dead_notifier_left_pending(
        redis_client: redis.Redis, redis_url: str, flaky: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    flaky.fail_first = 0
    monkeypatch.setattr("livemon.notifier.CLAIM_IDLE_MS", 0)
    redis_client.xgroup_create(keys.ALERTS, keys.NOTIFY_GROUP, id="$", mkstream=True)
    redis_client.xadd(keys.ALERTS, {"s": "room-1", "r": transition_record()})
    # another web process read the transition, then died before delivering it
    assert redis_client.xreadgroup(keys.NOTIFY_GROUP, "dead-web", {keys.ALERTS: ">"})

    async def go() -> None:
        client, reader = connect(redis_url), connect(redis_url, blocking_reader=True)
        notifier = Notifier(config(("ops", "webhook", flaky.url)), reader, client, consumer="alive")

        async def acknowledged() -> bool:
            return int((await client.xpending(keys.ALERTS, keys.NOTIFY_GROUP))["pending"]) == 0

        await run_until(notifier, acknowledged)
        await client.aclose()
        await reader.aclose()

    asyncio.run(go())
    assert [s for s, _ in flaky.calls] == [200] and flaky.calls[0][1]["alerts"][0]["rule"] == "viewer_crash"
