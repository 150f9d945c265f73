"""The event streams' entry format: one entry holds one session's events from one ingest call.

An entry's field `e` is the events' wire forms (`Event.to_wire`, compact JSON) joined by
a newline, in arrival order; a single event is the one-line case, so entries written one
event each (before this format, or by a tool that XADDs events itself) read the same way.
Compact JSON never holds a raw newline (JSON escapes every control character inside a
string), so the newline can only be the separator.

Why several events per entry: every entry costs Redis an XADD inside the writer's Lua, a
place in the consumer group's pending list, its share of the XREADGROUP reply and of the
XACK, and costs the engine a reply item to parse. A request of 2,000 events over 200 rooms
makes ~200 entries instead of 2,000. Why one session per entry: `livemon purge` deletes a
session's entries without touching another session's events, and a report reads a
session's entries whole.
"""

from __future__ import annotations

import orjson

SEPARATOR = b"\n"
MAX_EVENTS = 500  # per entry: keeps an entry (and the engine's read of a few thousand) bounded


def events_of(payload: bytes) -> list[bytes]:
    """The wire forms of an entry's events, in arrival order."""
    return payload.split(SEPARATOR)


def count_of(payload: bytes) -> int:
    """How many events an entry holds."""
    return payload.count(SEPARATOR) + 1


def session_marker(session: str) -> bytes:
    """What an entry of `session`'s events holds, and no other entry does: `"session":"<id>"`.

    A byte test with it needs no parsing, and it is exact: the quotes are unescaped, so it
    can only be the key itself (compact JSON escapes every quote inside a string value).
    Build it once per session and test each entry with `in`.
    """
    return b'"session":' + orjson.dumps(session)


def join(wires: list[bytes]) -> bytes:
    """One entry's payload for one session's events (what the writer's Lua builds with `table.concat`)."""
    return SEPARATOR.join(wires)
