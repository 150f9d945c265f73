"""Stream ids and the command streams the web writes for the engines.

Responder commands (`lm:alerts:cmd`), host choices (`lm:suggest:cmd`) and answered
questions (`lm:answers:cmd`) share one shape: the web appends a JSON payload under one
field; every partition's stage remembers the id of the last command it applied, and each
tick reads what is newer than the oldest such position.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}\Z")


def stream_order(stream_id: str) -> tuple[int, int]:
    """Order stream ids numerically ("1700000000000-3" -> (1700000000000, 3))."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def is_stream_id(raw: object) -> bool:
    """Whether `raw` looks like a Redis stream id ("1700000000000-0")."""
    return isinstance(raw, str) and bool(_STREAM_ID.match(raw))


async def read_commands_since(
    client: Any, stream: str, field: str, positions: Iterable[str], count: int, malformed: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """Read commands newer than the oldest of `positions`; an unreadable entry becomes `malformed`.

    Malformed entries are still returned, so stages advance past them instead of re-reading them.
    """
    known = list(positions)
    if not known:
        return []
    oldest = min(known, key=stream_order)
    entries = await client.xrange(stream, min="(" + oldest, max="+", count=count)
    out = []
    for raw_id, fields in entries:
        try:
            out.append((raw_id.decode(), orjson.loads(fields[field.encode()])))
        except (KeyError, orjson.JSONDecodeError):
            out.append((raw_id.decode(), dict(malformed)))
    return out
