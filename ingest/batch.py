"""Turn an HTTP body (JSON array or NDJSON) into validated events, all or nothing.

Exceptions::

    ValueError
     ├── BatchRejected     one or more lines are invalid (each named with line and field)
     └── BatchTooLarge     more events than MAX_BATCH_EVENTS
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

import orjson

from ingest.pseudonym import pseudonymise
from monitor.event_parsing import EventError, parse_fields
from monitor.event_schema import encode_wire, everyday_events
from monitor.events import EncodedEvent, Platform, encode_fields

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BATCH_EVENTS = 5_000
MAX_REPORTED_ERRORS = 50
# Producers' clocks drift; an event further ahead than this is a bug (seconds sent as
# milliseconds, a wrong clock) and would drag its session's watermark into the future,
# making every honest event after it late.
MAX_FUTURE_S = 600


@dataclass(frozen=True, slots=True)
class LineError:
    """Why one line (1-based) of a batch was rejected."""

    line: int
    field: str
    message: str

    def to_dict(self) -> dict[str, object]:
        """JSON form used in 400 responses."""
        return {"line": self.line, "field": self.field, "error": self.message}


class BatchRejected(ValueError):
    """At least one event is invalid; nothing of the batch may be written."""

    def __init__(self, errors: list[LineError], total_errors: int) -> None:
        self.errors = errors
        self.total_errors = total_errors
        super().__init__(f"{total_errors} invalid event(s); first: line {errors[0].line}: {errors[0].message}")


class BatchTooLarge(ValueError):
    """The batch holds more events than allowed."""


def read_batch(body: bytes, content_type: str, pseudonym_secret: bytes) -> list[EncodedEvent]:
    """Decode and validate an HTTP body (JSON array, one object or NDJSON) into wire events, all or nothing.

    A batch of everyday events is decoded and checked by msgspec (`monitor.event_schema`);
    any other batch, and every invalid one, goes through `split_body` and `validate_batch`,
    which name each bad line and field. Raises as those two.
    """
    events = _everyday_batch(body, content_type, pseudonym_secret)
    if events is None:
        events = validate_batch(split_body(body, content_type), pseudonym_secret)
    return events


def _everyday_batch(body: bytes, content_type: str, pseudonym_secret: bytes) -> list[EncodedEvent] | None:
    """The batch's wire events when msgspec's schema v1 accepts every one, else None (take the slow path)."""
    stripped = body.strip()
    decoded = everyday_events(stripped, ndjson=stripped[:1] != b"[" or "ndjson" in content_type)
    if not decoded or len(decoded) > MAX_BATCH_EVENTS:
        return None
    latest_ms = int(time.time() * 1000) + MAX_FUTURE_S * 1000
    events = []
    for event in decoded:
        if cast(int, event.ts) > latest_ms:
            return None
        if event.user is not None:
            event.user = pseudonymise(pseudonym_secret, cast(Platform, event.platform).value, event.user)
        events.append(EncodedEvent(event.session, event.id, encode_wire(event)))
    return events


def split_body(body: bytes, content_type: str) -> list[object]:
    """Decode a JSON array, a single JSON object, or NDJSON into raw objects.

    Raises:
        BatchRejected: the body is not valid JSON / NDJSON.
    """
    stripped = body.strip()
    if not stripped:
        raise BatchRejected([LineError(1, "(body)", "expected a JSON array or NDJSON lines, got an empty body")], 1)
    if "ndjson" not in content_type and stripped[:1] in (b"[", b"{"):
        try:
            decoded = orjson.loads(stripped)
        except orjson.JSONDecodeError:
            if stripped[:1] == b"[":
                raise BatchRejected([LineError(1, "(body)", "expected a JSON array; the body is not valid JSON")], 1)
        else:
            return decoded if isinstance(decoded, list) else [decoded]
    items: list[object] = []
    errors: list[LineError] = []
    for number, line in enumerate(stripped.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            errors.append(LineError(number, "(line)", f"not valid JSON: {exc}"))
    if errors:
        raise BatchRejected(errors[:MAX_REPORTED_ERRORS], len(errors))
    return items


def validate_batch(items: Sequence[object], pseudonym_secret: bytes) -> list[EncodedEvent]:
    """Validate every item; pseudonymise viewer ids; refuse events more than MAX_FUTURE_S ahead of this clock.

    Returns the events in their wire form, ready for `ingest.writer.EventWriter.append`.

    Raises:
        BatchTooLarge: more than MAX_BATCH_EVENTS items.
        BatchRejected: listing every invalid line with its field and reason.
    """
    if len(items) > MAX_BATCH_EVENTS:
        raise BatchTooLarge(f"batch holds {len(items)} events; the limit is {MAX_BATCH_EVENTS} per request")
    events: list[EncodedEvent] = []
    errors: list[LineError] = []
    user_id = partial(pseudonymise, pseudonym_secret)
    now_ms = int(time.time() * 1000)
    latest_ms = now_ms + MAX_FUTURE_S * 1000
    for number, item in enumerate(items, start=1):
        try:
            values = parse_fields(item, user_id)
        except EventError as exc:
            errors.append(LineError(number, exc.field, str(exc)))
            continue
        if values["ts"] > latest_ms:
            errors.append(LineError(number, "ts", f"ts is {(values['ts'] - now_ms) // 1000} s ahead of the server "
                                                  f"clock; at most {MAX_FUTURE_S} s of clock skew is accepted"))
        elif not errors:  # once one line failed nothing is written: spend no time encoding the rest
            events.append(EncodedEvent(values["session"], values["id"], encode_fields(values)))
    if errors:
        raise BatchRejected(errors[:MAX_REPORTED_ERRORS], len(errors))
    return events
