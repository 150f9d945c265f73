"""Data protection in Redis: trim event streams to the retention, purge one session's data.

Retention: every engine trims the event streams of its partitions with `XTRIM MINID ~`
once a minute (stream ids are arrival times, so this keeps `LIVEMON_RETENTION_S` of
history). The alert audit stream has its own, longer retention (`LIVEMON_AUDIT_RETENTION_S`,
default 3 years, PLATFORMS.md §4.5), applied where alerts are written (livemon/alerting.py).

Purge (`livemon purge --session …`): removes the session's latest snapshot and fan-out
updates, its events
(XDEL, found by scanning its partition's stream), its remembered event ids (de-duplication), its alert
transitions and active alerts, and its entry in the partition checkpoint. A running engine
still holds the session in memory, so the purge also leaves a marker in `lm:purge`; at its
next tick an engine checkpoints that partition, scrubs the session from the checkpoint and
rebuilds the partition from it (every stage forgets the session), and the command checks
the checkpoint again after a few ticks. Events for the session that arrive later start a new history.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from livemon import keys, redis_replies
from livemon.settings import Settings
from monitor import wire_entries
from monitor.engine import split_ids_key

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


def without_session(value: Any, session: str) -> Any:
    """A copy of checkpoint JSON with the session's entries gone, whichever stage wrote them.

    Drops dict keys equal to the session id (per-session state maps) and list items that are
    objects whose "session" is it (alert records, choices). Session ids are opaque room ids,
    so they do not collide with the field names of the state layouts.
    """
    if isinstance(value, dict):
        return {k: without_session(v, session) for k, v in value.items() if k != session}
    if isinstance(value, list):
        return [without_session(v, session) for v in value
                if not (isinstance(v, dict) and v.get("session") == session)]
    return value


@dataclass
class PurgeReport:
    """What a purge removed, for the command's output."""

    events: int = 0
    dedup_ids: int = 0
    alert_transitions: int = 0
    active_alerts: int = 0
    snapshot: bool = False
    checkpoint_cleared: bool = False


Held = Callable[[dict[bytes, bytes]], int]  # a stream entry's fields -> the session's records it holds (0: keep it)


async def _xdel_matching(client: aioredis.Redis, stream: str, held: Held) -> int:
    """XDEL every entry that holds records of the session; return how many records went with them."""
    removed = 0
    start = "-"
    while True:
        entries = await redis_replies.xrange(client, stream, start, "+", count=SCAN_COUNT)
        doomed = [(raw_id, n) for raw_id, fields in entries if (n := held(fields))]
        if doomed:
            await client.xdel(stream, *(raw_id for raw_id, _ in doomed))
            removed += sum(n for _, n in doomed)
        if len(entries) < SCAN_COUNT:
            return removed
        start = "(" + entries[-1][0].decode()


def _events_of(session: str) -> Held:
    """An event-stream entry holds one session's events (monitor/wire_entries.py): all of them, or none."""
    marker = wire_entries.session_marker(session)

    def held(fields: dict[bytes, bytes]) -> int:
        raw = fields.get(keys.EVENT_FIELD.encode())
        return wire_entries.count_of(raw) if raw is not None and marker in raw else 0

    return held


async def scrub_checkpoint(client: aioredis.Redis, partition: int, session: str) -> bool:
    """Remove the session from a partition checkpoint and its remembered ids (optimistic transaction
    against engine writes).

    Returns True when the checkpoint no longer mentions the session.
    """
    key, ids_key = keys.checkpoint_key(partition), keys.checkpoint_ids_key(partition)
    async with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key, ids_key)
                raw = await pipe.get(key)
                doomed = _ids_fields_of(await pipe.hkeys(ids_key), session)
                if (raw is None or session.encode() not in raw) and not doomed:
                    return True
                pipe.multi()
                if raw is not None and session.encode() in raw:
                    pipe.set(key, orjson.dumps(without_session(orjson.loads(raw), session)))
                if doomed:
                    pipe.hdel(ids_key, *doomed)
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
    checkpoint = keys.checkpoint_key(number)
    report.events = await _xdel_matching(client, keys.events_stream(number), _events_of(session))
    report.dedup_ids = await _forget_ids(client, number, session)
    await _sweep_outputs(client, session, number, report)
    # A running engine may still publish or checkpoint the session from memory until its next
    # tick sees the marker and rebuilds the partition; after `settle_s` (a few ticks) sweep again.
    await asyncio.sleep(settle_s)
    await _sweep_outputs(client, session, number, report)
    raw = await client.get(checkpoint)  # JSON keys and values are quoted: look for the quoted id
    ids = await client.hkeys(keys.checkpoint_ids_key(number))
    report.checkpoint_cleared = (raw is None or orjson.dumps(session) not in raw) and not _ids_fields_of(ids, session)
    return report


async def _forget_ids(client: aioredis.Redis, partition: int, session: str) -> int:
    """Remove the session's remembered event ids from the partition's de-dup buckets (ingest/writer.py)."""
    removed = 0
    pattern = keys.dedup_member(session, "*")  # identifiers hold no glob characters
    # type "set": a per-id marker key of an older livemon under the same prefix expires by itself
    async for bucket in client.scan_iter(match=keys.dedup_buckets_pattern(partition), count=SCAN_COUNT, _type="set"):
        members = [m async for m in client.sscan_iter(bucket, match=pattern, count=SCAN_COUNT)]
        for start in range(0, len(members), 500):
            removed += await client.srem(bucket, *members[start:start + 500])
    return removed


def _ids_fields_of(fields: Sequence[bytes | str], session: str) -> list[bytes | str]:
    """The fields of a checkpoint's ids hash (`monitor.engine.ids_key`) that belong to `session`."""
    return [f for f in fields if split_ids_key(f.decode() if isinstance(f, bytes) else f)[0] == session]


async def _sweep_outputs(client: aioredis.Redis, session: str, partition: int, report: PurgeReport) -> None:
    """Delete what engines derive from the session: snapshot, fan-out updates, alerts, checkpoint state."""
    report.snapshot = bool(await client.hdel(keys.SNAPSHOTS, session)) or report.snapshot
    await client.hdel(keys.CURVES, session)
    await _xdel_matching(client, keys.UPDATES, lambda fields: int(fields.get(b"s") == session.encode()))
    session_field = keys.ALERT_SESSION_FIELD.encode()
    report.alert_transitions += await _xdel_matching(
        client, keys.ALERTS, lambda fields: int(fields.get(session_field) == session.encode())
    )
    active = await redis_replies.hgetall(client, keys.ALERTS_ACTIVE)
    doomed = [fp for fp, record in active.items() if orjson.loads(record).get("session") == session]
    if doomed:
        report.active_alerts += await client.hdel(keys.ALERTS_ACTIVE, *doomed)
    await scrub_checkpoint(client, partition, session)


async def fresh_purges(client: aioredis.Redis, now: float) -> dict[str, str]:
    """Sessions purged within PURGE_MARKER_S, with their marker; older markers are removed."""
    markers = await redis_replies.hgetall(client, keys.PURGE)
    stale = [s for s, at in markers.items() if now - float(at) > PURGE_MARKER_S]
    if stale:
        await client.hdel(keys.PURGE, *stale)
    return {s.decode(): at.decode() for s, at in markers.items() if now - float(at) <= PURGE_MARKER_S}
