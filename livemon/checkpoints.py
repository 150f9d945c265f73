"""Write a partition checkpoint and acknowledge the entries folded into it, atomically, in one Lua call.

The engine's exactly-once guarantee (docs/storage.md) rests on the checkpoint (`lm:ckpt:{pN}`:
state + last stream id; `lm:ckpt:{pN}:ids`: the minutes of remembered event ids it names)
and the XACK of the entries behind it changing together. A Lua
script gives that on a single Redis and on Redis Cluster alike (all keys carry `{pN}`, so
they share a slot), and unlike MULTI it can also check the partition's lease first: an
engine that lost its lease (livemon/partition_leases.py) writes nothing, so it can never
overwrite the checkpoint of the partition's new owner.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import redis.asyncio as aioredis

from livemon import keys

CHUNK = 1000  # Lua's unpack() has a stack limit (about 8000 values): HSET, HDEL and XACK in chunks (even)

# KEYS: checkpoint, stream, ids hash[, lease]; ARGV: payload, group, lease owner, number of
# changed id minutes, number of dropped ones, then field/value pairs, dropped fields, entry ids
_CHECKPOINT = f"""
if #KEYS == 4 and redis.call('GET', KEYS[4]) ~= ARGV[3] then
  return 0
end
local first_drop = 6 + 2 * tonumber(ARGV[4])
local first_ack = first_drop + tonumber(ARGV[5])
for i = 6, first_drop - 1, {CHUNK} do
  redis.call('HSET', KEYS[3], unpack(ARGV, i, math.min(i + {CHUNK - 1}, first_drop - 1)))
end
for i = first_drop, first_ack - 1, {CHUNK} do
  redis.call('HDEL', KEYS[3], unpack(ARGV, i, math.min(i + {CHUNK - 1}, first_ack - 1)))
end
redis.call('SET', KEYS[1], ARGV[1])
for i = first_ack, #ARGV, {CHUNK} do
  redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, i, math.min(i + {CHUNK - 1}, #ARGV)))
end
return 1
"""


class CheckpointWriter:
    """Writes checkpoints with their XACK, optionally fenced by a lease."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._script = client.register_script(_CHECKPOINT)

    async def write(self, partition: int, payload: bytes, acked: Sequence[bytes | str], lease_owner: str | None,
                    changed_ids: Mapping[str, str], dropped_ids: Collection[str]) -> bool:
        """Store `payload` as the partition's checkpoint and XACK `acked`; False if the lease is not ours.

        `changed_ids` (`monitor.engine.Checkpoint.changed_ids`) are stored beside it and
        `dropped_ids`, minutes it no longer names, removed. `lease_owner=None` (static
        `--partitions` ownership) writes unconditionally.
        """
        script_keys = [keys.checkpoint_key(partition), keys.events_stream(partition), keys.checkpoint_ids_key(partition)]
        if lease_owner is not None:
            script_keys.append(keys.lease_key(partition))
        pairs = [part for item in changed_ids.items() for part in item]
        args: list[bytes | str] = [payload, keys.ENGINE_GROUP, lease_owner or "", str(len(changed_ids)),
                                   str(len(dropped_ids)), *pairs, *dropped_ids, *acked]
        return bool(int(await self._script(keys=script_keys, args=args)))
