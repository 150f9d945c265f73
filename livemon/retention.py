"""Data protection in Redis: trim event streams to the retention, purge one session's data.

Retention: every engine trims the event streams of its partitions with `XTRIM MINID ~`
once a minute (stream ids are arrival times, so this keeps `LIVEMON_RETENTION_S` of
history). The alert audit stream has its own, longer retention (`LIVEMON_AUDIT_RETENTION_S`,
default 3 years, PLATFORMS.md §4.5), applied where alerts are written (livemon/alerting.py).

Purge (`livemon purge --session …`): removes the session's latest snapshot, its events
(XDEL, found by scanning its partition's stream), its de-duplication markers, its alert
transitions and active alerts, and its entry in the partition checkpoint. A running engine
still holds the session in memory, so the purge also leaves a marker in `lm:purge`; engines
drop marked sessions at each tick for PURGE_MARKER_S, and the command clears the checkpoint
again after a few ticks. Events for the session that arrive later start a new history.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from livemon import keys
from livemon.settings import Settings

TRIM_EVERY_S = 60.0
SCAN_COUNT = 2000
PURGE_MARKER_S = 120.0  # how long engines keep dropping a purged session (a few ticks would do)


async def trim_streams(client: aioredis.Redis, partitions: list[int], settings: Settings, now: float) -> None:
    """Drop event-stream entries older than the retention (exact: cost is the entries removed)."""
    min_id = f"{int((now - settings.retention_s) * 1000)}-0"
    async with client.pipeline(transaction=False) as pipe:
        for number in partitions:
            pipe.xtrim(keys.events_stream(number), minid=min_id, approximate=False)
        await pipe.execute()


def drop_purged(engines: list[Any], purged: list[str]) -> None:
    """Forget purged sessions in running engines (monitor.engine.Engine keeps them in `sessions`)."""
    for engine in engines:
        for session in purged:
            engine.sessions.pop(session, None)


@dataclass
class PurgeReport:
    """What a purge removed, for the command's output."""

    events: int = 0
    dedup_markers: int = 0
    alert_transitions: int = 0
    active_alerts: int = 0
    snapshot: bool = False
    checkpoint_cleared: bool = False


async def _xdel_matching(client: aioredis.Redis, stream: str, matches: Any) -> int:
    deleted = 0
    start = "-"
    while True:
        entries = await client.xrange(stream, min=start, max="+", count=SCAN_COUNT)
        doomed = [raw_id for raw_id, fields in entries if matches(fields)]
        if doomed:
            deleted += await client.xdel(stream, *doomed)
        if len(entries) < SCAN_COUNT:
            return deleted
        start = "(" + entries[-1][0].decode()


def _event_of(session: str) -> Any:
    def matches(fields: dict[bytes, bytes]) -> bool:
        raw = fields.get(keys.EVENT_FIELD.encode())
        return raw is not None and orjson.loads(raw).get("session") == session

    return matches


async def _clear_checkpoint(client: aioredis.Redis, key: str, session: str) -> bool:
    """Remove the session from a checkpoint's engine state (optimistic transaction against engine writes)."""
    async with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                if raw is None:
                    return True
                saved = orjson.loads(raw)
                sessions = saved.get("state", {}).get("sessions", {})
                if session not in sessions:
                    return True
                del sessions[session]
                pipe.multi()
                pipe.set(key, orjson.dumps(saved))
                await pipe.execute()
                return True
            except WatchError:
                continue


async def purge_session(
    client: aioredis.Redis, session: str, partitions: int, settle_s: float = 3.0
) -> PurgeReport:
    """Remove every trace of `session` from Redis (see module docstring)."""
    report = PurgeReport()
    await client.hset(keys.PURGE, session, str(time.time()))
    number = keys.partition_of(session, partitions)
    report.snapshot = bool(await client.hdel(keys.SNAPSHOTS, session))
    report.events = await _xdel_matching(client, keys.events_stream(number), _event_of(session))
    markers = [k async for k in client.scan_iter(match=keys.dedup_key(number, session, "*"), count=SCAN_COUNT)]
    for start in range(0, len(markers), 500):
        report.dedup_markers += await client.delete(*markers[start:start + 500])
    session_field = keys.ALERT_SESSION_FIELD.encode()
    report.alert_transitions = await _xdel_matching(
        client, keys.ALERTS, lambda fields: fields.get(session_field) == session.encode()
    )
    active = await client.hgetall(keys.ALERTS_ACTIVE)
    doomed = [fp for fp, record in active.items() if orjson.loads(record).get("session") == session]
    if doomed:
        report.active_alerts = await client.hdel(keys.ALERTS_ACTIVE, *doomed)
    checkpoint = keys.checkpoint_key(number)
    await _clear_checkpoint(client, checkpoint, session)
    # A running engine may write the session back from memory until its next tick sees the
    # marker; after `settle_s` (a few ticks) clear once more and check.
    await asyncio.sleep(settle_s)
    await _clear_checkpoint(client, checkpoint, session)
    await client.hdel(keys.SNAPSHOTS, session)
    raw = await client.get(checkpoint)
    report.checkpoint_cleared = raw is None or session not in orjson.loads(raw).get("state", {}).get("sessions", {})
    return report


async def fresh_purges(client: aioredis.Redis, now: float) -> list[str]:
    """Sessions purged within PURGE_MARKER_S (engines drop them); older markers are removed."""
    markers = await client.hgetall(keys.PURGE)
    stale = [s for s, at in markers.items() if now - float(at) > PURGE_MARKER_S]
    if stale:
        await client.hdel(keys.PURGE, *stale)
    return [s.decode() for s, at in markers.items() if now - float(at) <= PURGE_MARKER_S]
