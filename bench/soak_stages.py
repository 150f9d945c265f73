"""Where the soak's latency goes: a sample of comments timed at every stage, read from Redis beside the run.

Each sampled comment is timed at five points, all on this host's clock:

    posted     the producer builds the request (its text carries this time: `t=<ms> …`)
    stored     ingest XADDs it to `lm:ev:{pN}` (the entry id's milliseconds, Redis' clock)
    read       the engine's XREADGROUP delivers it (XPENDING: now − the entry's idle time)
    published  the first `lm:updates` entry whose snapshot lists it (that entry id's milliseconds)
    received   a websocket client gets the batch holding it (one time per client)

so a stage's figure is the time between two points of the same comment. The sample is the
newest entries of every partition every SAMPLE_EVERY_S (XREVRANGE); a sampled entry is
followed until the engine has read it. Nothing here changes what the processes under test
do: it only reads Redis (one more reader of `lm:updates`, as a second web node would be).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis

from livemon import keys, redis_replies
from livemon.command_streams import stream_order
from monitor import wire_entries

STAMP = "t="  # comment text "t=<post time ms> …"
SAMPLE_EVERY_S = 0.25
SAMPLE_PER_PARTITION = 20
KEEP_S = 30.0  # how long a published or received time waits for its sample before it is dropped
STAGES = ("ingest", "queue", "engine", "fan_out")
STAGE_NAMES = {"ingest": "posted → stored (ingest, XADD)", "queue": "stored → read by engine",
               "engine": "read → published (fold, publish cadence)",
               "fan_out": "published → received (hub, coalescing, client)"}


def _text(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def stream_ms(entry_id: bytes | str) -> int:
    """Milliseconds part of a Redis stream id."""
    return stream_order(_text(entry_id))[0]


@dataclass
class _Sample:
    partition: int
    entry_id: str
    posted_ms: int
    stored_ms: int
    read_ms: int | None = None
    sampled_at: float = field(default_factory=time.time)


@dataclass
class StageTracer:
    """Samples comments from the event streams and joins their stage times."""

    url: str
    partitions: int
    published: dict[str, int] = field(default_factory=dict)  # comment id -> first publish ms
    received: dict[str, list[int]] = field(default_factory=dict)  # comment id -> receive ms per client
    deltas: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    _pending: dict[str, _Sample] = field(default_factory=dict)  # comment id -> sample not yet read
    _waiting: dict[str, _Sample] = field(default_factory=dict)  # read, waiting for publish and receipt
    unread_lost: int = 0  # acknowledged by a checkpoint before we looked (no read time)
    _pruned_at: float = 0.0

    def on_received(self, comment_id: str, received_ms: int) -> None:
        """A client saw `comment_id` for the first time at `received_ms`."""
        self.received.setdefault(comment_id, []).append(received_ms)

    async def run(self, until: float) -> None:
        """Sample, follow and tail until `until` (epoch seconds), then join what is left."""
        client = aioredis.Redis.from_url(self.url)
        try:
            await asyncio.gather(self._tail_updates(client, until), self._sample(client, until))
        finally:
            await client.aclose()
        self._join(final=True)

    async def _tail_updates(self, client: aioredis.Redis, until: float) -> None:
        last = "$"
        while time.time() < until:
            for raw_id, fields in await redis_replies.xread(client, keys.UPDATES, last, count=1000, block=500):
                last = raw_id.decode()
                at = stream_ms(raw_id)
                for comment in orjson.loads(fields[b"d"]).get("recent_comments", []):
                    if comment.get("text", "").startswith(STAMP):
                        self.published.setdefault(comment["id"], at)

    async def _sample(self, client: aioredis.Redis, until: float) -> None:
        streams = [keys.events_stream(p) for p in range(self.partitions)]
        while time.time() < until:
            async with client.pipeline(transaction=False) as pipe:
                for stream in streams:
                    pipe.xrevrange(stream, count=SAMPLE_PER_PARTITION)
                newest = await pipe.execute()
            for partition, entries in enumerate(newest):
                for raw_id, fields in entries:
                    for wire in wire_entries.events_of(fields[b"e"]):
                        event = orjson.loads(wire)
                        text = event.get("text", "")
                        if event.get("type") == "comment" and text.startswith(STAMP) and event["id"] not in self._pending:
                            self._pending[event["id"]] = _Sample(partition, raw_id.decode(),
                                                                 int(text[len(STAMP):].split()[0]), stream_ms(raw_id))
            await self._follow(client, streams)
            self._join(final=False)
            await asyncio.sleep(SAMPLE_EVERY_S)

    async def _follow(self, client: aioredis.Redis, streams: list[str]) -> None:
        """Give each pending sample its read time once the engine's group has delivered it."""
        if not self._pending:
            return
        groups = {}
        for partition, stream in enumerate(streams):
            try:
                info = await client.xinfo_groups(stream)
            except aioredis.ResponseError:
                continue
            for group in info:
                if group["name"] in (keys.ENGINE_GROUP, keys.ENGINE_GROUP.encode()):
                    groups[partition] = stream_order(_text(group["last-delivered-id"]))
        delivered = [(cid, s) for cid, s in self._pending.items()
                     if s.partition in groups and stream_order(s.entry_id) <= groups[s.partition]]
        if not delivered:
            return
        async with client.pipeline(transaction=False) as pipe:
            for _cid, s in delivered:
                pipe.xpending_range(streams[s.partition], keys.ENGINE_GROUP, s.entry_id, s.entry_id, 1)
            replies = await pipe.execute()
        now_ms = int(time.time() * 1000)
        for (cid, s), reply in zip(delivered, replies):
            del self._pending[cid]
            if not reply:
                self.unread_lost += 1
                continue
            s.read_ms = now_ms - int(reply[0]["time_since_delivered"])
            self._waiting[cid] = s

    def _join(self, final: bool) -> None:
        """Turn followed samples into stage deltas once their receipts are in; drop what is too old."""
        now = time.time()
        for cid, s in list(self._waiting.items()):
            if not final and now - s.sampled_at < KEEP_S / 3:
                continue  # give publish and every client time to see it
            del self._waiting[cid]
            assert s.read_ms is not None
            self.deltas["ingest"].append(s.stored_ms - s.posted_ms)
            self.deltas["queue"].append(s.read_ms - s.stored_ms)
            published = self.published.get(cid)
            if published is None:
                continue  # never among a snapshot's newest eight comments
            self.deltas["engine"].append(published - s.read_ms)
            self.deltas["fan_out"].extend(r - published for r in self.received.get(cid, []))
        if not final and now - self._pruned_at < KEEP_S / 6:
            return
        self._pruned_at = now
        for stale in [cid for cid, s in self._pending.items() if now - s.sampled_at > KEEP_S]:
            del self._pending[stale]
        horizon = int((now - KEEP_S) * 1000)
        self.published = {c: t for c, t in self.published.items() if t > horizon}
        self.received = {c: ts for c, ts in self.received.items() if ts[-1] > horizon}


async def loop_lag(until: float, lags_ms: list[float], every_s: float = 0.05) -> None:
    """How late this process's event loop wakes: time the clients' own CPU adds to 'received'."""
    while time.time() < until:
        asked = time.perf_counter()
        await asyncio.sleep(every_s)
        lags_ms.append((time.perf_counter() - asked - every_s) * 1000)
