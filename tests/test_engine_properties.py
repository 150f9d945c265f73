"""Property tests: for random streams with disorder within the lateness, duplicates and
late events, every metric equals a brute-force recomputation from the unique events.

The oracle is deliberately naive (lists, sorting, no windows state): it re-derives each
figure from the definitions in docs/metrics.md. The wall clock passed to `tick` is held
constant so the watermark is purely data-driven (newest event − lateness); the idle
advance is covered by manual-clock tests in test_engine.py.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor import wire_entries
from monitor.bins import BIN_SECONDS
from monitor.engine import Engine, EngineConfig
from monitor.events import Event, EventType, OrderStatus

T0 = 1_700_000_000_000
LATENESS_MS = 5_000
NOW = 1_000.0  # constant wall clock: no idle advance
CONFIG = EngineConfig(lateness_s=5, idle_timeout_s=30, dwell_window_s=120, trend_window_s=60)
USERS = [f"u{i}" for i in range(8)]
PRODUCTS = ["p1", "p2", "p3"]
# What makes a viewer active (present), in the brute force as docs/metrics.md defines it.
ACTIVITY = frozenset({
    EventType.JOIN, EventType.COMMENT, EventType.LIKE, EventType.SHARE, EventType.FOLLOW,
    EventType.PRODUCT_CLICK, EventType.ADD_TO_CART,
})
KINDS = ["comment", "like", "join", "leave", "product_click", "add_to_cart", "order", "viewer_count", "share", "follow"]


@dataclass(frozen=True)
class Arrival:
    """One delivery: the event, when it arrives (ms key) and whether a tick follows."""

    event: Event
    key: int


@st.composite
def streams(draw: st.DrawFn, late: bool = True) -> tuple[list[list[Event]], list[Event]]:
    """Return (batches in arrival order, unique events) for one or two sessions."""
    n = draw(st.integers(1, 120))
    events = []
    for i in range(n):
        kind = EventType(draw(st.sampled_from(KINDS)))
        values: dict[str, Any] = {
            "id": f"e{i}",
            "session": draw(st.sampled_from(["s1", "s2"])),
            "type": kind,
            "ts": T0 + draw(st.integers(0, 400_000)),
            "user": draw(st.sampled_from(USERS)),
        }
        if kind in (EventType.PRODUCT_CLICK, EventType.ADD_TO_CART):
            values["product"] = draw(st.sampled_from(PRODUCTS))
        if kind is EventType.LIKE:
            values["count"] = draw(st.integers(1, 5))
        if kind is EventType.COMMENT:
            values["text"] = f"c{i}"
        if kind is EventType.VIEWER_COUNT:
            values["viewers"] = draw(st.integers(0, 500))
        if kind is EventType.ORDER:
            values["status"] = draw(st.sampled_from(list(OrderStatus)))
            number = draw(st.integers(0, 15))
            values["order_id"] = f"o{number}"
            values["product"] = PRODUCTS[number % len(PRODUCTS)]  # an order is for one product
            values["amount"] = float(draw(st.integers(1, 300)))
            values["qty"] = 1
        events.append(Event(**values))
    arrivals = [Arrival(e, e.ts + draw(st.integers(0, LATENESS_MS - 1))) for e in events]
    for e in draw(st.lists(st.sampled_from(events), max_size=20)):  # duplicates, any delay
        arrivals.append(Arrival(e, e.ts + draw(st.integers(0, 60_000))))
    if late:
        for e in draw(st.lists(st.sampled_from(events), max_size=8, unique_by=lambda x: x.id)):
            arrivals = [a for a in arrivals if a.event.id != e.id]
            arrivals.append(Arrival(e, e.ts + draw(st.integers(20_000, 90_000))))  # far behind the watermark
    ancient = []  # older than the rings reach (product ~330 s, 1-s ~34 min), in a last batch of their own
    for k in range(draw(st.integers(0, 3)) if late else 0):
        ancient.append(events[k % n]._replace(id=f"old{k}", ts=T0 - draw(st.integers(300_000, 2_500_000))))
    events += ancient
    arrivals.sort(key=lambda a: a.key)
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(arrivals) - 1)), max_size=12)))
    batches, start = [], 0
    for cut in cuts + [len(arrivals)]:
        if cut > start:
            batches.append([a.event for a in arrivals[start:cut]])
            start = cut
    if ancient:
        batches.append(ancient)
    return batches, events


class Oracle:
    """Brute force: replays deliveries, tracks only which bins are closed, then recounts."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, str], Event] = {}
        self.late: set[tuple[str, str]] = set()
        self.max_ts: dict[str, int] = {}
        self.min_ts: dict[str, int] = {}
        self.watermark: dict[str, int] = defaultdict(int)
        self.next_bin: dict[str, int] = {}
        self.bins: list[tuple[str, int]] = []

    def deliver(self, batch: list[Event]) -> None:
        for e in batch:
            key = (e.session, e.id)
            if key in self.arrived:
                continue
            self.arrived[key] = e
            if e.session in self.next_bin and e.ts // 1000 < self.next_bin[e.session]:
                self.late.add(key)
            self.max_ts[e.session] = max(self.max_ts.get(e.session, 0), e.ts)
            self.min_ts[e.session] = min(self.min_ts.get(e.session, e.ts), e.ts)

    def tick(self) -> None:
        for session, newest in self.max_ts.items():
            self.watermark[session] = max(self.watermark[session], newest - LATENESS_MS)
            start = self.next_bin.setdefault(session, self.min_ts[session] // 1000 // 10 * 10)
            while (start + BIN_SECONDS) * 1000 <= self.watermark[session]:
                self.bins.append((session, start))
                start += BIN_SECONDS
            self.next_bin[session] = start

    def events(self, session: str) -> list[Event]:
        return [e for (s, _), e in self.arrived.items() if s == session]


def run(batches: list[list[Event]], restart_at: int | None = None) -> tuple[Engine, list[Any], list[Any]]:
    engine = Engine(CONFIG)
    bins, snaps = [], []
    for index, batch in enumerate(batches):
        if index == restart_at:
            engine = Engine.from_state(CONFIG, orjson.loads(orjson.dumps(engine.to_state())))
        engine.apply(batch)
        result = engine.tick(NOW)
        bins.extend(result.bins)
        snaps = result.snapshots
    return engine, bins, snaps


def window(events: list[Event], clock_s: int, length: int) -> list[Event]:
    return [e for e in events if clock_s - length < e.ts // 1000 <= clock_s]


def orders_of(events: list[Event]) -> dict[str, dict[str, Any]]:
    """Per order_id: order time, earliest payment (ts, id, amount), flags, refunds."""
    out: dict[str, dict[str, Any]] = {}
    for e in sorted(events, key=lambda x: (x.ts, x.id)):
        if e.type is not EventType.ORDER:
            continue
        o = out.setdefault(
            e.order_id or e.id,
            {
                "product": e.product,
                "order_ms": None,
                "paid": None,
                "placed": False,
                "cancelled": False,
                "refunds": [],
                "payers": set(),
            },
        )
        if e.status in (OrderStatus.PLACED, OrderStatus.PAID) and o["order_ms"] is None:
            o["order_ms"] = e.ts
        if e.status is OrderStatus.PLACED:
            o["placed"] = True
        if e.status is OrderStatus.PAID and o["paid"] is None:
            o["paid"] = (e.ts, e.amount)
        if e.status is OrderStatus.PAID:
            o["payers"].add(e.user)
        if e.status is OrderStatus.CANCELLED:
            o["cancelled"] = True
        if e.status is OrderStatus.REFUNDED:
            o["refunds"].append((e.ts, e.amount))
    return out


def expected_snapshot(events: list[Event], late: int) -> dict[str, Any]:
    clock_s = max(e.ts for e in events) // 1000
    kinds: dict[EventType, list[Event]] = defaultdict(list)
    for e in events:
        kinds[e.type].append(e)
    orders = orders_of(events)
    paid = [o for o in orders.values() if o["paid"]]
    gmv = sum(o["paid"][1] for o in paid)
    counts = [e for e in kinds[EventType.VIEWER_COUNT]]
    online = max(counts, key=lambda e: (e.ts, e.id)).viewers if counts else None
    viewers = {e.user for e in events if e.type in ACTIVITY}
    clickers = {e.user for e in kinds[EventType.PRODUCT_CLICK]}
    buyers = {u for o in orders.values() for u in o["payers"]}
    out: dict[str, Any] = {
        "comments_per_min": float(len(window(kinds[EventType.COMMENT], clock_s, 60))),
        "likes_per_min": float(sum(e.count or 1 for e in window(kinds[EventType.LIKE], clock_s, 60))),
        "entries_per_min": float(len(window(kinds[EventType.JOIN], clock_s, 60))),
        "orders_per_min": float(
            sum(
                1
                for o in orders.values()
                if o["order_ms"] is not None and clock_s - 60 < o["order_ms"] // 1000 <= clock_s
            )
        ),
        "gmv_total": round(gmv, 2),
        "gmv_5m": round(sum(o["paid"][1] for o in paid if clock_s - 300 < o["paid"][0] // 1000 <= clock_s), 2),
        "orders_total": sum(1 for o in orders.values() if o["order_ms"] is not None),
        "paid_total": len(paid),
        "unpaid": sum(1 for o in orders.values() if o["placed"] and not o["paid"] and not o["cancelled"]),
        "refunds": sum(len(o["refunds"]) for o in orders.values()),
        "refund_amount": round(sum(a for o in orders.values() for _, a in o["refunds"]), 2),
        "comments_total": len(kinds[EventType.COMMENT]),
        "clicks_total": len(kinds[EventType.PRODUCT_CLICK]),
        "carts_total": len(kinds[EventType.ADD_TO_CART]),
        "follows_total": len(kinds[EventType.FOLLOW]),
        "events_total": len(events),
        "unique_viewers": len(viewers),
        "buyers": len(buyers),
        "late_events": late,
        "last_event_ts": max(e.ts for e in events),
    }
    if online is not None:

        def active(ks: set[EventType]) -> set[str | None]:
            """Viewers with an event of a kind in `ks` in the last minute."""
            return {e.user for e in events if e.type in ks and clock_s - 60 < e.ts // 1000 <= clock_s}

        out["online"] = online
        out["click_rate"] = round(len(active({EventType.PRODUCT_CLICK})) / online, 4) if online else None
        out["interaction_rate"] = (
            round(len(active({EventType.COMMENT, EventType.LIKE, EventType.SHARE})) / online, 4) if online else None
        )
    out["click_to_purchase"] = round(len(buyers) / len(clickers), 4) if clickers else None
    out["conversion"] = round(len(buyers) / len(viewers), 4) if viewers else None
    return out


def expected_products(events: list[Event]) -> dict[str, dict[str, Any]]:
    clock_s = max(e.ts for e in events) // 1000
    first_bucket = clock_s // 10 - 29  # 30 ten-second buckets ending with the clock's
    orders = orders_of(events)
    out: dict[str, dict[str, Any]] = {}
    for product in {e.product for e in events if e.product}:
        mine = [e for e in events if e.product == product]
        recent = [e for e in mine if e.ts // 10_000 >= first_bucket]
        own = [o for o in orders.values() if o["product"] == product]
        out[product] = {
            "clicks_5m": sum(1 for e in recent if e.type is EventType.PRODUCT_CLICK),
            "carts_5m": sum(1 for e in recent if e.type is EventType.ADD_TO_CART),
            "orders_5m": sum(1 for o in own if o["order_ms"] is not None and o["order_ms"] // 10_000 >= first_bucket),
            "gmv_5m": round(sum(o["paid"][1] for o in own if o["paid"] and o["paid"][0] // 10_000 >= first_bucket), 2),
            "clicks_total": sum(1 for e in mine if e.type is EventType.PRODUCT_CLICK),
            "orders_total": sum(1 for o in own if o["order_ms"] is not None),
            "paid_total": sum(1 for o in own if o["paid"]),
            "gmv_total": round(sum(o["paid"][1] for o in own if o["paid"]), 2),
            "unpaid": sum(1 for o in own if o["placed"] and not o["paid"] and not o["cancelled"]),
            "refunds": sum(len(o["refunds"]) for o in own),
        }
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_engine_metrics_equal_brute_force(stream: tuple[list[list[Event]], list[Event]]) -> None:
    batches, _ = stream
    oracle = Oracle()
    for batch in batches:
        oracle.deliver(batch)
        oracle.tick()
    _, bins, snaps = run(batches)
    by_session = {s["session"]: s for s in snaps}
    for session in {s for s, _ in oracle.arrived}:
        events = oracle.events(session)
        late = sum(1 for s, _ in oracle.late if s == session)
        snap = by_session[session]
        expected = expected_snapshot(events, late)
        assert {k: snap[k] for k in expected} == expected
        rows = {row["product"]: row for row in snap["products"]}
        for product, figures in expected_products(events).items():
            assert {k: rows[product][k] for k in figures} == figures, product
        newest = sorted((e.ts, e.id, e.text) for e in events if e.type is EventType.COMMENT)[-8:]
        assert snap["recent_comments"] == [{"id": i, "ts": t, "text": text} for t, i, text in newest]
    assert [(b.session, b.start) for b in bins] == oracle.bins


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_engine_bins_hold_exactly_the_events_that_arrived_before_they_closed(
    stream: tuple[list[list[Event]], list[Event]],
) -> None:
    batches, _ = stream
    oracle = Oracle()
    for batch in batches:
        oracle.deliver(batch)
        oracle.tick()
    _, bins, _ = run(batches)
    on_time = [e for key, e in oracle.arrived.items() if key not in oracle.late]
    for b in bins:
        inside = [e for e in on_time if e.session == b.session and b.start <= e.ts // 1000 < b.end]
        kinds = [e.type for e in inside]
        assert b.events == len(inside)
        assert (b.comments, b.joins, b.leaves, b.clicks, b.carts) == (
            kinds.count(EventType.COMMENT),
            kinds.count(EventType.JOIN),
            kinds.count(EventType.LEAVE),
            kinds.count(EventType.PRODUCT_CLICK),
            kinds.count(EventType.ADD_TO_CART),
        )
        for pb in b.products:
            mine = [e for e in inside if e.product == pb.product]
            assert pb.clicks == sum(1 for e in mine if e.type is EventType.PRODUCT_CLICK)
            assert pb.carts == sum(1 for e in mine if e.type is EventType.ADD_TO_CART)


def expected_dwell(events: list[Event], watermark_ms: int, idle_ms: int) -> list[float]:
    """Closed visit durations: replay each viewer's activity in time order up to the watermark."""
    items = sorted(
        (e.ts, int(e.type is EventType.LEAVE), e.user)
        for e in events
        if e.user and (e.type in ACTIVITY or e.type is EventType.LEAVE) and e.ts < watermark_ms
    )
    open_: dict[str, list[int]] = {}
    closed: list[float] = []
    for ts, leave, user in items:
        visit = open_.get(user)
        if visit and ts >= visit[1] + idle_ms:
            closed.append((visit[1] + idle_ms - visit[0]) / 1000)
            del open_[user]
            visit = None
        if leave:
            if visit and ts >= visit[1]:
                closed.append((ts - visit[0]) / 1000)
                del open_[user]
        elif visit is None:
            open_[user] = [ts, ts]
        else:
            visit[1] = max(visit[1], ts)
    closed += [(last + idle_ms - start) / 1000 for start, last in open_.values() if last + idle_ms <= watermark_ms]
    return closed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(late=False))
def test_engine_watch_time_equals_brute_force_replay(stream: tuple[list[list[Event]], list[Event]]) -> None:
    batches, _ = stream
    engine, _, snaps = run(batches)
    for snap in snaps:
        state = engine.sessions[snap["session"]]
        events = [e for e in stream[1] if e.session == snap["session"]]
        durations = expected_dwell(events, state.clock.watermark_ms, 30_000)
        assert state.audience.closed == len(durations)
        if durations:
            # compare unrounded: summing floats in another order may flip a .x5 rounding
            assert abs(state.audience.total_s / state.audience.closed - sum(durations) / len(durations)) < 1e-6
            assert snap["median_watch_s"] == float(sorted(int(d) for d in durations)[(len(durations) - 1) // 2])
        else:
            assert snap["avg_watch_s"] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.data())
def test_engine_checkpoint_mid_stream_gives_identical_results(
    stream: tuple[list[list[Event]], list[Event]],
    data: st.DataObject,
) -> None:
    batches, _ = stream
    restart_at = data.draw(st.integers(0, len(batches) - 1))
    _, bins_plain, snaps_plain = run(batches)
    _, bins_restored, snaps_restored = run(batches, restart_at=restart_at)
    assert bins_restored == bins_plain
    assert orjson.dumps(snaps_restored) == orjson.dumps(snaps_plain)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.integers(1, 7))
def test_engine_wire_fast_path_equals_event_path(stream: tuple[list[list[Event]], list[Event]],
                                                 per_entry: int) -> None:
    """One event per entry, or each session's events in entries of `per_entry` as the writer makes them."""
    batches, _ = stream
    by_events, by_wire, by_entries = Engine(CONFIG), Engine(CONFIG), Engine(CONFIG)
    for batch in batches:
        by_events.apply(batch)
        by_wire.apply_wire([e.to_wire() for e in batch])
        by_entries.apply_wire(_as_entries(batch, per_entry))
        plain, fast, grouped = by_events.tick(NOW), by_wire.tick(NOW), by_entries.tick(NOW)
        assert fast.bins == plain.bins == grouped.bins
        expected = [_by_product(s) for s in plain.snapshots]
        assert [_by_product(s) for s in fast.snapshots] == expected
        assert [_by_product(s) for s in grouped.snapshots] == expected


def _as_entries(batch: list[Event], per_entry: int) -> list[bytes]:
    """Each session's events, in arrival order, joined into entries of up to `per_entry`, sessions in first-seen order."""
    by_session: dict[str, list[bytes]] = {}
    for event in batch:
        by_session.setdefault(event.session, []).append(event.to_wire())
    return [wire_entries.join(wires[lo:lo + per_entry]) for wires in by_session.values()
            for lo in range(0, len(wires), per_entry)]


def _by_product(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The batch path lists products first seen in one batch in its own order (docs/metrics.md)."""
    return {**snapshot, "products": sorted(snapshot["products"], key=lambda row: row["product"])}
