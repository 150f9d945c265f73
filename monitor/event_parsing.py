"""Validate raw producer JSON into typed, immutable events (schema v1).

This is the boundary of the core: everything after `parse_event` trusts its input. The
limits below are the schema's; `monitor.events` holds the `Event` model and its wire form.

Exceptions::

    ValueError
     └── EventError            one bad field of one event (field, expected, got)
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from monitor.events import MEMBERS, Event, EventType, OrderStatus, PlannedProduct, Platform

MAX_TEXT_CHARS = 500
MAX_ID_CHARS = 128
MAX_PLANNED_PRODUCTS = 500
MAX_AMOUNT = 10_000_000.0
MIN_TS_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z

# Session, product, viewer and event ids everywhere (events, run of show, API paths).
ID_CHARS = r"[A-Za-z0-9_.:@\-]"
ID_PATTERN = re.compile(rf"^{ID_CHARS}{{1,{MAX_ID_CHARS}}}\Z")  # \Z: "$" would let a trailing newline through
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}\Z")


class EventError(ValueError):
    """One field of one event is wrong; the message names field, expectation and value."""

    def __init__(self, field_name: str, expected: str, got: object) -> None:
        self.field = field_name
        self.expected = expected
        self.got = got
        super().__init__(f"field '{field_name}': expected {expected}, got {_show(got)}")


class _Described(str):
    """A description of a value (e.g. "nothing", "501 characters"), shown without quotes."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


NOTHING = _Described("nothing")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- field checks


def _identifier(data: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, "an identifier (letters, digits, _ . : @ -, 1-128 chars)", NOTHING)
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise EventError(name, "an identifier (letters, digits, _ . : @ -, 1-128 chars)", value)
    return value


def _text(data: dict[str, Any], name: str, max_chars: int, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, f"a string of 1-{max_chars} characters", NOTHING)
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_chars:
        got: object = _Described(f"{len(value)} characters") if isinstance(value, str) and len(value) > max_chars else value
        raise EventError(name, f"a string of 1-{max_chars} characters", got)
    return value


def _integer(data: dict[str, Any], name: str, minimum: int, required: bool, default: int | None = None) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, f"an integer >= {minimum}", NOTHING)
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or value > 2**53:
        raise EventError(name, f"an integer >= {minimum}", value)
    return value


def _number(data: dict[str, Any], name: str, required: bool) -> float | None:
    value = data.get(name)
    if value is None:
        if required:
            raise EventError(name, f"a number between 0 and {MAX_AMOUNT:.0f}", NOTHING)
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_AMOUNT:
        raise EventError(name, f"a number between 0 and {MAX_AMOUNT:.0f}", value)
    return float(value)


def parse_timestamp(value: object) -> int:
    """Return epoch milliseconds from epoch-ms numbers or RFC 3339 strings with an offset."""
    if isinstance(value, bool):
        raise EventError("ts", "epoch milliseconds or an RFC 3339 time with offset", value)
    if isinstance(value, (int, float)):
        ms = int(value)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise EventError("ts", "epoch milliseconds or an RFC 3339 time with offset", value) from None
        if parsed.tzinfo is None:
            raise EventError("ts", "an RFC 3339 time with a UTC offset", value)
        ms = int(parsed.timestamp() * 1000)
    else:
        raise EventError("ts", "epoch milliseconds or an RFC 3339 time with offset", value)
    if not MIN_TS_MS <= ms <= MAX_TS_MS:
        raise EventError("ts", "a time between 2000 and 2100 in epoch milliseconds", value)
    return ms


def _enum(data: dict[str, Any], name: str, kind: type[enum.StrEnum], default: Any = None) -> Any:
    value = data.get(name)
    if value is None:
        if default is None:
            raise EventError(name, "one of " + ", ".join(m.value for m in kind), NOTHING)
        return default
    member = MEMBERS[kind].get(value) if isinstance(value, str) else None
    if member is None:
        raise EventError(name, "one of " + ", ".join(m.value for m in kind), value)
    return member


