"""Partition ownership for N engine processes: leases in Redis, renewed every tick, balanced to about P/N each.

Each engine process is one *instance* (`<engine name>#<random>`, unique even if two processes
share LIVEMON_ENGINE_NAME). It owns a partition while it holds `lm:lease:{pN}`:

* claim   `SET lm:lease:{pN} <instance> NX PX <ttl>` (or extend it, if it is already ours);
* renew   every tick, only if the value is still ours (compare-and-PEXPIRE in Lua);
* release on shutdown or when over its fair share: the engine checkpoints first, then
          compare-and-DEL, so the next owner starts from an up-to-date checkpoint at once;
* fence   the checkpoint itself is one Lua call that checks the lease before SET + XACK
          (livemon/engine_runner.py), so an engine that lost its lease can never overwrite
          the checkpoint of the partition's new owner.

Balance: every instance writes a heartbeat into `lm:engines`; instances seen within one lease
TTL are live. Sorted by instance id, instance i of n is entitled to `P // n` partitions plus
one if `i < P % n`. An instance over its share releases the excess; one under it claims free
partitions. A dead instance stops renewing, its leases expire after the TTL and the survivors'
shares grow, so its partitions are taken over within TTL + one tick.

Read safety: an engine only starts a blocking XREADGROUP on a partition while its lease is
valid for longer than the read can block (`readable`), so a stalled engine cannot be handed
entries after its successor has claimed the partition's pending list. Lease validity is
measured from just before the renewal was sent, on the local monotonic clock. Heartbeats
use wall time: engines on different machines need clocks in step (NTP) to within about a
second.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from livemon import keys, redis_replies

log = logging.getLogger(__name__)

READ_MARGIN_S = 0.5  # a read must end this long before the lease could lapse
HEARTBEAT_FORGET_AFTER_TTLS = 10  # stale heartbeats are removed after this many TTLs

_CLAIM = """
local owner = redis.call('GET', KEYS[1])
if owner == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def fair_share(partitions: int, instances: list[str], me: str) -> int:
    """How many partitions `me` should own when `instances` (including `me`) share `partitions`.

    >>> [fair_share(10, ["a", "b", "c"], x) for x in "abc"]
    [4, 3, 3]
    """
    ordered = sorted(set(instances) | {me})
    index, count = ordered.index(me), len(ordered)
    return partitions // count + (1 if index < partitions % count else 0)


@dataclass(frozen=True, slots=True)
class Plan:
    """What an instance should do this tick to move towards its fair share."""

    claim: tuple[int, ...]
    release: tuple[int, ...]


def plan(partitions: int, share: int, owned: set[int], free: set[int], offset: int = 0) -> Plan:
    """Choose partitions to claim (from `free`) or release (from `owned`) to reach `share`.

    Claims scan from `offset` so that instances starting together do not all race for
    partition 0; releases give up the highest-numbered partitions first.
    """
    if len(owned) > share:
        return Plan((), tuple(sorted(owned, reverse=True)[: len(owned) - share]))
    wanted = share - len(owned)
    order = [(offset + i) % partitions for i in range(partitions)]
    return Plan(tuple(p for p in order if p in free and p not in owned)[:wanted], ())


class PartitionLeases:
    """The leases one engine instance holds, and the Redis calls that claim, renew and release them."""

    def __init__(self, client: aioredis.Redis, name: str, partitions: int, ttl_s: float) -> None:
        self.client = client
        self.name = name
        self.instance = f"{name}#{secrets.token_hex(4)}"
        self.partitions = partitions
        self.ttl_s = ttl_s
        self.valid_until: dict[int, float] = {}  # partition -> local monotonic time the lease surely holds until
        self._claim = client.register_script(_CLAIM)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def ttl_ms(self) -> int:
        """The lease TTL in milliseconds, as PX wants it."""
        return max(1, int(self.ttl_s * 1000))

    @property
    def owned(self) -> set[int]:
        """Partitions this instance holds a lease on."""
        return set(self.valid_until)

    def readable(self, partition: int, block_s: float, now: float | None = None) -> bool:
        """Whether a read blocking up to `block_s` would end while the lease surely holds."""
        now = time.monotonic() if now is None else now
        return self.valid_until.get(partition, 0.0) - now > block_s + READ_MARGIN_S

    async def claim(self, partition: int) -> bool:
        """Take the partition's lease if it is free (or extend it if it is ours)."""
        sent = time.monotonic()
        if int(await self._claim(keys=[keys.lease_key(partition)], args=[self.instance, self.ttl_ms])):
            self.valid_until[partition] = sent + self.ttl_s
            return True
        return False

    async def renew(self) -> set[int]:
        """Extend every held lease; return the partitions whose lease was lost (expired and taken)."""
        lost: set[int] = set()
        for partition in sorted(self.valid_until):
            sent = time.monotonic()
            if int(await self._renew(keys=[keys.lease_key(partition)], args=[self.instance, self.ttl_ms])):
                self.valid_until[partition] = sent + self.ttl_s
            else:
                lost.add(partition)
                del self.valid_until[partition]
        return lost

    async def release(self, partition: int) -> None:
        """Give a lease back (only if it is still ours), so a successor can claim it at once."""
        self.valid_until.pop(partition, None)
        await self._release(keys=[keys.lease_key(partition)], args=[self.instance])

    def forget(self, partition: int) -> None:
        """Stop treating a partition as ours without touching Redis (its lease was lost)."""
        self.valid_until.pop(partition, None)

    async def heartbeat(self, now: float) -> list[str]:
        """Announce this instance and return the live instances (seen within one TTL), itself included."""
        beat = {"at": now, "name": self.name, "partitions": sorted(self.valid_until)}
        await self.client.hset(keys.ENGINES, self.instance, orjson.dumps(beat))
        live, stale = [self.instance], []
        for raw_instance, raw in (await redis_replies.hgetall(self.client, keys.ENGINES)).items():
            instance = raw_instance.decode()
            if instance == self.instance:
                continue
            age = now - float(orjson.loads(raw)["at"])
            if age <= self.ttl_s:
                live.append(instance)
            elif age > HEARTBEAT_FORGET_AFTER_TTLS * self.ttl_s:
                stale.append(instance)
        if stale:
            await self.client.hdel(keys.ENGINES, *stale)
        return live

    async def leave(self) -> None:
        """Remove this instance's heartbeat, so the others' shares grow at their next tick."""
        await self.client.hdel(keys.ENGINES, self.instance)

    async def free_partitions(self) -> set[int]:
        """Partitions nobody holds a lease on (one EXISTS per lease key, pipelined; each is its own slot)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for partition in range(self.partitions):
                pipe.exists(keys.lease_key(partition))
            held = await pipe.execute()
        return {p for p, exists in enumerate(held) if not exists}

    async def plan(self, now: float) -> Plan:
        """Heartbeat, then decide what to claim or release to reach this instance's fair share."""
        live = await self.heartbeat(now)
        share = fair_share(self.partitions, live, self.instance)
        owned = self.owned
        free = await self.free_partitions() if len(owned) < share else set()
        offset = sorted(live).index(self.instance) * self.partitions // max(1, len(live))
        return plan(self.partitions, share, owned, free, offset)
