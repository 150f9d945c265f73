"""The engine process: consume event streams through a consumer group, tick, publish, checkpoint.

Exactly-once state on top of at-least-once delivery: each partition's engine state is
checkpointed together with the id of the last entry folded into it, in one Lua call with
the XACK of those entries (livemon/checkpoints.py). After a crash the pending entries are
read again and those at or below the checkpointed id are skipped, so nothing is lost and
nothing counted twice.

Ownership: without `--partitions` an engine holds the partitions it has a lease on and
shares them with the other live engines, about P/N each (livemon/partition_leases.py);
with `--partitions` it owns exactly those. Each partition is read with its own XREADGROUP
(livemon/partition_reads.py), so the runner works unchanged on Redis Cluster.

Cadence (livemon/cadence.py): a partition that folded new events publishes its snapshots
within `LIVEMON_PUBLISH_S` (longer when publishing would take over `LIVEMON_PUBLISH_BUDGET`
of the engine's time); the tick (`LIVEMON_TICK_S`) applies commands, renews leases and
publishes every partition; checkpoints run every `LIVEMON_CHECKPOINT_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from livemon import keys, redis_replies
from livemon.alerting import read_commands
from livemon.answering import read_answers
from livemon.cadence import Cadence
from livemon.checkpoints import CheckpointWriter
from livemon.partition import Partition
from livemon.partition_leases import PartitionLeases
from livemon.partition_reads import PartitionReads
from livemon.redis_client import connect, require_redis
from livemon.redis_replies import FieldEntries, field_reader, xreadgroup_field
from livemon.retention import TRIM_EVERY_S, fresh_purges, scrub_checkpoint, trim_streams
from livemon.settings import Settings
from livemon.suggesting import load_suggestion_config, read_choices
from monitor import comment_stage
from monitor.alert_config import AlertConfig, load_alert_config
from monitor.config import DEFAULT_PATH, EngineConfig, load_engine_config
from monitor.engine import TickResult

log = logging.getLogger(__name__)

READ_EVENTS = 5000  # events per XREADGROUP: bigger batches amortise the engine's per-batch numpy work
CLAIM_COUNT = 500  # entries per XAUTOCLAIM (its reply carries them whole; redis-py's JUSTID reply drops the cursor)
FIRST_READ_COUNT = 100  # entries, before any read has shown how many events an entry holds (1 to 500)
_EVENT_FIELD = keys.EVENT_FIELD.encode()
MAX_BLOCK_MS = 1000
PUBLISH_QUIET_AFTER_S = 600
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 5.0


def entries_per_read(entries: int, events: int) -> int:
    """How many entries to ask for next, so a read brings about `READ_EVENTS` events.

    An entry holds one session's share of an ingest request (monitor/wire_entries.py):
    one event from a webhook, hundreds from a busy room's batch. The last reads' ratio
    predicts the next ones well enough, and the bound keeps a batch's memory in check.
    """
    return max(1, min(READ_EVENTS, round(READ_EVENTS * entries / events)))


class EngineRunner:
    """Owns a set of partitions and drives their engines."""

    def __init__(self, settings: Settings, partitions: list[int] | None = None, config: EngineConfig | None = None,
                 alert_config: AlertConfig | None = None):
        self.settings = settings
        self.config = config or load_engine_config(settings.engine_config or DEFAULT_PATH)
        self.alert_config = alert_config or load_alert_config()
        self.suggestion_config = load_suggestion_config()
        self.numbers = partitions if partitions is not None else list(range(settings.partitions))
        self.consumer = settings.engine_name
        self.partitions: dict[str, Partition] = {}
        # Its XREADGROUP replies carry each entry's payload only (no dict per entry): redis_replies.field_reader.
        self.reader: aioredis.Redis = field_reader(connect(settings.redis_url, blocking_reader=True), _EVENT_FIELD)
        self.client: aioredis.Redis = connect(settings.redis_url)
        self.reads = PartitionReads(self.reader, keys.ENGINE_GROUP, self.consumer, FIRST_READ_COUNT)
        self.checkpoints = CheckpointWriter(self.client)
        self.cadence = Cadence(settings.publish_s, settings.checkpoint_s, settings.publish_budget)
        self.leases = None if partitions is not None else PartitionLeases(
            self.client, settings.engine_name, settings.partitions, settings.lease_ttl_s)
        self.ticks = 0
        self.purges_done: set[tuple[str, str]] = set()
        self.events_folded = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Recover, then consume and tick until `stop` is set; checkpoint on the way out."""
        await require_redis(self.client, self.settings.redis_url)
        try:
            if self.leases is None:
                for number in self.numbers:
                    await self._acquire(number)
                log.info("engine %s consuming partitions %s", self.consumer, self.numbers)
            else:
                await self._rebalance(time.time())
            await self._loop(stop)
            try:
                # fold what the last reads delivered
                self._fold([(self.partitions[stream], entries) for stream, entries in await self.reads.close()])
                await self._tick(time.time())
                await self._checkpoint_due(force=True)
                await self._release_all()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:  # pending entries replay next start
                log.warning("engine %s: final checkpoint skipped, redis unavailable: %s", self.consumer, exc)
        finally:
            await self.reader.aclose()
            await self.client.aclose()

    async def _acquire(self, number: int) -> None:
        """Create the group, restore the checkpoint, claim and replay pending entries."""
        stream = keys.events_stream(number)
        try:
            await self.client.xgroup_create(stream, keys.ENGINE_GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        raw = await self.client.get(keys.checkpoint_key(number))
        stored_ids = {k.decode(): v.decode() for k, v in
                      (await redis_replies.hgetall(self.client, keys.checkpoint_ids_key(number))).items()}
        part = Partition.restore(number, orjson.loads(raw) if raw else None, stored_ids, self.config,
                                 self.alert_config, self.suggestion_config, self.settings.audit_retention_s)
        self.partitions[stream] = part
        self.cadence.add(number, time.monotonic())
        cursor = "0-0"
        while True:  # take over whatever a dead predecessor left pending in this partition
            cursor, *_ = await self.client.xautoclaim(
                stream, keys.ENGINE_GROUP, self.consumer, min_idle_time=0, start_id=cursor, count=CLAIM_COUNT
            )
            cursor = cursor.decode() if isinstance(cursor, bytes) else cursor
            if cursor == "0-0":
                break
        start = "0"
        while True:  # replay our own pending entries: those at or below the checkpoint are already in state
            entries = await xreadgroup_field(self.reader, keys.ENGINE_GROUP, self.consumer, stream, start,
                                             count=self.reads.count)
            if not entries:
                break
            self._fold([(part, entries)])
            start = entries[-1][0].decode()
        log.info("partition %d restored at %s", number, part.last_applied)
        await part.recover(self.client, self.config, stored_ids, time.time())
        if part.unacked and not await self._checkpoint(part):  # keep the replay, so it is not done again
            await self._drop(number)

    def _fold(self, reads: list[tuple[Partition, FieldEntries]]) -> None:
        """Fold each partition's entries, then feed the comment stages of all of them at once.

        The comment stages score the comments of every partition in one call
        (`monitor.comment_stage.observe_stages`): scoring costs about as much for a few
        comments as for a few hundred, and one read brings a few dozen per partition.
        """
        batches = []
        entries_read = events_read = 0
        for part, entries in reads:
            kept, folded = part.fold(entries)
            if folded:
                self.cadence.changed(part.number)
                self.events_folded += folded
                entries_read += len(entries)
                events_read += folded
            if kept:
                batches.append((part.answering.comments, kept))
        if events_read:
            self.reads.count = entries_per_read(entries_read, events_read)
        comment_stage.observe_stages(batches)
        for part, _ in reads:
            part.hold_out_comment_faults()

    async def _loop(self, stop: asyncio.Event) -> None:
        """Consume until `stop`; when Redis goes away, wait, then re-acquire every partition.

        Redis may come back having lost what was not yet fsynced (AOF everysec), so the
        in-memory engines are dropped and rebuilt from the checkpoints and pending entries,
        exactly as after an engine crash: nothing is counted that Redis no longer holds.
        """
        delay = RECONNECT_MIN_S
        lost = False
        while not stop.is_set():
            try:
                if lost:
                    await self._reacquire()
                    log.info("engine %s: redis is back; partitions re-acquired from checkpoints", self.consumer)
                    lost, delay = False, RECONNECT_MIN_S
                await self._consume(stop)
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:  # BusyLoadingError (AOF replay) too
                lost = True
                log.warning("engine %s: redis unavailable (%s); retrying in %.1f s", self.consumer, exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, RECONNECT_MAX_S)

    async def _reacquire(self) -> None:
        await self.reads.close()  # state is rebuilt from Redis below; what these reads delivered stays pending
        self.partitions.clear()
        self.cadence.clear()
        if self.leases is None:
            for number in self.numbers:
                await self._acquire(number)
            return
        for number in self.leases.owned:  # leases that survived are extended again by the claims below
            self.leases.forget(number)
        await self._rebalance(time.time())

    async def _rebalance(self, now: float) -> None:
        """Renew leases, drop lost partitions, then release or claim partitions towards the fair share."""
        assert self.leases is not None
        for number in await self.leases.renew():
            await self._drop(number)
        step = await self.leases.plan(now)
        for number in step.release:
            await self._hand_over(number)
        for number in step.claim:
            if await self.leases.claim(number):
                await self._acquire(number)
                for lost in await self.leases.renew():  # a long replay must not let the other leases lapse
                    await self._drop(lost)
        if step.claim or step.release:
            log.info("engine %s owns partitions %s", self.leases.instance, sorted(self.leases.owned))

    async def _drop(self, number: int) -> None:
        """Forget a partition whose lease was lost: its successor restores the last checkpoint."""
        stream = keys.events_stream(number)
        if await self.reads.finish(stream):
            log.warning("engine %s: read entries of partition %d after losing its lease; its successor "
                        "claims them", self.consumer, number)
        self.partitions.pop(stream, None)
        self.cadence.forget(number)
        if self.leases is not None:
            self.leases.forget(number)
        log.warning("engine %s: lost the lease of partition %d", self.consumer, number)

    async def _hand_over(self, number: int) -> None:
        """Fold in-flight reads, checkpoint, then release the lease, so the next owner starts at once."""
        assert self.leases is not None
        stream = keys.events_stream(number)
        part = self.partitions.get(stream)
        entries = await self.reads.finish(stream)
        if part is not None:
            if entries:
                self._fold([(part, entries)])
            await self._checkpoint(part)
        self.partitions.pop(stream, None)
        self.cadence.forget(number)
        await self.leases.release(number)

    async def _release_all(self) -> None:
        """On shutdown, after the final checkpoint: leave the metrics, give every lease back, leave the engine list."""
        await self.client.hdel(keys.ENGINE_STATS, self.consumer)
        if self.leases is None:
            return
        for number in sorted(self.leases.owned):
            await self.leases.release(number)
        await self.leases.leave()

    async def _consume(self, stop: asyncio.Event) -> None:
        tick_s = self.settings.tick_s
        next_tick = time.monotonic() + tick_s
        next_trim = time.monotonic()
        while not stop.is_set():
            deadline = min(next_tick, self.cadence.next_deadline())
            wait_ms = int(max(1.0, min(MAX_BLOCK_MS, (deadline - time.monotonic()) * 1000)))
            readable = [stream for stream, part in self.partitions.items()
                        if self.leases is None or self.leases.readable(part.number, wait_ms / 1000)]
            self._fold([(part, entries) for stream, entries in await self.reads.read(readable, wait_ms)
                        if (part := self.partitions.get(stream)) is not None])
            now = time.monotonic()
            if now >= next_trim:  # retention (docs/security.md): cheap, so once a minute is plenty
                owned = sorted(p.number for p in self.partitions.values())
                await trim_streams(self.client, owned, self.settings, time.time())
                next_trim = now + TRIM_EVERY_S
            if now >= next_tick:
                await self._tick(time.time())
                if self.leases is not None:
                    await self._rebalance(time.time())
                next_tick += tick_s
                if next_tick < now:  # we fell behind: skip missed ticks instead of bursting
                    next_tick = now + tick_s
            else:
                due = set(self.cadence.publish_due(now))
                if due:
                    await self._publish_partitions([p for p in self.partitions.values() if p.number in due],
                                                   time.time())
            await self._checkpoint_due(force=False)

    async def _apply_purges(self, now: float) -> None:
        """`livemon purge`: checkpoint, scrub the session from the checkpoint, rebuild the partition from it.

        Rebuilding drops the session from every stage (engine, alerts, suggestions) at once,
        without each stage needing a `forget` of its own.
        """
        for session, marked_at in (await fresh_purges(self.client, now)).items():
            number = keys.partition_of(session, self.settings.partitions)
            stream = keys.events_stream(number)
            if (session, marked_at) in self.purges_done or stream not in self.partitions:
                continue
            entries = await self.reads.finish(stream)  # the rebuild below must not miss an in-flight read
            if entries:
                self._fold([(self.partitions[stream], entries)])
            await self._checkpoint(self.partitions[stream])
            await scrub_checkpoint(self.client, number, session)
            await self._acquire(number)
            self.purges_done.add((session, marked_at))
            log.info("engine %s: purged a session from partition %d", self.consumer, number)

    async def _tick(self, now: float) -> None:
        """Apply purges and the web's commands, then publish every partition's snapshots."""
        self.ticks += 1
        await self._apply_purges(now)
        started = time.perf_counter()
        parts = list(self.partitions.values())
        commands = await read_commands(self.client, [p.alerts for p in parts])
        choices = await read_choices(self.client, [p.suggestions for p in parts if p.suggestions])
        answers = await read_answers(self.client, [p.answering for p in parts])
        for part in parts:
            for session in part.engine.release_ended(now):  # every stage below forgets it too (retain)
                log.info("engine %s: released ended session %s from partition %d", self.consumer, session,
                         part.number)
            sessions = set(part.engine.session_ids())
            part.answering.apply(answers)
            part.answering.comments.retain(sessions)
            if part.suggestions is not None:
                part.suggestions.retain(sessions)
                part.suggestions.apply(choices)
        await self._publish_partitions(parts, now, commands)
        stats = {"tick_s": round(time.perf_counter() - started, 6), "at": now, "events": self.events_folded,
                 "dropped_after_release": sum(p.engine.dropped_after_release for p in parts),
                 "publish_interval_s": round(self.cadence.publish_interval(), 3),
                 "partitions": sorted(p.number for p in self.partitions.values()),
                 "held_out": sorted(sid for p in parts for sid in p.quarantine)}
        await self.client.hset(keys.ENGINE_STATS, self.consumer, orjson.dumps(stats))

    async def _publish_partitions(self, parts: list[Partition], now: float,
                                  commands: list[tuple[str, dict[str, Any]]] | None = None) -> None:
        """Tick the partitions' engines to `now`, step their alerts, publish one snapshot per active session."""
        costs: dict[int, float] = {}
        async with self.client.pipeline(transaction=False) as pipe:
            for part in parts:
                started = time.perf_counter()
                ticked = part.engine.tick(now)
                await part.isolate_faults(self.client, now)
                held = part.quarantine.values()
                frozen = [s for h in held if (s := h.frozen_snapshot()) is not None]
                result = part.answering.comments.enrich(TickResult(ticked.snapshots + frozen, ticked.bins), now)
                part.hold_out_comment_faults()
                part.alerts.step(pipe, result.bins, commands or [], now, [h.condition() for h in held])
                for snapshot in result.snapshots:
                    part.alerts.annotate(snapshot)
                    if "fault" in snapshot:  # frozen figures: shown as they were, not ranked again
                        self._publish(pipe, snapshot)
                        continue
                    if part.suggestions is not None:
                        part.suggestions.annotate(snapshot, now)
                    if now - snapshot["last_event_ts"] / 1000 > PUBLISH_QUIET_AFTER_S:
                        continue
                    self._publish(pipe, snapshot)
                costs[part.number] = time.perf_counter() - started
            await pipe.execute()
        self.cadence.published(costs, time.monotonic())

    async def _checkpoint_due(self, force: bool) -> None:
        """Checkpoint the partitions whose turn has come (every one when `force`); drop those whose lease is gone."""
        due = set(self.cadence.checkpoint_due(time.monotonic()))
        for part in list(self.partitions.values()):
            if not force and part.number not in due:
                continue
            if await self._checkpoint(part):
                self.cadence.checkpointed(part.number, time.monotonic())
            else:
                await self._drop(part.number)

    def _publish(self, pipe: Any, snapshot: dict[str, Any]) -> None:
        data = orjson.dumps(snapshot, option=orjson.OPT_SERIALIZE_NUMPY)
        pipe.hset(keys.SNAPSHOTS, snapshot["session"], data)
        if "series" in snapshot:  # kept apart, so a screen opened between two of them still draws its curves
            curves = {"series": snapshot["series"], "markers": snapshot.get("markers", [])}
            pipe.hset(keys.CURVES, snapshot["session"], orjson.dumps(curves, option=orjson.OPT_SERIALIZE_NUMPY))
        pipe.xadd(keys.UPDATES, {"s": snapshot["session"], "d": data}, maxlen=keys.UPDATES_MAXLEN, approximate=True)

    async def _checkpoint(self, part: Partition) -> bool:
        """Checkpoint and XACK in one Lua call; False when the partition's lease is no longer ours."""
        if not part.unacked and not part.engine.session_ids() and not part.stored_ids and not part.quarantine:
            return True
        checkpoint = part.engine.checkpoint()  # if it is not stored, the engine is rebuilt from what is
        await part.isolate_faults(self.client, time.time())  # before this checkpoint replaces the one it freezes at
        payload = part.checkpoint_payload(checkpoint)
        owner = None if self.leases is None else self.leases.instance
        named = checkpoint.named_ids.union(*(held.ids_keys() for held in part.quarantine.values()))
        dropped = part.stored_ids - named
        if not await self.checkpoints.write(part.number, payload, part.unacked, owner, checkpoint.changed_ids, dropped):
            return False
        part.unacked.clear()
        part.stored_ids = named
        return True