def _planned_products(data: dict[str, Any]) -> tuple[PlannedProduct, ...]:
    value = data.get("products")
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_PLANNED_PRODUCTS:
        raise EventError("products", f"a list of at most {MAX_PLANNED_PRODUCTS} products", value)
    out = []
    for index, item in enumerate(value):
        prefix = f"products[{index}]"
        if isinstance(item, str):
            item = {"id": item}
        if not isinstance(item, dict):
            raise EventError(prefix, "a product id or an object with 'id'", item)
        try:
            out.append(
                PlannedProduct(
                    id=_identifier(item, "id") or "",
                    name=_text(item, "name", 200, required=False) or "",
                    price=_number(item, "price", required=False),
                    stock=_integer(item, "stock", 0, required=False),
                    margin=_number(item, "margin", required=False),
                )
            )
        except EventError as exc:
            raise EventError(f"{prefix}.{exc.field}", exc.expected, exc.got) from None
    return tuple(out)


_PRODUCT_TYPES = {
    EventType.PRODUCT_CLICK,
    EventType.ADD_TO_CART,
    EventType.ORDER,
    EventType.PRODUCT_PIN,
    EventType.PRODUCT_UNPIN,
    EventType.STOCK,
}
KNOWN_FIELDS = frozenset(Event._fields)


def parse_event(data: object, user_id: Callable[[str, str], str] | None = None) -> Event:
    """Validate one raw event object.

    Args:
        data: the decoded JSON object.
        user_id: maps (platform, raw viewer id) to the id to keep; the ingest edge passes its
            keyed pseudonymiser here, so a raw viewer id never enters an `Event`.

    Raises:
        EventError: naming the first field that is missing or wrong.
    """
    return Event(**parse_fields(data, user_id))


def parse_fields(data: object, user_id: Callable[[str, str], str] | None = None) -> dict[str, Any]:
    """Validate one raw event object into the fields it sets: `Event`'s keyword arguments, none of them None.

    The ingest edge encodes these straight to the wire form (`monitor.events.encode_fields`):
    it only forwards events, and building an `Event` first would cost as much as the checks.
    Arguments and errors as `parse_event`.
    """
    if not isinstance(data, dict):
        raise EventError("(event)", "a JSON object", data)
    if not KNOWN_FIELDS.issuperset(data):
        unknown = set(data) - KNOWN_FIELDS
        first = min(unknown)
        raise EventError(first, "no such field in schema v1", data[first])
    kind = _enum(data, "type", EventType)
    if "ts" not in data:
        raise EventError("ts", "epoch milliseconds or an RFC 3339 time with offset", NOTHING)
    values: dict[str, Any] = {
        "id": _identifier(data, "id"),
        "session": _identifier(data, "session"),
        "type": kind,
        "ts": parse_timestamp(data["ts"]),
        "platform": _enum(data, "platform", Platform, Platform.OTHER),
        "user": _text(data, "user", 256, required=False),
    }
    if user_id is not None and values["user"] is not None:
        values["user"] = user_id(values["platform"].value, values["user"])
    if kind in _PRODUCT_TYPES:
        values["product"] = _identifier(data, "product")
    if kind is EventType.VIEWER_COUNT:
        values["viewers"] = _integer(data, "viewers", 0, required=True)
        values["total_viewers"] = _integer(data, "total_viewers", 0, required=False)
    elif kind is EventType.COMMENT:
        values["text"] = _text(data, "text", MAX_TEXT_CHARS, required=True)
    elif kind is EventType.LIKE:
        values["count"] = _integer(data, "count", 1, required=False, default=1)
    elif kind is EventType.ADD_TO_CART:
        values["qty"] = _integer(data, "qty", 1, required=False, default=1)
    elif kind is EventType.ORDER:
        values["qty"] = _integer(data, "qty", 1, required=False, default=1)
        values["amount"] = _number(data, "amount", required=True)
        currency = data.get("currency")
        if currency is None:  # null is absent, as for every other field
            currency = "CNY"
        if not isinstance(currency, str) or not CURRENCY_PATTERN.match(currency):
            raise EventError("currency", "an ISO 4217 code such as CNY or USD", currency)
        values["currency"] = currency
        values["status"] = _enum(data, "status", OrderStatus, OrderStatus.PAID)
        values["order_id"] = _identifier(data, "order_id", required=False) or values["id"]
    elif kind is EventType.STOCK:
        values["stock"] = _integer(data, "stock", 0, required=True)
    elif kind is EventType.GIFT:
        values["gift"] = _text(data, "gift", 100, required=False)
        values["count"] = _integer(data, "count", 1, required=False, default=1)
        values["value"] = _number(data, "value", required=False)
    elif kind is EventType.SESSION_START:
        values["title"] = _text(data, "title", 200, required=False)
        values["host"] = _text(data, "host", 100, required=False)
        values["products"] = _planned_products(data)
    return {name: value for name, value in values.items() if value is not None}
