"""Write a partition checkpoint and acknowledge the entries folded into it, atomically, in one Lua call.

The engine's exactly-once guarantee (docs/storage.md) rests on the checkpoint (`lm:ckpt:{pN}`:
state + last stream id) and the XACK of the entries behind it changing together. A Lua
script gives that on a single Redis and on Redis Cluster alike (all keys carry `{pN}`, so
they share a slot), and unlike MULTI it can also check the partition's lease first: an
engine that lost its lease (livemon/partition_leases.py) writes nothing, so it can never
overwrite the checkpoint of the partition's new owner.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from livemon import keys

XACK_CHUNK = 1000  # Lua's unpack() has a stack limit (about 8000 values); acknowledge in chunks

_CHECKPOINT = f"""
if #KEYS == 3 and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
for i = 4, #ARGV, {XACK_CHUNK} do
  redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, i, math.min(i + {XACK_CHUNK - 1}, #ARGV)))
end
return 1
"""


class CheckpointWriter:
    """Writes checkpoints with their XACK, optionally fenced by a lease."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._script = client.register_script(_CHECKPOINT)

    async def write(self, partition: int, payload: bytes, acked: Sequence[bytes | str], lease_owner: str | None) -> bool:
        """Store `payload` as the partition's checkpoint and XACK `acked`; False if the lease is not ours.

        `lease_owner=None` (static `--partitions` ownership) writes unconditionally.
        """
        script_keys = [keys.checkpoint_key(partition), keys.events_stream(partition)]
        if lease_owner is not None:
            script_keys.append(keys.lease_key(partition))
        args: list[bytes | str] = [payload, keys.ENGINE_GROUP, lease_owner or "", *acked]
        return bool(int(await self._script(keys=script_keys, args=args)))
