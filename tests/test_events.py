"""Event schema v1: what is accepted, what is refused, and how refusals read."""

from __future__ import annotations

import pytest

from monitor.event_parsing import MAX_TEXT_CHARS, EventError, parse_event, parse_fields
from monitor.events import Event, EventType, OrderStatus, encode_fields
from tests.events_factory import raw_event

DOCUMENTED_EXAMPLES = [
    raw_event("join", user="viewer-1"),
    raw_event("leave", user="viewer-1"),
    raw_event("viewer_count", viewers=120, total_viewers=4000),
    raw_event("comment", user="viewer-1", text="3号链接多少钱"),
    raw_event("like", count=15),
    raw_event("product_click", product="sku-1"),
    raw_event("add_to_cart", product="sku-1", qty=2),
    raw_event("order", product="sku-1", qty=1, amount=59.9, currency="CNY", status="placed"),
    raw_event("product_pin", product="sku-1"),
    raw_event("product_unpin", product="sku-1"),
    raw_event("stock", product="sku-1", stock=12),
    raw_event("gift", gift="rose", count=3, value=0.3),
    raw_event("follow"),
    raw_event("share"),
    raw_event("session_start", title="Autumn sale", host="Lin", products=[{"id": "sku-1", "price": 59.9}]),
    raw_event("session_end"),
]


def test_parse_event_accepts_each_type_documented() -> None:
    assert {parse_event(e).type for e in DOCUMENTED_EXAMPLES} == set(EventType)


def test_parse_event_reads_rfc3339_time_with_offset() -> None:
    event = parse_event(raw_event("follow", ts="2026-11-22T12:00:00+08:00"))
    assert event.ts == 1795320000000


@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"ts": "yesterday"}, "ts", "RFC 3339"),
        ({"ts": "2026-11-22T12:00:00"}, "ts", "UTC offset"),
        ({"type": "dance"}, "type", "one of join"),
        ({"type": ["join"]}, "type", "one of join"),  # unhashable: still a field error, not a TypeError
        ({"type": 3}, "type", "one of join"),
        ({"type": "order", "product": "p", "amount": 1, "status": {"paid": 1}}, "status", "one of placed"),
        ({"session": "bad session!"}, "session", "identifier"),
        ({"session": "room-1\n"}, "session", "identifier"),  # a trailing newline would end up in Redis keys
        ({"type": "order", "product": "p", "amount": 1, "currency": "CNY\n"}, "currency", "ISO 4217"),
        ({"platform": "myspace"}, "platform", "douyin"),
        ({"colour": "red"}, "colour", "no such field"),
    ],
)
def test_parse_event_names_field_expectation_and_value(change: dict[str, object], field: str, fragment: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event({**raw_event("follow"), **change})
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert f"field '{field}'" in str(caught.value)


def test_parse_event_refuses_negative_amount_and_long_text() -> None:
    with pytest.raises(EventError, match="field 'amount': expected a number between 0"):
        parse_event(raw_event("order", product="p", amount=-3))
    with pytest.raises(EventError, match=f"1-{MAX_TEXT_CHARS} characters, got {MAX_TEXT_CHARS + 1} characters"):
        parse_event(raw_event("comment", text="x" * (MAX_TEXT_CHARS + 1)))


def test_parse_event_defaults_order_to_paid_and_links_order_id() -> None:
    event = parse_event(raw_event("order", product="p", amount=10))
    assert event.status is OrderStatus.PAID
    assert event.order_id == event.id
    assert event.currency == "CNY"


def test_event_wire_round_trip_is_lossless() -> None:
    event = parse_event(raw_event("session_start", title="t", products=["a", {"id": "b", "price": 3, "stock": 2}]))
    assert Event.from_wire(event.to_wire()) == event


@pytest.mark.parametrize("raw", [*DOCUMENTED_EXAMPLES, raw_event("session_start", products=[]),
                                 raw_event("order", product="p", amount=1, order_id="o-1", status="refunded")],
                         ids=lambda raw: str(raw["type"]))
def test_event_encoded_from_fields_reads_back_as_the_parsed_event(raw: dict[str, object]) -> None:
    # the ingest edge encodes validated fields without building the Event the engine will read
    assert Event.from_wire(encode_fields(parse_fields(raw))) == parse_event(raw)
