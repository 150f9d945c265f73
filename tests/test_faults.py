"""Fault injection on real processes: Redis restart, web restart, a stalled websocket client.

(Engine SIGKILL is covered by tests/test_pipeline.py; the poster's outage path by
tests/test_redis_outage.py. Here: the engine and web processes riding through the faults.)
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ingest.poster import BatchPoster
from livemon import keys
from livemon.redis_server import EmbeddedRedis
from livemon.web.websocket import CLOSE_SLOW
from tests import redis_sync
from tests.events_factory import raw_event
from tests.support import INGEST_KEY, LivemonProcess, Stack, wait_for


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis only this test uses, so it can be stopped and restarted (AOF on, same port)."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    yield server
    server.stop()


def pending_total(client: redis.Redis) -> int:
    return sum(client.xpending(keys.events_stream(p), keys.ENGINE_GROUP)["pending"] for p in range(8)
               if client.exists(keys.events_stream(p)))


def stream_total(client: redis.Redis) -> int:
    return len(redis_sync.stream_events(client))


def test_faults_redis_restart_mid_stream_loses_nothing_counts_nothing_twice(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    stack = Stack(own_redis.url, tmp_path).start()
    batches, per_batch = 30, 40
    poster = BatchPoster(stack.url, INGEST_KEY)

    outage = threading.Event()

    def produce() -> None:
        for b in range(batches):
            if b == 5:  # the rest must meet the outage: on a quiet machine all 30 could land before it
                outage.wait(30)
            poster.post([raw_event("comment", "room-r", user=f"u{i}", text=f"b{b} c{i}") for i in range(per_batch)])

    producer = threading.Thread(target=produce)
    try:
        producer.start()
        wait_for(lambda: poster.accepted >= 5 * per_batch, what="some batches accepted before the outage")
        own_redis.stop()  # SIGTERM: Redis flushes the AOF, as in a planned restart or a failover
        outage.set()
        refused = stack.post([raw_event("like", "room-r")])
        assert refused.status_code == 503 and refused.headers["retry-after"]
        assert "retry" in refused.json()["error"]
        wait_for(lambda: poster.retries > 0, what="the producer to meet the outage and retry")
        own_redis.start()
        producer.join(timeout=60)
        assert not producer.is_alive()
        client = redis.Redis.from_url(own_redis.url)

        def settled() -> bool:
            metrics = stack.metrics("room-r") or {}
            return metrics.get("comments_total") == batches * per_batch and pending_total(client) == 0

        wait_for(settled, 30, "the engine to count every comment once after the restart")
        assert stream_total(client) == batches * per_batch  # no event stored twice
        assert poster.accepted + poster.duplicates >= batches * per_batch
        assert stack.engine.process is not None and stack.engine.process.poll() is None, "engine died"
        assert "re-acquired from checkpoints" in stack.engine.log()
        client.close()
    finally:
        poster.close()
        stack.stop()


def _recv_json(ws: ClientConnection, timeout: float = 10) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(ws.recv(timeout=timeout))
    return message


def _latest(ws: ClientConnection, session: str, key: str, want: object, timeout_s: float = 15) -> dict[str, Any]:
    """Read batches until a snapshot of `session` has `key == want`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = _recv_json(ws, deadline - time.monotonic())
        for inner in message.get("messages", []):
            if inner["type"] == "snapshot" and inner["session"] == session:
                data: dict[str, Any] = inner["data"]
                if data.get(key) == want:
                    return data
    raise AssertionError(f"no snapshot of {session} with {key}={want}")


