"""Replies of the tests' synchronous Redis clients with their exact types, stated once.

The synchronous twin of livemon/redis_replies.py. redis-py annotates each reply for every
client configuration at once (`bytes | str` for any string, `None` where a parser could in
principle return it); the tests' clients (`redis_client` in tests/conftest.py, the
RedisCluster of tests/test_cluster.py) never set `decode_responses` and keep the default
protocol, so every key, field, value and stream id is `bytes` and a stream entry is
`(id, {field: value})`. Each function issues one command and casts its reply to that type,
so tests index and `.decode()` without unions or ignores.
"""

from __future__ import annotations

from typing import cast

import redis
from redis.cluster import RedisCluster

from livemon import keys
from livemon.redis_replies import Entries
from monitor import wire_entries

Client = redis.Redis | RedisCluster


def xrange(client: Client, stream: str, start: str = "-", end: str = "+") -> Entries:
    """XRANGE from `start` to `end` ("-"/"+": the ends; "(" before an id excludes it); [] for no stream."""
    return cast(Entries, client.xrange(stream, min=start, max=end))


def stream_events(client: Client, *streams: str) -> list[bytes]:
    """Every event's wire form in `streams` (default: the 8 partitions' event streams), entries split, in order."""
    field = keys.EVENT_FIELD.encode()
    return [wire for stream in streams or [keys.events_stream(p) for p in range(8)]
            for _, fields in xrange(client, stream) for wire in wire_entries.events_of(fields[field])]


def xrevrange(client: Client, stream: str, *, count: int) -> Entries:
    """XREVRANGE: the stream's last `count` entries, newest first."""
    return cast(Entries, client.xrevrange(stream, count=count))


def get(client: Client, key: str) -> bytes | None:
    """GET: the value, None when the key does not exist."""
    return cast(bytes | None, client.get(key))


def hget(client: Client, key: str, field: str) -> bytes | None:
    """HGET: the field's value, None when the key or field does not exist."""
    return cast(bytes | None, client.hget(key, field))


def hgetall(client: Client, key: str) -> dict[bytes, bytes]:
    """HGETALL: the hash's fields and values ({} when the key does not exist)."""
    return cast(dict[bytes, bytes], client.hgetall(key))


def hkeys(client: Client, key: str) -> list[bytes]:
    """HKEYS: the hash's fields ([] when the key does not exist)."""
    return cast(list[bytes], client.hkeys(key))
