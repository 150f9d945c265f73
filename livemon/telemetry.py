"""Prometheus metrics of this process, plus stream lag and engine health read from Redis at scrape time.

Counters live in one registry per process (web nodes are scraped one by one); engine
processes publish their tick statistics to `lm:stats:engine` so any web node can show them,
and remove them when they stop cleanly. An engine killed keeps its entry, so its
`livemon_engine_last_tick_age_seconds` grows until it is back (or its entry is deleted).
"""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from livemon import keys, redis_replies

REGISTRY = CollectorRegistry()

EVENTS_INGESTED = Counter("livemon_events_ingested", "Events accepted into the streams", ["source"], registry=REGISTRY)
EVENTS_DUPLICATE = Counter("livemon_events_duplicate", "Events refused as already seen", ["source"], registry=REGISTRY)
EVENTS_REJECTED = Counter("livemon_events_rejected", "Events refused as invalid", ["source"], registry=REGISTRY)
REQUESTS_UNAVAILABLE = Counter("livemon_ingest_unavailable", "Ingest requests answered 503", ["source"],
                               registry=REGISTRY)
INGEST_IN_FLIGHT = Gauge("livemon_ingest_in_flight", "Ingest requests being decoded, validated or written",
                         registry=REGISTRY)
INGEST_WAITING = Gauge("livemon_ingest_waiting", "Ingest requests whose body is read, waiting for a slot",
                       registry=REGISTRY)
WEBSOCKET_CLIENTS = Gauge("livemon_websocket_clients", "Open websocket connections", registry=REGISTRY)
WEBSOCKET_SLOW_DROPPED = Counter("livemon_websocket_slow_dropped", "Websocket clients cut for being too slow",
                                 registry=REGISTRY)
WEBHOOK_FAILURES = Counter("livemon_webhook_delivery_failures", "Outgoing notification deliveries that failed",
                           ["receiver"], registry=REGISTRY)

_STREAM_LAG = Gauge("livemon_stream_lag", "Entries not yet delivered to the engine group", ["partition"],
                    registry=REGISTRY)
_STREAM_LAG_EVENTS = Gauge("livemon_stream_lag_events", "Events not yet delivered to the engine group (estimated: "
                           "entries behind x events per entry written lately)", ["partition"], registry=REGISTRY)
_STREAM_PENDING = Gauge("livemon_stream_pending", "Entries delivered but not yet acknowledged",
                        ["partition", "consumer"], registry=REGISTRY)
_TICK_SECONDS = Gauge("livemon_engine_tick_seconds", "Duration of the last engine tick", ["engine"],
                      registry=REGISTRY)
_TICK_AGE = Gauge("livemon_engine_last_tick_age_seconds", "Seconds since the engine last ticked", ["engine"],
                  registry=REGISTRY)
_ENGINE_EVENTS = Gauge("livemon_engine_events_folded", "Events folded into state since engine start", ["engine"],
                       registry=REGISTRY)
_AFTER_RELEASE = Gauge("livemon_engine_events_after_release",
                       "Events dropped since engine start because their show had ended and been released "
                       "(engine setting ended_keep_s)", ["engine"], registry=REGISTRY)
_HELD_OUT = Gauge("livemon_engine_sessions_held_out", "Sessions the engine holds out after an error in its code",
                  ["engine"], registry=REGISTRY)
_PUBLISH_INTERVAL = Gauge("livemon_engine_publish_interval_seconds",
                          "Shortest time between two publishes of a busy partition (stretched when publishing "
                          "would take over LIVEMON_PUBLISH_BUDGET of the engine's time)", ["engine"], registry=REGISTRY)
_ALERT_TRANSITIONS = Gauge("livemon_alert_transitions", "Alert transitions in the audit stream", registry=REGISTRY)

LAG_SCAN_LIMIT = 100_000


