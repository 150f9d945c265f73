"""Redis replies with the exact types livemon's clients get, stated once.

redis-py annotates each reply for every client configuration at once: `bytes | str` for
any string (decode_responses), the RESP2 list and RESP3 dict shapes of XREAD, `None`
where a parser could in principle return it. livemon's clients are made by
`livemon.redis_client.connect`, which never sets `decode_responses` and keeps redis-py's
default protocol and legacy reply shapes, so what comes back is narrower:

* every key, field, member, stream id and value is `bytes`;
* XREAD and XREADGROUP answer `[[stream, entries], ...]`, or `[]` when BLOCK timed out;
* an entry is `(id, {field: value})`; an entry trimmed away while pending has fields `{}`.

Each function below issues one command and casts its reply to that type (the one place
where the claim is made; tests/test_redis_replies.py checks it on a real server), so
callers index and `.decode()` without unions or ignores.

The engine's blocking reader is the exception (`field_reader`): its XREADGROUP replies skip
redis-py's dict per entry and keep one field's value per entry, `(id, value or None)`.
"""

from __future__ import annotations

from functools import partial
from typing import cast

import redis.asyncio as aioredis

Entry = tuple[bytes, dict[bytes, bytes]]
Entries = list[Entry]
# RESP2 sends each [stream, entries] pair as a two-item list; typed as a pair for unpacking.
_StreamReplies = list[tuple[bytes, Entries]]
# (stream id, the value of one field; None when the entry was trimmed or deleted while pending, or lacks the field)
FieldEntry = tuple[bytes, bytes | None]
FieldEntries = list[FieldEntry]
_RawStreams = list[tuple[bytes, list[tuple[bytes, list[bytes] | None]]]]  # [stream, [[id, [field, value, ...]]]]


def _first_stream(reply: object) -> Entries:
    """The entries of a one-stream XREAD/XREADGROUP reply; [] when nothing arrived."""
    streams = cast(_StreamReplies, reply)
    return streams[0][1] if streams else []


async def xread(client: aioredis.Redis, stream: str, after: str, *, count: int, block: int) -> Entries:
    """XREAD one stream: entries after the id `after` ("$": only new ones), waiting up to `block` ms."""
    return _first_stream(await client.xread({stream: after}, count=count, block=block))


async def xreadgroup(client: aioredis.Redis, group: str, consumer: str, stream: str, after: str, *,
                     count: int, block: int | None = None) -> Entries:
    """XREADGROUP one stream: ">" for new entries, an id for this consumer's pending ones after it."""
    return _first_stream(await client.xreadgroup(group, consumer, {stream: after}, count=count, block=block))


async def xrange(client: aioredis.Redis, stream: str, start: str, end: str, *, count: int) -> Entries:
    """XRANGE from `start` to `end` ("-"/"+": the ends; "(" before an id excludes it), at most `count` entries."""
    return cast(Entries, await client.xrange(stream, min=start, max=end, count=count))


async def xautoclaim(client: aioredis.Redis, stream: str, group: str, consumer: str, *, min_idle_ms: int,
                     start_id: str, count: int) -> tuple[str, Entries]:
    """XAUTOCLAIM: the cursor to continue from ("0-0" when the scan is complete) and the claimed entries.

    Redis 7 appends the ids of entries deleted while pending (dropped from the pending list); unused here.
    """
    reply = await client.xautoclaim(stream, group, consumer, min_idle_time=min_idle_ms, start_id=start_id,
                                    count=count)
    return cast(bytes, reply[0]).decode(), cast(Entries, reply[1])


async def hgetall(client: aioredis.Redis, key: str) -> dict[bytes, bytes]:
    """HGETALL: the hash's fields and values ({} when the key does not exist)."""
    return cast(dict[bytes, bytes], await client.hgetall(key))


async def smembers(client: aioredis.Redis, key: str) -> set[bytes]:
    """SMEMBERS: the set's members (empty when the key does not exist)."""
    return cast(set[bytes], await client.smembers(key))


def field_reader(client: aioredis.Redis, field: bytes) -> aioredis.Redis:
    """Make every XREADGROUP on `client` answer `[(stream, [(id, value of field or None), ...]), ...]`.

    redis-py turns each entry's field list into a dict (`pairs_to_dict`) that the engine then
    only asks for its one field: at 20,000 events/s that was about 5 % of the engine's CPU.
    This installs a reply callback (redis-py's `set_response_callback`) that reads the value
    straight from the field list instead. It is for a client that sends XREADGROUP for
    nothing else (the engine's blocking reader); read through `xreadgroup_field`.
    """
    client.set_response_callback("XREADGROUP", partial(_field_replies, field))
    return client


def _field_replies(field: bytes, response: object, **_options: object) -> list[tuple[bytes, FieldEntries]]:
    """Parse a raw XREADGROUP reply: a RESP3 map or RESP2 list of [stream, entries], or nothing (BLOCK timed out)."""
    if not response:
        return []
    streams = response.items() if isinstance(response, dict) else cast(_RawStreams, response)
    return [(stream, [(entry_id, _value(fields, field)) for entry_id, fields in entries]) for stream, entries in streams]


def _value(fields: list[bytes] | None, field: bytes) -> bytes | None:
    """The value of `field` in a flat [field, value, ...] list; livemon's entries hold one field, so check it first."""
    if not fields:  # None: deleted while pending
        return None
    if fields[0] == field:
        return fields[1]
    for i in range(2, len(fields) - 1, 2):
        if fields[i] == field:
            return fields[i + 1]
    return None


async def xreadgroup_field(client: aioredis.Redis, group: str, consumer: str, stream: str, after: str, *,
                           count: int, block: int | None = None) -> FieldEntries:
    """XREADGROUP one stream on a `field_reader` client: `(id, value)` per entry, `[]` when nothing arrived."""
    reply = cast(list[tuple[bytes, FieldEntries]],
                 await client.xreadgroup(group, consumer, {stream: after}, count=count, block=block))
    return reply[0][1] if reply else []
