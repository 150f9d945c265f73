"""Consume several partition streams with one XREADGROUP each, concurrently.

A single XREADGROUP over many streams is one multi-key command: on Redis Cluster it fails
with CROSSSLOT, because every partition's stream has its own hash tag `{pN}`. So each
owned stream gets its own blocking read, in flight as a task on the blocking-reader client
(each holds one connection for at most one BLOCK); `read` returns whatever has arrived,
as soon as any read returns or when the caller's deadline comes. The same code serves a
single Redis, where it costs one connection per owned partition.

Reads are never cancelled (cancelling an in-flight redis-py call can corrupt its
connection, STREAMING.md §2.5): `finish` and `close` wait for them, which takes at most
one BLOCK, and hand back what they delivered so the caller can fold it before it
checkpoints or lets a partition go.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from livemon.redis_replies import FieldEntries, xreadgroup_field

log = logging.getLogger(__name__)

Entries = FieldEntries


class PartitionReads:
    """In-flight XREADGROUP calls of one consumer, one per stream.

    `reader` is a `livemon.redis_replies.field_reader` client: each entry comes back as
    `(id, payload or None)`.
    """

    def __init__(self, reader: aioredis.Redis, group: str, consumer: str, count: int) -> None:
        self.reader = reader
        self.group = group
        self.consumer = consumer
        self.count = count
        self.tasks: dict[str, asyncio.Task[Entries]] = {}

    async def _read(self, stream: str, block_ms: int) -> Entries:
        return await xreadgroup_field(self.reader, self.group, self.consumer, stream, ">", count=self.count,
                                      block=block_ms)

    async def read(self, streams: list[str], block_ms: int) -> list[tuple[str, Entries]]:
        """Start a read on each of `streams` not already reading; return what arrives within `block_ms`.

        Raises the first Redis error of a finished read (the caller's reconnect path handles it).
        """
        for stream in streams:
            if stream not in self.tasks:
                self.tasks[stream] = asyncio.create_task(self._read(stream, block_ms))
        if not self.tasks:
            await asyncio.sleep(block_ms / 1000)  # nothing owned yet: just wait for the next tick
            return []
        done, _ = await asyncio.wait(self.tasks.values(), timeout=block_ms / 1000,
                                     return_when=asyncio.FIRST_COMPLETED)
        results: list[tuple[str, Entries]] = []
        error: BaseException | None = None
        for stream, task in list(self.tasks.items()):
            if task not in done:
                continue
            del self.tasks[stream]
            exc = task.exception()
            if exc is not None:
                error = error or exc
            else:
                entries = task.result()
                if entries:
                    results.append((stream, entries))
        if error is not None:
            raise error
        return results

    async def finish(self, stream: str) -> Entries:
        """Wait for the stream's in-flight read, if any, and return what it delivered ([] if it failed)."""
        task = self.tasks.pop(stream, None)
        if task is None:
            return []
        try:
            return await task
        except Exception as exc:  # noqa: BLE001 - a failed read delivered nothing; the caller carries on
            log.warning("read of %s failed while finishing: %s", stream, exc)
            return []

    async def close(self) -> list[tuple[str, Entries]]:
        """Wait for every in-flight read; return what they delivered."""
        results: list[tuple[str, Entries]] = []
        for stream in list(self.tasks):
            entries = await self.finish(stream)
            if entries:
                results.append((stream, entries))
        return results
