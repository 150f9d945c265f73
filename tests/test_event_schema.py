"""The msgspec fast path of ingest agrees with `parse_fields`, the schema's authority.

Whatever `monitor.event_schema` accepts must be accepted by `parse_fields` with the same fields,
and `ingest.batch.read_batch` must answer every body exactly as the slow path would: the same
wire events, or the same rejection naming the same lines and fields.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.batch import BatchRejected, read_batch, split_body, validate_batch
from monitor.event_parsing import EventError, parse_fields
from monitor.event_schema import encode_wire, everyday_events
from monitor.events import EventType, encode_fields
from tests.test_events import DOCUMENTED_EXAMPLES

SECRET = b"schema-test"
NOW_MS = 1_795_300_000_000

VALID_IDS = st.from_regex(r"\A[A-Za-z0-9_.:@\-]{1,12}\Z")
VALID_TS = st.one_of(st.integers(NOW_MS - 3_600_000, NOW_MS), st.just("2026-11-22T12:00:00+08:00"))
VALID_TEXT = st.text(min_size=1, max_size=20).filter(str.strip)
COUNT = st.integers(1, 1000)
AMOUNT = st.one_of(st.integers(0, 10_000), st.floats(0, 10_000, allow_nan=False))
SOME: dict[str, Any] = {
    "platform": st.sampled_from(["douyin", "tiktok", "wechat", "other"]),
    "user": st.text(max_size=20),
}
VALID_FIELDS: dict[str, dict[str, Any]] = {
    "join": {}, "leave": {}, "follow": {}, "share": {}, "session_end": {},
    "viewer_count": {"viewers": st.integers(0, 10**6), "total_viewers": st.integers(0, 10**7)},
    "comment": {"text": VALID_TEXT},
    "like": {"count": COUNT},
    "gift": {"gift": st.text(max_size=10), "count": COUNT, "value": AMOUNT},
    "product_click": {"product": VALID_IDS},
    "product_pin": {"product": VALID_IDS},
    "product_unpin": {"product": VALID_IDS},
    "add_to_cart": {"product": VALID_IDS, "qty": COUNT},
    "order": {"product": VALID_IDS, "amount": AMOUNT, "qty": COUNT, "currency": st.sampled_from(["CNY", "USD"]),
              "status": st.sampled_from(["placed", "paid", "cancelled", "refunded"]), "order_id": VALID_IDS},
    "stock": {"product": VALID_IDS, "stock": st.integers(0, 10**6)},
    "session_start": {"title": st.text(max_size=10), "host": st.text(max_size=10), "products": st.lists(st.one_of(
        VALID_IDS, st.fixed_dictionaries({"id": VALID_IDS}, optional={
            "name": st.text(max_size=5), "price": AMOUNT, "stock": st.integers(0, 100), "margin": AMOUNT})),
        max_size=4)},
}
REQUIRED = {"viewer_count": {"viewers"}, "comment": {"text"}, "order": {"product", "amount"},
            "stock": {"product", "stock"}, "product_click": {"product"}, "product_pin": {"product"},
            "product_unpin": {"product"}, "add_to_cart": {"product"}}


@st.composite
def valid_everyday_event(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(VALID_FIELDS)))
    fields = {**SOME, **VALID_FIELDS[kind]}
    chosen = {name for name in fields if name in REQUIRED.get(kind, set()) or draw(st.booleans())}
    return {"id": draw(VALID_IDS), "session": draw(VALID_IDS), "type": kind, "ts": draw(VALID_TS),
            **{name: draw(fields[name]) for name in sorted(chosen)}}


# Values at or beyond every rule's edge: each is tried in every field of every event type.
EDGES: list[Any] = [
    None, True, False, -1, 0, 1, 2.0, 1.5, -0.0, 1e8, 10_000_001, 2**53, 2**53 + 1, 2**63 - 1, NOW_MS + 10**9,
    "", " ", "\t\n", "a\n", "a b", "x" * 129, "x" * 257, "x" * 501, "多少钱", "CNY\n", "cny", "USD", "paid",
    "myspace", "douyin", "comment", "2026-11-22T12:00:00", "2026-11-22T12:00:00Z", "yesterday", ["a"], {"id": "a"},
    [], [None], [5], ["a\n"], [{"id": "a", "name": ""}], [{"id": "a", "colour": 1}], [{"id": "a", "stock": -1}],
    [{"name": "x"}], ["a"] * 501,
]
FIELD_NAMES = ["id", "session", "type", "ts", "platform", "user", "viewers", "total_viewers", "text", "count",
               "product", "qty", "amount", "currency", "status", "order_id", "stock", "gift", "value", "title",
               "host", "products", "colour"]
HOSTILE = st.sampled_from(EDGES)
ANY_FIELD = st.sampled_from(FIELD_NAMES)


def full_event(kind: str) -> dict[str, Any]:
    """A valid event of `kind` with every field its type reads."""
    fields = {"viewers": 10, "total_viewers": 20, "text": "多少钱", "count": 2, "gift": "rose", "value": 1.5,
              "product": "sku-1", "qty": 2, "amount": 59.9, "currency": "USD", "status": "placed",
              "order_id": "o-1", "stock": 5, "title": "Autumn sale", "host": "Lin",
              "products": ["sku-1", {"id": "sku-2", "name": "", "price": 0, "stock": 0, "margin": 0.2}]}
    return {"id": "e-1", "session": "room-1", "type": kind, "ts": NOW_MS, "platform": "douyin", "user": "v1",
            **{name: fields[name] for name in VALID_FIELDS[kind]}}


def check_fast_agrees(raw: dict[str, Any]) -> bool:
    """Fail when the fast path accepts `raw` but `parse_fields` refuses it or sets other fields; True if accepted."""
    decoded = everyday_events(orjson.dumps([raw]), ndjson=False)
    if decoded is None:
        return False
    try:
        expected = orjson.loads(encode_fields(parse_fields(raw)))
    except EventError as exc:
        pytest.fail(f"fast path accepted what parse_fields refuses: {raw!r}: {exc}")
    assert orjson.loads(encode_wire(decoded[0])) == expected, raw
    return True


@st.composite
def edgy_event(draw: st.DrawFn) -> dict[str, Any]:
    """A valid everyday event with a few fields added, replaced by an edge value, or removed."""
    event = draw(valid_everyday_event())
    for _ in range(draw(st.integers(0, 3))):
        name = draw(ANY_FIELD)
        change = draw(st.sampled_from(["set", "remove", "valid type"]))
        if change == "remove":
            event.pop(name, None)
        elif change == "valid type":
            event["type"] = draw(st.sampled_from([t.value for t in EventType]))
        else:
            event[name] = draw(HOSTILE)
    return event


def wire_dicts(events: list[Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(e.session, e.id, orjson.loads(e.wire)) for e in events]


def answer(read: Any) -> object:
    """What a producer sees: the wire events, or the rejection with every line and field it names."""
    try:
        return wire_dicts(read())
    except BatchRejected as exc:
        return ("rejected", exc.total_errors, [e.to_dict() for e in exc.errors])


@pytest.mark.parametrize("raw", DOCUMENTED_EXAMPLES, ids=lambda raw: str(raw["type"]))
def test_fast_path_takes_each_documented_type_with_the_same_fields(raw: dict[str, object]) -> None:
    decoded = everyday_events(orjson.dumps([raw]), ndjson=False)
    assert decoded is not None
    assert orjson.loads(encode_wire(decoded[0])) == orjson.loads(encode_fields(parse_fields(raw)))


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_everyday_event(), min_size=1, max_size=5))
def test_fast_path_takes_every_valid_everyday_batch(batch: list[dict[str, Any]]) -> None:
    assert everyday_events(orjson.dumps(batch), ndjson=False) is not None


@pytest.mark.parametrize("kind", sorted(VALID_FIELDS))
def test_fast_path_agrees_with_parse_fields_on_every_single_field_edge(kind: str) -> None:
    base = full_event(kind)
    accepted = 0
    for name in FIELD_NAMES:
        changed = [{k: v for k, v in base.items() if k != name}] + [{**base, name: value} for value in EDGES]
        accepted += sum(check_fast_agrees(raw) for raw in changed)
    assert accepted >= len(base)  # the fast path is taken, not just refusing everything to the slow path


@settings(max_examples=500, deadline=None)
@given(edgy_event())
def test_whatever_the_fast_path_accepts_parse_fields_accepts_with_the_same_fields(raw: dict[str, Any]) -> None:
    check_fast_agrees(raw)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(valid_everyday_event(), edgy_event()), min_size=1, max_size=6), st.booleans())
def test_read_batch_answers_every_body_as_the_slow_path(batch: list[dict[str, Any]], ndjson: bool) -> None:
    body = b"\n".join(orjson.dumps(e) for e in batch) if ndjson else orjson.dumps(batch)
    content_type = "application/x-ndjson" if ndjson else "application/json"
    assert answer(lambda: read_batch(body, content_type, SECRET)) == answer(
        lambda: validate_batch(split_body(body, content_type), SECRET))


@pytest.mark.parametrize("ids", [("a\nb", "s"), ("a", "s\n"), ("a b", "s"), ("", "s"), ("a", "x" * 129)])
def test_fast_path_refuses_identifiers_the_batch_pass_must_catch(ids: tuple[str, str]) -> None:
    raw = {"id": ids[0], "session": ids[1], "type": "join", "ts": NOW_MS}
    assert everyday_events(orjson.dumps([{**raw, "id": "ok", "session": "ok"}, raw]), ndjson=False) is None
