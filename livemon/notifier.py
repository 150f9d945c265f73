"""Notifications out: alert transitions from the audit stream to webhook and chat-bot receivers.

Runs as a task of each web process, never inside the engine: a slow or dead receiver
can delay a message, never a tick. The processes share the consumer group `notifier` on
`lm:alerts`, so each transition is delivered by one of them, at least once (an entry is
acknowledged only after every receiver either took it or was given up on, and a
restarted process first re-reads its own pending entries).

Each delivery retries with exponential backoff (`[delivery]` in config/alerts.toml).
Every failed attempt is logged; a delivery given up after the last attempt goes to the
`lm:notify:failed` stream, and per-receiver counters to `lm:notify:status`, both shown by
`GET /api/v1/alerts/deliveries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from livemon import keys, redis_replies, telemetry
from monitor.alert_config import AlertConfig, Receiver
from monitor.detectors import Severity
from monitor.notify_format import render

log = logging.getLogger(__name__)

READ_COUNT = 100
BLOCK_MS = 1000
# An entry pending this long was read by a notifier that died (a live one gives up on a delivery
# after ~1.5 min with the default retry policy), so another process takes it over.
CLAIM_IDLE_MS = 300_000
CLAIM_EVERY_S = 60.0


class Notifier:
    """Consumes `lm:alerts` as one member of the `notifier` group and posts to receivers."""

    def __init__(self, config: AlertConfig, reader: aioredis.Redis, redis: aioredis.Redis,
                 consumer: str | None = None, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.reader = reader
        self.redis = redis
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.http = http or httpx.AsyncClient(timeout=config.delivery.timeout_s)
        self.slots = asyncio.Semaphore(config.delivery.queue_size)
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Deliver until cancelled; then let in-flight deliveries stop and close the HTTP client."""
        if not self.config.receivers:
            log.info("notifier: no receivers configured in config/alerts.toml; not consuming %s", keys.ALERTS)
            await self.http.aclose()
            return
        try:
            await self._ensure_group()
            await self._redeliver_own_pending()
            next_claim = 0.0
            while True:
                try:
                    if time.monotonic() >= next_claim:
                        await self._claim_abandoned()
                        next_claim = time.monotonic() + CLAIM_EVERY_S
                    entries = await redis_replies.xreadgroup(self.reader, keys.NOTIFY_GROUP, self.consumer,
                                                             keys.ALERTS, ">", count=READ_COUNT, block=BLOCK_MS)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("notifier: reading %s failed; retrying in 1 s", keys.ALERTS, exc_info=True)
                    await asyncio.sleep(1.0)
                    continue
                for raw_id, fields in entries:
                    await self._spawn(raw_id.decode(), fields)
        finally:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            await self.http.aclose()

    async def _spawn(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        await self.slots.acquire()  # bounded: a flood waits here, the engine never does
        task = asyncio.create_task(self._deliver_entry(entry_id, fields))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _redeliver_own_pending(self) -> None:
        """Deliver what this consumer read but never acknowledged in a previous life (at-least-once)."""
        after = "0"
        while True:
            entries = await redis_replies.xreadgroup(self.reader, keys.NOTIFY_GROUP, self.consumer, keys.ALERTS,
                                                     after, count=READ_COUNT)
            if not entries:
                return
            for raw_id, fields in entries:
                after = raw_id.decode()
                if fields:  # an entry trimmed away while pending comes back empty
                    await self._spawn(after, fields)
                else:
                    await self.redis.xack(keys.ALERTS, keys.NOTIFY_GROUP, after)

    async def _claim_abandoned(self) -> None:
        """Take over and deliver entries another notifier read but never acknowledged (it died)."""
        cursor = "0-0"
        while True:
            cursor, entries = await redis_replies.xautoclaim(self.redis, keys.ALERTS, keys.NOTIFY_GROUP,
                                                             self.consumer, min_idle_ms=CLAIM_IDLE_MS,
                                                             start_id=cursor, count=READ_COUNT)
            for raw_id, fields in entries:
                entry_id = raw_id.decode()
                if fields:
                    log.info("notifier: taking over abandoned entry %s", entry_id)
                    await self._spawn(entry_id, fields)
                else:  # trimmed away while pending
                    await self.redis.xack(keys.ALERTS, keys.NOTIFY_GROUP, entry_id)
            if cursor == "0-0":
                return

    async def _ensure_group(self) -> None:
        try:  # "$": a new group starts with new transitions, it does not page out the whole history
            await self.redis.xgroup_create(keys.ALERTS, keys.NOTIFY_GROUP, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def receivers_for(self, record: dict[str, Any]) -> list[Receiver]:
        """Receivers this transition goes to (routes, and `send_resolved` for resolutions)."""
        if not record.get("notify"):
            return []
        receivers = self.config.receivers_for(record["session"], record["rule"], Severity(record["severity"]))
        if record["state"] == "resolved":
            receivers = [r for r in receivers if r.send_resolved]
        return receivers

    async def _deliver_entry(self, entry_id: str, fields: dict[bytes, bytes]) -> None:
        try:
            try:
                record = orjson.loads(fields[keys.ALERT_RECORD_FIELD.encode()])
                receivers = self.receivers_for(record)
            except (KeyError, ValueError):
                log.error("notifier: unreadable entry %s in %s, skipped", entry_id, keys.ALERTS)
                receivers = []
            if receivers:
                await asyncio.gather(*(self._deliver(r, record) for r in receivers))
            await self.redis.xack(keys.ALERTS, keys.NOTIFY_GROUP, entry_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # task boundary: one bad entry must not stop the others
            log.exception("notifier: entry %s failed", entry_id)
        finally:
            self.slots.release()

    async def _deliver(self, receiver: Receiver, record: dict[str, Any]) -> None:
        """Post one transition to one receiver, retrying with backoff; record the outcome."""
        payload = orjson.dumps(render(record, receiver.kind))
        policy = self.config.delivery
        error = ""
        for attempt in range(1, policy.max_attempts + 1):
            try:
                response = await self.http.post(receiver.url, content=payload,
                                                headers={"Content-Type": "application/json"})
                if response.status_code < 300:
                    await self._status(receiver.name, ok=True)
                    return
                error = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning("notifier: %s attempt %d/%d for %s %s failed: %s", receiver.name, attempt,
                        policy.max_attempts, record["rule"], record["event"], error)
            telemetry.WEBHOOK_FAILURES.labels(receiver.name).inc()  # every failed attempt, as in lm:notify:status
            await self._status(receiver.name, ok=False, error=error)
            if attempt < policy.max_attempts:
                await asyncio.sleep(policy.backoff(attempt))
        log.error("notifier: giving up on %s for %s %s (%s) after %d attempts: %s", receiver.name, record["rule"],
                  record["event"], record["fingerprint"], policy.max_attempts, error)
        failed = {"receiver": receiver.name, "fingerprint": record["fingerprint"], "session": record["session"],
                  "rule": record["rule"], "event": record["event"], "at": time.time(),
                  "attempts": policy.max_attempts, "error": error}
        with contextlib.suppress(Exception):  # the log line above already tells the story
            await self.redis.xadd(keys.NOTIFY_FAILED, {"r": orjson.dumps(failed)}, maxlen=keys.NOTIFY_FAILED_MAXLEN,
                                  approximate=True)

    async def _status(self, receiver: str, ok: bool, error: str = "") -> None:
        raw = await self.redis.hget(keys.NOTIFY_STATUS, receiver)
        status: dict[str, Any] = orjson.loads(raw) if raw else {
            "delivered": 0, "failed_attempts": 0, "last_ok_at": None, "last_error": None, "last_error_at": None}
        if ok:
            status["delivered"] += 1
            status["last_ok_at"] = time.time()
        else:
            status["failed_attempts"] += 1
            status["last_error"], status["last_error_at"] = error, time.time()
        await self.redis.hset(keys.NOTIFY_STATUS, receiver, orjson.dumps(status))