async def stream_lag(client: aioredis.Redis, partition: int) -> tuple[int, dict[str, int]]:
    """Return (undelivered entries, pending per consumer) for one partition.

    Redis 7 reports `lag` directly; on 6.2 we count entries after the group's
    last-delivered id, capped at LAG_SCAN_LIMIT so a scrape stays cheap.
    """
    stream = keys.events_stream(partition)
    if not await client.exists(stream):
        return 0, {}
    groups = await client.xinfo_groups(stream)
    group = next((g for g in groups if g["name"] in (keys.ENGINE_GROUP, keys.ENGINE_GROUP.encode())), None)
    if group is None:
        return int(await client.xlen(stream)), {}
    lag = group.get("lag")
    if lag is None:
        last = group["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else last
        entries = await redis_replies.xrange(client, stream, f"({last}", "+", count=LAG_SCAN_LIMIT)
        lag = len(entries)
    pending: dict[str, int] = {}  # every consumer of the group, 0 once its entries are acknowledged
    for consumer in await client.xinfo_consumers(stream, keys.ENGINE_GROUP):
        name = consumer["name"].decode() if isinstance(consumer["name"], bytes) else consumer["name"]
        pending[name] = int(consumer["pending"])
    return int(lag), pending


async def events_per_entry(client: aioredis.Redis, partition: int) -> float:
    """Events per stream entry the writer wrote lately (`keys.events_written`); 1 before it wrote any.

    An entry holds one session's share of an ingest call (monitor/wire_entries.py), so the
    entries behind say little on their own; this ratio turns them into events without
    reading the entries.
    """
    written = await redis_replies.hgetall(client, keys.events_written(partition))
    events, entries = int(written.get(b"events", 0)), int(written.get(b"entries", 0))
    return events / entries if events and entries else 1.0


async def total_lag(client: aioredis.Redis, partitions: int) -> int:
    """Undelivered events over all partitions, estimated from the entries behind (used by /readyz)."""
    total = 0.0
    for partition in range(partitions):
        lag, _ = await stream_lag(client, partition)
        if lag:
            total += lag * await events_per_entry(client, partition)
    return round(total)


async def render(client: aioredis.Redis, partitions: int, now: float) -> bytes:
    """Refresh the Redis-derived gauges and return the text exposition.

    The series are rebuilt from what Redis holds now, so an engine that left, or a consumer
    the group no longer has, stops showing its last value. Everything is read first and the
    gauges are then set without an await, so concurrent scrapes never see a half-set registry.
    """
    lags = [await stream_lag(client, partition) for partition in range(partitions)]
    # a partition with nothing behind needs no ratio: one read less per partition and scrape, as in total_lag
    ratios = [await events_per_entry(client, partition) if lag else 1.0 for partition, (lag, _) in enumerate(lags)]
    stats = await redis_replies.hgetall(client, keys.ENGINE_STATS)
    transitions = await client.xlen(keys.ALERTS) if await client.exists(keys.ALERTS) else 0
    for gauge in (_STREAM_PENDING, _TICK_SECONDS, _TICK_AGE, _ENGINE_EVENTS, _AFTER_RELEASE, _HELD_OUT,
                  _PUBLISH_INTERVAL):
        gauge.clear()
    for partition, ((lag, pending), ratio) in enumerate(zip(lags, ratios)):
        _STREAM_LAG.labels(str(partition)).set(lag)
        _STREAM_LAG_EVENTS.labels(str(partition)).set(round(lag * ratio))
        for consumer, count in pending.items():
            _STREAM_PENDING.labels(str(partition), consumer).set(count)
    for name, raw in stats.items():
        data: dict[str, Any] = orjson.loads(raw)
        engine = name.decode()
        _TICK_SECONDS.labels(engine).set(data["tick_s"])
        _TICK_AGE.labels(engine).set(max(0.0, now - data["at"]))
        _ENGINE_EVENTS.labels(engine).set(data["events"])
        _AFTER_RELEASE.labels(engine).set(data.get("dropped_after_release", 0))  # absent from older engines
        _HELD_OUT.labels(engine).set(len(data.get("held_out", ())))  # absent from engines before it existed
        if "publish_interval_s" in data:  # likewise
            _PUBLISH_INTERVAL.labels(engine).set(data["publish_interval_s"])
    _ALERT_TRANSITIONS.set(transitions)
    return generate_latest(REGISTRY)
