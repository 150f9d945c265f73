"""One session's engine bug holds that session out, not its partition; a restart with the fix refolds it exactly.

The runner runs in-process on a real Redis so that a bug can be injected into the code of
one session (`SessionState.tick`, or the comment analysis `CommentTracker.add_comments`,
raising for the room "bad" while `Bug.on`). Both rooms share the only partition, so before
this guard the bug stopped the other room too and, replayed after every restart, crashed
each engine that took the partition over.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis

from ingest.batch import validate_batch
from livemon import keys
from livemon.engine_runner import EngineRunner
from livemon.settings import Settings
from monitor import wire_entries
from monitor.comment_stage import CommentStage
from monitor.comments import CommentTracker
from monitor.engine import Engine
from monitor.events import Event
from monitor.session import SessionState
from tests import redis_sync
from tests.events_factory import mixed_batch
from tests.support import wait_for

SECRET = b"test-secret"
STREAM = keys.events_stream(0)
TOTALS = ("events_total", "comments_total", "likes_total", "orders_total", "paid_total", "gmv_total", "buyers")


class Bug:
    """An engine bug that only the room "bad" hits, switched on and off by the test."""

    on = False


class RunningEngine:
    """An `EngineRunner` on its own thread and event loop, stopped the way SIGTERM stops it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._run(),), daemon=True)
        self.thread.start()
        assert self.started.wait(10), "the engine thread did not start"

    async def _run(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop_event = asyncio.Event()
        self.started.set()
        await EngineRunner(self.settings).run(self.stop_event)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(30)
        assert not self.thread.is_alive(), "the engine did not stop"


@pytest.fixture(params=["engine tick", "comment analysis"])
def bug(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Bug]]:
    tick, add_comments = SessionState.tick, CommentTracker.add_comments

    def failing_tick(self: SessionState, now: float) -> Any:
        if Bug.on and self.session == "bad":
            raise RuntimeError("injected bug")
        return tick(self, now)

    def failing_add_comments(self: CommentTracker, events: Any, labels: Any = None) -> None:
        if Bug.on and any(e.session == "bad" for e in events):
            raise RuntimeError("injected bug")
        add_comments(self, events, labels)

    if request.param == "engine tick":
        monkeypatch.setattr(SessionState, "tick", failing_tick)
    else:
        monkeypatch.setattr(CommentTracker, "add_comments", failing_add_comments)
    yield Bug
    Bug.on = False


def post(client: redis.Redis, reference: Engine, *rooms: str) -> None:
    """Append one mixed batch per room to the stream as one entry, as ingest does, and fold it into the reference."""
    for room in rooms:
        payloads = [e.wire for e in validate_batch(mixed_batch(room, comments=6, likes=4, orders=3, viewers=5), SECRET)]
        client.xadd(STREAM, {keys.EVENT_FIELD: wire_entries.join(payloads)})
        reference.apply_wire(payloads)


def snapshot(client: redis.Redis, room: str) -> dict[str, Any]:
    raw = client.hget(keys.SNAPSHOTS, room)
    return orjson.loads(raw) if raw else {}


def totals(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures.get(k) for k in TOTALS}


def expected(reference: Engine, room: str) -> dict[str, Any]:
    return totals(reference.sessions[room].snapshot(0.0))


def engine_fault(client: redis.Redis) -> dict[str, Any] | None:
    alerts = [orjson.loads(v) for v in client.hvals(keys.ALERTS_ACTIVE)]
    return next((a for a in alerts if a["rule"] == "engine_fault" and a["session"] == "bad"), None)


def comments_per_second(client: redis.Redis, room: str) -> dict[int, list[int]]:
    """A room's comment counts per second (all, negative, spam, ...) from every comment in the stream, in order."""
    stage = CommentStage()
    stage.observe([e for wire in redis_sync.stream_events(client, STREAM) if (e := Event.from_wire(wire)).session == room])
    return dict(stage.trackers[room].seconds)


def checkpointed(client: redis.Redis) -> dict[str, Any] | None:
    """The stored checkpoint once it covers the stream's last entry."""
    raw = client.get(keys.checkpoint_key(0))
    last = redis_sync.xrevrange(client, STREAM, count=1)[0][0].decode()
    saved = orjson.loads(raw) if raw else {}
    return saved if saved.get("last_id") == last else None


