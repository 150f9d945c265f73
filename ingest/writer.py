"""Append validated events to the partitioned event streams, de-duplicated by event id.

One Lua call per partition checks every event of that partition against the ids it accepted
recently, XADDs the new ones (each session's as one entry, monitor/wire_entries.py) and
remembers them, so an id is never remembered without its event. A retried request is
therefore idempotent: events already written count as duplicates the second time. All keys
of one call share the partition's hash tag `{pN}`, so on Redis Cluster each call runs in
one slot.

Remembered ids live in one Redis set per partition and time bucket of a quarter of
`dedup_ttl_s` (`DedupBuckets`): a call looks the whole batch up in the current bucket and
the four before it with SMISMEMBER, and adds the new ids with one SADD. Against a key with
its own TTL per id (`SET NX EX`, before), that is one Redis command per event instead of
two and no expiry per id: Redis CPU for the de-dup about halves, and so does its memory
(bench/dedup_markers.py; docs/performance.md). An id is recognised for at least `dedup_ttl_s` and
at most a quarter longer; a whole bucket expires at once.

Memory: a batch's encoded events are held until Redis answers; `monitor.events.encode_fields`
returns each at its own size (orjson's buffer of at least 4 KiB per `dumps` would otherwise
make a 5,000-event batch hold about 20 MiB instead of under 1 MiB).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from livemon import keys
from livemon.redis_client import is_cluster
from monitor import wire_entries
from monitor.events import EncodedEvent

# KEYS: stream, its `keys.events_written` hash, then the buckets to check, the current one
# first. ARGV: expiry of the current bucket (unix s), the stream's cap in events, event count
# n, entry count g, then the g entries' event counts, then n members, then n wire forms. The
# new events of each entry are XADDed as one entry (monitor/wire_entries.py); an entry whose
# events were all seen before is not written.
# The cap is in events, XTRIM counts entries: the hash keeps the events and entries written
# lately (both halved whenever the events pass twice the cap, so it follows about what the
# stream holds), and their ratio turns the cap into entries.
# unpack() goes in chunks: Lua's C stack holds only about 8,000 values.
_APPEND_SCRIPT = """
local n = tonumber(ARGV[3])
local g = tonumber(ARGV[4])
local members = 4 + g
local wires = members + n
local chunk = 1000
local seen = {}
for k = 3, #KEYS do
  for first = 1, n, chunk do
    local last = math.min(first + chunk - 1, n)
    local found = redis.call('SMISMEMBER', KEYS[k], unpack(ARGV, members + first, members + last))
    for i = first, last do
      if found[i - first + 1] == 1 then seen[i] = true end
    end
  end
end
local new, fresh = {}, {}
local i, written = 0, 0
for entry = 1, g do
  local parts = {}
  for _ = 1, tonumber(ARGV[4 + entry]) do
    i = i + 1
    local member = ARGV[members + i]
    if not seen[i] and not fresh[member] then  -- fresh: a second copy within this call
      fresh[member] = true
      new[#new + 1] = member
      parts[#parts + 1] = ARGV[wires + i]
    end
  end
  if #parts > 0 then
    redis.call('XADD', KEYS[1], '*', 'e', table.concat(parts, '\\n'))
    written = written + 1
  end
end
if #new > 0 then
  local cap = tonumber(ARGV[2])
  local events = redis.call('HINCRBY', KEYS[2], 'events', #new)
  local entries = redis.call('HINCRBY', KEYS[2], 'entries', written)
  if events > 2 * cap then
    events, entries = math.ceil(events / 2), math.ceil(entries / 2)
    redis.call('HSET', KEYS[2], 'events', events, 'entries', entries)
  end
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', math.ceil(cap * entries / events))
  for first = 1, #new, chunk do
    redis.call('SADD', KEYS[3], unpack(new, first, math.min(first + chunk - 1, #new)))
  end
  redis.call('EXPIREAT', KEYS[3], ARGV[1])
end
return #new
"""

CLOCK_MARGIN_S = 30  # a bucket outlives its last check by this much, for web nodes whose clocks run behind Redis's


@dataclass(frozen=True, slots=True)
class AppendResult:
    """How many events were new and how many were already known."""

    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class DedupBuckets:
    """Which buckets remember an id for at least `ttl_s`: quarters of the TTL, the current one and those covering it."""

    ttl_s: int

    @property
    def bucket_s(self) -> int:
        return max(1, math.ceil(self.ttl_s / 4))

    @property
    def checked(self) -> int:
        """Buckets a call looks in: an id accepted `ttl_s` ago is at most ceil(ttl / bucket) buckets back."""
        return math.ceil(self.ttl_s / self.bucket_s) + 1

    def at(self, now: float) -> tuple[list[int], int]:
        """The buckets to check at `now`, current first, and when the current one may expire (unix s)."""
        current = int(now // self.bucket_s)
        expire_at = (current + self.checked) * self.bucket_s + CLOCK_MARGIN_S
        return [current - k for k in range(self.checked)], expire_at


class EventWriter:
    """Writes event batches; one instance per process, shared by all requests."""

    def __init__(self, client: aioredis.Redis, partitions: int, dedup_ttl_s: int, stream_maxlen: int,
                 clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.partitions = partitions
        self.buckets = DedupBuckets(dedup_ttl_s)
        self.stream_maxlen = stream_maxlen
        self.clock = clock
        self._script = client.register_script(_APPEND_SCRIPT)
        self.cluster = is_cluster(client)

    async def append(self, events: Sequence[EncodedEvent]) -> AppendResult:
        """Append events (`ingest.batch.validate_batch`, `Event.encoded`), grouped per partition, in one round trip.

        Within a partition, each session's events become one entry (up to
        `wire_entries.MAX_EVENTS` each), in the order the sessions first appear.
        """
        groups: dict[int, dict[str, list[EncodedEvent]]] = defaultdict(lambda: defaultdict(list))
        for event in events:
            groups[keys.partition_of(event.session, self.partitions)][event.session].append(event)
        buckets, expire_at = self.buckets.at(self.clock())
        async with self.client.pipeline(transaction=False) as pipe:
            for partition, sessions in groups.items():
                entries = [group[lo:lo + wire_entries.MAX_EVENTS] for group in sessions.values()
                           for lo in range(0, len(group), wire_entries.MAX_EVENTS)]
                ordered = [e for entry in entries for e in entry]
                script_keys = [keys.events_stream(partition), keys.events_written(partition),
                               *[keys.dedup_bucket(partition, b) for b in buckets]]
                script_args: list[int | str | bytes] = [
                    expire_at, self.stream_maxlen, len(ordered), len(entries), *map(len, entries),
                    *[keys.dedup_member(e.session, e.id) for e in ordered], *[e.wire for e in ordered]]
                if self.cluster:  # redis-py's cluster pipeline refuses EVALSHA; EVAL is cached by Redis as well
                    pipe.eval(_APPEND_SCRIPT, len(script_keys), *script_keys, *script_args)
                else:
                    await self._script(keys=script_keys, args=script_args, client=pipe)
            results = await pipe.execute()
        accepted = sum(int(r) for r in results)
        return AppendResult(accepted=accepted, duplicates=len(events) - accepted)
