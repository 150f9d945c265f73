"""Pacing of `/ws` batches (livemon/web/websocket.py) against a real web process and Redis.

The test publishes to `lm:updates` as the engine would, so it controls exactly what the hub
sees and when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from livemon import keys
from livemon.web.websocket import MESSAGES_PER_S, MIN_PAUSE_S, pause_after
from tests.support import Stack


@pytest.fixture
def web(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """A web process only (the test publishes as the engine would)."""
    running = Stack(redis_url, tmp_path, with_engine=False).start()
    yield running
    running.stop()


def _publish(client: redis.Redis, session: str, n: int) -> None:
    client.xadd(keys.UPDATES, {"s": session, "d": orjson.dumps({"session": session, "n": n})})


@contextmanager
def _subscribed(web: Stack, sessions: object) -> Iterator[ClientConnection]:
    with connect(web.ws_url, max_size=None) as ws:
        assert orjson.loads(ws.recv(timeout=10))["type"] == "hello"
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": sessions}).decode())
        yield ws


def _snapshots(ws: ClientConnection, timeout: float = 10) -> list[dict[str, Any]]:
    return [m for m in orjson.loads(ws.recv(timeout=timeout))["messages"] if m["type"] == "snapshot"]


def test_websocket_pause_is_the_longer_of_the_floor_and_the_message_budget() -> None:
    assert pause_after(1) == MIN_PAUSE_S
    assert pause_after(16) == pytest.approx(16 / MESSAGES_PER_S)  # a wall of 16 rooms: about 4 batches a second
    assert pause_after(2 * int(MESSAGES_PER_S)) == pytest.approx(2.0)


def test_websocket_one_room_client_gets_each_update_without_waiting_out_a_fixed_interval(
    web: Stack, redis_client: redis.Redis
) -> None:
    # Ping-pong: publish the next update only once the previous one arrived. A fixed 0.25-s
    # coalescing pause (the old pacing) makes every round trip at least 0.25 s; a client whose
    # last batch is older than its pause must get the next update at once.
    rounds, old_pause = 20, 0.25
    with _subscribed(web, ["room-1"]) as ws:
        _publish(redis_client, "room-1", 0)
        while not any(s["data"]["n"] == 0 for s in _snapshots(ws)):
            pass
        started = time.monotonic()
        for n in range(1, rounds + 1):
            time.sleep(MIN_PAUSE_S)  # the pause itself is allowed; anything beyond it is what we measure
            _publish(redis_client, "room-1", n)
            while not any(s["data"]["n"] == n for s in _snapshots(ws)):
                pass
        elapsed = time.monotonic() - started
    assert elapsed < rounds * old_pause, f"{rounds} round trips took {elapsed:.2f} s"


def test_websocket_busy_wall_is_held_to_the_message_budget_and_sees_the_latest(
    web: Stack, redis_client: redis.Redis
) -> None:
    sessions, rounds = 40, 60
    done = threading.Event()

    def engine_like() -> None:
        client = redis.Redis.from_url(web.env["REDIS_URL"])
        for n in range(rounds):
            with client.pipeline(transaction=False) as pipe:
                for s in range(sessions):
                    pipe.xadd(keys.UPDATES, {"s": f"room-{s}", "d": orjson.dumps({"session": f"room-{s}", "n": n})})
                pipe.execute()
            time.sleep(0.02)
        client.close()
        done.set()

    with _subscribed(web, "*") as wall:
        publisher = threading.Thread(target=engine_like)
        publisher.start()
        frames: list[tuple[float, int]] = []
        latest: dict[str, int] = {}
        while len(latest) < sessions or min(latest.values()) < rounds - 1:
            batch = _snapshots(wall)
            frames.append((time.monotonic(), len(batch)))
            latest.update({s["session"]: s["data"]["n"] for s in batch})
        publisher.join()
    assert done.is_set()
    # Each batch of c messages is followed by a pause of at least c / MESSAGES_PER_S, so what
    # arrived after the first batch fits the budget over the time it took (slack: one wall's
    # worth, and the client's own read delays). Without a budget this wall would get ~800 a second.
    received = sum(count for _, count in frames[1:])
    span = frames[-1][0] - frames[0][0]
    assert received <= 1.2 * MESSAGES_PER_S * span + sessions, (received, span)
    assert len(frames) < rounds, "updates were not coalesced"
