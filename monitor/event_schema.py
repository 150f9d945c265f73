"""Schema v1 as msgspec types: a batch of everyday events decoded and checked in C.

`monitor.event_parsing.parse_fields` is the schema's authority: it names the field and the
reason of every error. Decoding, checking and encoding a valid batch with it costs 7–8 µs per
event, about half of the web process's CPU per event; with these types it takes 2.6–2.8 µs, so
the ingest edge (`ingest.batch.read_batch`) tries them first and falls back to `parse_fields`
only when they refuse a batch.

The one rule that keeps the two in step: whatever these types accept, `parse_fields`
accepts with the same fields (tests/test_event_schema.py tries every edge value in every
field of every type). They may refuse more: identifiers given as numbers, fields another
event type reads and nulls for defaulted fields take the slow path, which accepts them.
Defaults are filled after decoding rather than declared, so that `omit_defaults` leaves out
exactly the fields `parse_fields` leaves out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated

import msgspec

from monitor.event_parsing import (
    CURRENCY_PATTERN,
    ID_CHARS,
    ID_PATTERN,
    MAX_AMOUNT,
    MAX_ID_CHARS,
    MAX_PLANNED_PRODUCTS,
    MAX_TEXT_CHARS,
    MAX_TS_MS,
    MIN_TS_MS,
    EventError,
    parse_timestamp,
)
from monitor.events import OrderStatus, Platform

Identifier = Annotated[str, msgspec.Meta(pattern=ID_PATTERN.pattern)]
# Every event's id and session: the characters are checked for the whole batch in one regex pass
# (`everyday_events`); a pattern per field costs msgspec ~0.8 µs each, most of its decoding time.
BatchCheckedIdentifier = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]
Count = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Amount = Annotated[float, msgspec.Meta(ge=0, le=MAX_AMOUNT)]
Quantity = Annotated[int, msgspec.Meta(ge=0, le=2**53)]
Currency = Annotated[str, msgspec.Meta(pattern=CURRENCY_PATTERN.pattern)]
_IDENTIFIER_LINES = re.compile(rf"(?:{ID_CHARS}{{1,{MAX_ID_CHARS}}}\n)*")  # ID_PATTERN, one per line


class WireEvent(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """Fields every event has; `everyday_events` settles `ts` to epoch ms and `platform`."""

    id: BatchCheckedIdentifier
    session: BatchCheckedIdentifier
    ts: int | float | str
    platform: Platform | None = None
    user: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class _ProductEvent(WireEvent, kw_only=True):
    product: Identifier


class Join(WireEvent, tag="join"):
    """A viewer entered."""


class Leave(WireEvent, tag="leave"):
    """A viewer left."""


class Follow(WireEvent, tag="follow"):
    """A viewer followed the host."""


class Share(WireEvent, tag="share"):
    """A viewer shared the room."""


class SessionEnd(WireEvent, tag="session_end"):
    """The broadcast ended."""


class ViewerCount(WireEvent, tag="viewer_count", kw_only=True):
    """The platform's own online count."""

    viewers: Quantity
    total_viewers: Quantity | None = None


class Comment(WireEvent, tag="comment", kw_only=True):
    """A comment; `everyday_events` refuses blank text."""

    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)]


class Like(WireEvent, tag="like", kw_only=True):
    """Likes, `count` at once."""

    count: Count | None = None

    def __post_init__(self) -> None:
        if self.count is None:
            self.count = 1


class Gift(WireEvent, tag="gift", kw_only=True):
    """A gift, `count` at once."""

    gift: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    count: Count | None = None
    value: Amount | None = None

    def __post_init__(self) -> None:
        if self.count is None:
            self.count = 1


class ProductClick(_ProductEvent, tag="product_click"):
    """A viewer opened a product."""


class ProductPin(_ProductEvent, tag="product_pin"):
    """The host pinned a product."""


class ProductUnpin(_ProductEvent, tag="product_unpin"):
    """The host unpinned a product."""


class AddToCart(_ProductEvent, tag="add_to_cart", kw_only=True):
    """`qty` of a product into a cart."""

    qty: Count | None = None

    def __post_init__(self) -> None:
        if self.qty is None:
            self.qty = 1


class Order(_ProductEvent, tag="order", kw_only=True):
    """An order or a change of its status; `order_id` defaults to the event id."""

    amount: Amount
    qty: Count | None = None
    currency: Currency | None = None
    status: OrderStatus | None = None
    order_id: Identifier | None = None

    def __post_init__(self) -> None:
        if self.qty is None:
            self.qty = 1
        if self.currency is None:
            self.currency = "CNY"
        if self.status is None:
            self.status = OrderStatus.PAID
        if self.order_id is None:
            self.order_id = self.id


class Stock(_ProductEvent, tag="stock", kw_only=True):
    """Stock left of a product."""

    stock: Quantity


class PlannedItem(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """A product of the run of show given as an object; "" for a name is left out, as `parse_fields` does."""

    id: Identifier
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    price: Amount | None = None
    stock: Quantity | None = None
    margin: Amount | None = None


class SessionStart(WireEvent, tag="session_start", kw_only=True):
    """The broadcast started; `products` is its run of show, ids or objects, written as objects."""

    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    host: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    products: Annotated[list[Identifier | PlannedItem], msgspec.Meta(max_length=MAX_PLANNED_PRODUCTS)] | None = None

    def __post_init__(self) -> None:
        if self.products is None:
            return
        items = [PlannedItem(id=item) if isinstance(item, str) else item for item in self.products]
        for item in items:
            if item.name == "":
                item.name = None
        self.products = list(items) or None  # an empty run of show is left out of the wire form


EVERYDAY_EVENT = (
    Join | Leave | Follow | Share | SessionEnd | ViewerCount | Comment | Like | Gift
    | ProductClick | ProductPin | ProductUnpin | AddToCart | Order | Stock | SessionStart
)

encode_wire = msgspec.json.Encoder().encode
"""The wire form of an event `everyday_events` returned: the set fields, as `encode_fields` writes them."""
_ARRAY = msgspec.json.Decoder(list[EVERYDAY_EVENT])
_LINE = msgspec.json.Decoder(EVERYDAY_EVENT)


def everyday_events(body: bytes, ndjson: bool) -> Sequence[WireEvent] | None:
    """Decode a JSON array (or NDJSON lines) of everyday events; None when any of it is refused.

    On success every event is valid schema v1 with `ts` in epoch milliseconds and `platform`
    set, as `parse_fields` would have it.
    """
    try:
        events: Sequence[WireEvent] = _LINE.decode_lines(body) if ndjson else _ARRAY.decode(body)
    except msgspec.MsgspecError:
        return None
    for event in events:
        ts = event.ts
        if type(ts) is not int or not MIN_TS_MS <= ts <= MAX_TS_MS:
            try:
                event.ts = parse_timestamp(ts)
            except EventError:
                return None
        if event.platform is None:
            event.platform = Platform.OTHER
        if type(event) is Comment and not event.text.strip():
            return None
    ids = "\n".join([event.id for event in events] + [event.session for event in events]) + "\n"
    if ids.count("\n") != 2 * len(events) or not _IDENTIFIER_LINES.fullmatch(ids):  # count: no id holds a "\n"
        return None
    return events
