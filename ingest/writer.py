"""Append validated events to the partitioned event streams, de-duplicated by event id.

One Lua call per partition does "SET NX EX marker, then XADD" for every event of that
partition, so a marker never exists without its event. A retried request is therefore
idempotent: events already written count as duplicates the second time. All keys of one
call share the partition's hash tag `{pN}`, so on Redis Cluster each call runs in one slot.

Memory: a batch's encoded events are held until Redis answers; `monitor.events.encode_fields`
returns each at its own size (orjson's buffer of at least 4 KiB per `dumps` would otherwise
make a 5,000-event batch hold about 20 MiB instead of under 1 MiB).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from livemon import keys
from livemon.redis_client import is_cluster
from monitor.events import EncodedEvent

_APPEND_SCRIPT = """
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 1])
    added = added + 1
  end
end
return added
"""


@dataclass(frozen=True, slots=True)
class AppendResult:
    """How many events were new and how many were already known."""

    accepted: int
    duplicates: int


class EventWriter:
    """Writes event batches; one instance per process, shared by all requests."""

    def __init__(self, client: aioredis.Redis, partitions: int, dedup_ttl_s: int, stream_maxlen: int) -> None:
        self.client = client
        self.partitions = partitions
        self.dedup_ttl_s = dedup_ttl_s
        self.stream_maxlen = stream_maxlen
        self._script = client.register_script(_APPEND_SCRIPT)
        self.cluster = is_cluster(client)

    async def append(self, events: Sequence[EncodedEvent]) -> AppendResult:
        """Append events (`ingest.batch.validate_batch`, `Event.encoded`), grouped per partition, in one round trip."""
        groups: dict[int, list[EncodedEvent]] = defaultdict(list)
        for event in events:
            groups[keys.partition_of(event.session, self.partitions)].append(event)
        async with self.client.pipeline(transaction=False) as pipe:
            for partition, group in groups.items():
                script_keys = [keys.events_stream(partition)] + [keys.dedup_key(partition, e.session, e.id)
                                                                 for e in group]
                script_args = [self.dedup_ttl_s, self.stream_maxlen] + [e.wire for e in group]
                if self.cluster:  # redis-py's cluster pipeline refuses EVALSHA; EVAL is cached by Redis as well
                    pipe.eval(_APPEND_SCRIPT, len(script_keys), *script_keys, *script_args)
                else:
                    await self._script(keys=script_keys, args=script_args, client=pipe)
            results = await pipe.execute()
        accepted = sum(int(r) for r in results)
        return AppendResult(accepted=accepted, duplicates=len(events) - accepted)
