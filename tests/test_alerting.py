"""The engine's alert stage against a real Redis: audit stream, active hash, commands, checkpoint."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import redis

from livemon import keys
from livemon.alerting import COMMAND_FIELD, AlertStage, read_commands
from livemon.redis_client import connect
from monitor.alert_config import load_alert_config
from monitor.bins import Bin
from tests import redis_sync

T0 = 1_767_225_600
YEAR_S = 366 * 24 * 3600


def crash_series(session: str, crash_at: int = 40, bins: int = 42, t0: int = T0) -> list[Bin]:
    """Steady 1,000 viewers, then 300 from bin `crash_at` on (a viewer crash)."""
    return [Bin(session=session, start=t0 + 10 * i, viewers=1000 if i < crash_at else 300,
                viewers_estimated=False, events=50) for i in range(bins)]


def records(client: redis.Redis) -> list[dict[str, Any]]:
    return [orjson.loads(f[keys.ALERT_RECORD_FIELD.encode()]) for _, f in redis_sync.xrange(client, keys.ALERTS)]


def run_step(redis_url: str, stage: AlertStage, bins: list[Bin], now: float) -> int:
    async def go() -> int:
        client = connect(redis_url)
        try:
            commands = await read_commands(client, [stage])
            async with client.pipeline(transaction=False) as pipe:
                written = stage.step(pipe, bins, commands, now)
                await pipe.execute()
            return written
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_alerting_appends_transitions_and_mirrors_active_alerts(redis_client: redis.Redis, redis_url: str) -> None:
    stage = AlertStage(load_alert_config(), YEAR_S)
    assert run_step(redis_url, stage, crash_series("room-1"), T0 + 420) == 1
    [record] = records(redis_client)
    assert (record["rule"], record["state"], record["session"]) == ("viewer_crash", "firing", "room-1")
    raw = redis_sync.hget(redis_client, keys.ALERTS_ACTIVE, record["fingerprint"])
    assert raw is not None
    active = orjson.loads(raw)
    assert active["state"] == "firing" and active["muted"] is None
    snapshot: dict[str, Any] = {"session": "room-1"}
    stage.annotate(snapshot)
    assert [a["rule"] for a in snapshot["alerts"]] == ["viewer_crash"]


def test_alerting_applies_ack_and_silence_commands_once(redis_client: redis.Redis, redis_url: str) -> None:
    stage = AlertStage(load_alert_config(), YEAR_S)
    run_step(redis_url, stage, crash_series("room-1"), T0 + 420)
    fp = records(redis_client)[0]["fingerprint"]
    redis_client.xadd(keys.ALERT_COMMANDS, {COMMAND_FIELD: orjson.dumps(
        {"op": "ack", "fingerprint": fp, "actor": "mei", "note": "on it", "at": T0 + 425})})
    redis_client.xadd(keys.ALERT_COMMANDS, {COMMAND_FIELD: orjson.dumps(
        {"op": "silence", "matchers": {"session": "room-2"}, "starts_at": T0, "ends_at": T0 + 3600,
         "actor": "mei", "reason": "rehearsal"})})
    run_step(redis_url, stage, [], T0 + 430)
    run_step(redis_url, stage, [], T0 + 431)  # the same commands are not applied twice
    assert [(r["event"], r["actor"]) for r in records(redis_client)] == [("firing", None), ("acknowledged", "mei")]
    raw = redis_sync.hget(redis_client, keys.ALERTS_ACTIVE, fp)
    assert raw is not None and orjson.loads(raw)["acked_by"] == "mei"
    [silence] = stage.book.silences.values()
    assert silence.reason == "rehearsal"
    # the silence mutes room-2's crash
    run_step(redis_url, stage, crash_series("room-2"), T0 + 432)
    assert records(redis_client)[-1]["muted"] == "silenced"


def test_alerting_checkpoint_continues_timers_and_command_position(redis_client: redis.Redis, redis_url: str) -> None:
    config = load_alert_config()
    stage = AlertStage(config, YEAR_S)
    bins = crash_series("room-1", bins=45)
    run_step(redis_url, stage, bins[:41], T0 + 420)
    restored = AlertStage.from_state(config, YEAR_S, orjson.loads(orjson.dumps(stage.to_state())))
    run_step(redis_url, restored, bins[41:], T0 + 460)
    assert [r["event"] for r in records(redis_client)] == ["firing"]  # no second "firing": same alert continued
    assert AlertStage.from_state(config, YEAR_S, None).book.alerts == {}


def test_alerting_resolved_alerts_leave_the_active_hash(redis_client: redis.Redis, redis_url: str) -> None:
    config = load_alert_config()
    stage = AlertStage(config, YEAR_S)
    run_step(redis_url, stage, crash_series("room-1"), T0 + 420)
    recovered = [Bin(session="room-1", start=T0 + 10 * i, viewers=1000, viewers_estimated=False, events=50)
                 for i in range(42, 120)]
    run_step(redis_url, stage, recovered, T0 + 1200)
    assert [r["event"] for r in records(redis_client)] == ["firing", "resolved"]
    assert redis_client.hlen(keys.ALERTS_ACTIVE) == 0  # shown resolved for 5 min, then pruned


def test_alerting_session_end_resolves_its_alerts(redis_client: redis.Redis, redis_url: str) -> None:
    stage = AlertStage(load_alert_config(), YEAR_S)
    run_step(redis_url, stage, crash_series("room-1") + crash_series("room-2"), T0 + 420)
    stage.annotate({"session": "room-1", "live": False})
    run_step(redis_url, stage, [], T0 + 425)
    last = records(redis_client)[-1]
    assert (last["session"], last["event"], last["actor"], last["note"]) == ("room-1", "resolved", "system",
                                                                             "session ended")
    assert [a["session"] for a in stage.book.active()] == ["room-2"] and "room-1" not in stage.suite.sessions
