"""Per-ingest-key rate limit: a token bucket in Redis, counted in events, shared by all web nodes.

One Lua call refills the bucket by elapsed time (Redis `TIME`, so web nodes' clocks do not
matter), then takes `cost` events or refuses. A refused call writes nothing, so a 429 leaves
Redis exactly as it was. The bucket key holds a digest of the ingest key, never the key.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import redis.asyncio as aioredis

from livemon import keys

_BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
if tokens < cost then
  return {0, tostring((cost - tokens) / rate)}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - cost), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {1, '0'}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a batch may pass, and if not, how long until it would."""

    allowed: bool
    retry_after_s: int


class RateLimiter:
    """Token bucket per ingest key: `rate` events/s, at most `burst` at once."""

    def __init__(self, client: aioredis.Redis, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._script = client.register_script(_BUCKET_SCRIPT)

    async def take(self, ingest_key: str, events: int) -> Decision:
        """Take `events` from the key's bucket, or say when to retry (whole seconds, at least 1)."""
        digest = hashlib.sha256(ingest_key.encode()).hexdigest()[:24]
        allowed, wait = await self._script(
            keys=[keys.rate_limit_key(digest)], args=[self.rate, self.burst, max(1, events)]
        )
        return Decision(bool(int(allowed)), 0 if int(allowed) else max(1, math.ceil(float(wait))))