def test_engine_holds_out_only_the_session_whose_fold_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    fold = SessionState.fold

    def failing_fold(self: SessionState, part: Any) -> None:
        if Bug.on and self.session == "bad":
            raise ValueError("injected bug")
        fold(self, part)

    monkeypatch.setattr(SessionState, "fold", failing_fold)
    batches = [[e.wire for room in ("good", "bad")
                for e in validate_batch(mixed_batch(room, comments=6, likes=4, orders=3, viewers=5), SECRET)]
               for _ in range(3)]
    engine, clean = Engine(), Engine()
    for i, batch in enumerate(batches):
        Bug.on = i == 1
        engine.apply_wire(batch)
        clean.apply_wire(batch)
    Bug.on = False
    assert list(engine.sessions) == ["good"]
    assert engine.faults["bad"].error == "ValueError: injected bug" and "failing_fold" in engine.faults["bad"].trace
    assert engine.faults["bad"].skipped == len(batches[1]) // 2 + len(batches[2]) // 2  # failing batch on
    assert [s["session"] for s in engine.tick(1e9).snapshots] == ["good"]
    assert totals(engine.sessions["good"].snapshot(0.0)) == expected(clean, "good")
    assert set(engine.checkpoint().state["sessions"]) == {"good"}


def test_a_failing_session_is_held_out_visibly_then_refolded_exactly_after_the_fix(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path, bug: type[Bug]
) -> None:
    settings = Settings(redis_url=redis_url, partitions=1, tick_s=0.2, publish_s=0.05, checkpoint_s=0.2,
                        data_dir=tmp_path, pseudonym_secret=SECRET)
    reference = Engine()
    engine = RunningEngine(settings)
    try:
        post(redis_client, reference, "good", "bad")
        for room in ("good", "bad"):
            def counted(room: str = room) -> bool:
                return totals(snapshot(redis_client, room)) == expected(reference, room)

            wait_for(counted, 20, f"{room} counted")
        wait_for(lambda: checkpointed(redis_client), 10, "a checkpoint holding both rooms")
        frozen = totals(snapshot(redis_client, "bad"))

        bug.on = True
        post(redis_client, reference, "good", "bad")
        fault = wait_for(lambda: snapshot(redis_client, "bad").get("fault"), 10, "the fault on bad's snapshot")
        assert fault["error"] == "RuntimeError: injected bug"
        alert = wait_for(lambda: engine_fault(redis_client), 10, "the engine_fault alert")
        assert (alert["state"], alert["severity"]) == ("firing", "critical")
        post(redis_client, reference, "good", "bad")
        wait_for(lambda: totals(snapshot(redis_client, "good")) == expected(reference, "good"), 10,
                 "good still counted while bad is held out")
        saved = wait_for(lambda: checkpointed(redis_client), 10, "a checkpoint at the stream's end")
        assert set(saved["quarantined"]) == {"bad"} and "bad" not in saved["state"]["sessions"]
        assert totals(snapshot(redis_client, "bad")) == frozen  # frozen, not half-counted
        assert snapshot(redis_client, "bad")["fault"]["skipped"] > 0
        stats = wait_for(lambda: redis_sync.hget(redis_client, keys.ENGINE_STATS, settings.engine_name), 10,
                         "engine stats")
        assert orjson.loads(stats)["held_out"] == ["bad"]  # livemon_engine_sessions_held_out
    finally:
        engine.stop()

    bug.on = False  # the fix ships; the engine restarts
    engine = RunningEngine(settings)
    try:
        wait_for(lambda: "fault" not in snapshot(redis_client, "bad"), 20, "bad back in the engine")
        assert totals(snapshot(redis_client, "bad")) == expected(reference, "bad")  # every event, none twice
        assert totals(snapshot(redis_client, "good")) == expected(reference, "good")
        saved = wait_for(lambda: checkpointed(redis_client), 10, "a checkpoint after the recovery")
        assert not saved["quarantined"] and "bad" in saved["state"]["sessions"]
        tracker = saved["comments"]["trackers"]["bad"]  # its comment analysis refolded too, each comment once
        assert {s: c for s, c in tracker["seconds"]} == comments_per_second(redis_client, "bad")
        wait_for(lambda: (engine_fault(redis_client) or {}).get("state") == "resolved", 30,
                 "the engine_fault alert resolved by bad's next closed bin")
    finally:
        engine.stop()