def test_faults_web_restart_clients_reconnect_and_resume(stack: Stack) -> None:
    stack.post([raw_event("comment", "room-w", user=f"u{i}", text="x") for i in range(3)])
    browser = httpx.Client(base_url=stack.url, timeout=10)
    assert browser.post("/login", data={"token": stack.token("wall")}).status_code == 303
    subscribe = orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-w"]}).decode()
    with connect(stack.ws_url) as ws:
        ws.send(subscribe)
        _latest(ws, "room-w", "comments_total", 3)
        stack.web.kill()  # a crash: no close frame, no shutdown path
        with pytest.raises(ConnectionClosed):
            while True:
                ws.recv(timeout=10)
    stack.web = LivemonProcess(["web"], stack.env, stack.workdir / "web.log").start()
    wait_for(stack._healthy, 20, "the restarted web process")

    def reconnect() -> ClientConnection | None:
        try:
            return connect(stack.ws_url, open_timeout=2)
        except OSError:
            return None

    ws = wait_for(reconnect, 20, "the websocket to accept again")
    with ws:
        ws.send(subscribe)
        _latest(ws, "room-w", "comments_total", 3)  # resumes from the latest snapshot at once
        stack.post([raw_event("comment", "room-w", user="u9", text="after")])
        _latest(ws, "room-w", "comments_total", 4)  # and follows live updates again
    assert browser.get("/api/v1/sessions/room-w/metrics").status_code == 200  # cookie survives the restart
    browser.close()


def _stalled_client(url: str) -> ClientConnection:
    """A client that will stop reading: tiny receive buffer, one queued frame, no size limit."""
    host, port = url.split("//")[1].split("/")[0].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    return connect(url, sock=sock, max_queue=1, max_size=None)


def _slow_dropped(stack: Stack) -> float:
    for line in stack.http.get("/metrics").text.splitlines():
        if line.startswith("livemon_websocket_slow_dropped_total"):
            return float(line.split()[-1])
    return 0.0


def test_faults_stalled_websocket_is_cut_with_4008_others_unaffected_and_it_resumes(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    stack = Stack(redis_url, tmp_path, with_engine=False).start()  # the test publishes as the engine would
    big = b"x" * 200_000
    stop = threading.Event()
    published = {"n": 0}

    def engine_like() -> None:
        client = redis.Redis.from_url(redis_url)
        while not stop.is_set():
            published["n"] += 1
            with client.pipeline(transaction=False) as pipe:
                for s in range(20):  # 4 MB of other rooms per round, which only the stalled client wants
                    data = orjson.dumps({"session": f"room-{s}", "pad": big.decode()})
                    pipe.xadd(keys.UPDATES, {"s": f"room-{s}", "d": data}, maxlen=200, approximate=True)
                pipe.xadd(keys.UPDATES, {"s": "room-fast", "d": orjson.dumps({"session": "room-fast",
                                                                               "n": published["n"]})})
                pipe.execute()
            stop.wait(0.2)
        client.close()

    publisher = threading.Thread(target=engine_like)
    try:
        with _stalled_client(stack.ws_url) as slow:
            assert _recv_json(slow)["type"] == "hello"
            slow.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": "*"}).decode())
            with connect(stack.ws_url, max_size=None) as fast:
                assert _recv_json(fast)["type"] == "hello"
                fast.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-fast"]}).decode())
                publisher.start()
                # The slow client reads nothing from here on; the fast one keeps getting fresh numbers.
                freshest = 0
                while _slow_dropped(stack) < 1:
                    message = _recv_json(fast)
                    for inner in message.get("messages", []):
                        if inner["type"] == "snapshot":
                            assert inner["session"] == "room-fast"
                            freshest = inner["data"]["n"]
                    assert published["n"] - freshest <= 10, "the fast client fell behind the stalled one"
            stop.set()
            publisher.join()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    slow.recv(timeout=20)  # drain what was buffered; the close frame comes last
            assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_SLOW
        redis_client.hset(keys.SNAPSHOTS, "room-fast", orjson.dumps({"session": "room-fast", "n": published["n"]}))
        with connect(stack.ws_url, max_size=None) as again:  # it can come back and resume from the latest
            assert _recv_json(again)["type"] == "hello"
            again.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-fast"]}).decode())
            _latest(again, "room-fast", "n", published["n"])
    finally:
        stop.set()
        if publisher.is_alive():
            publisher.join()
        stack.stop()
