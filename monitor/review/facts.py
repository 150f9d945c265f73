"""One pass over a finished session's events, keeping the columns the review needs.

The engine is built for a live window that moves; a review looks at the whole session at
once, so it keeps plain columns (times, products, amounts) and lets numpy do the rest.
The two parts whose semantics must match the live screens: the order book is reused
(`monitor.orders`: earliest `paid` is GMV, `placed` without `paid` is 压单); the audience
replay (visits, estimated leaves, watch time) follows `monitor.dwell`'s rules with numpy
(`monitor.review.visits`, held equal to it by a test).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from monitor.events import Event, EventType
from monitor.orders import GMV, ORDERS, PAID, PAID_QTY, REFUND_N, REFUNDS, OrderBook
from monitor.review.visits import IntArray, Visits, replay

IDLE_TIMEOUT_S = 300.0  # a viewer silent this long is taken to have left (EngineConfig's default)

# kinds that show a viewer is present (open or extend a visit), as in the live replay
_ACTIVITY = ("join", "comment", "like", "share", "follow", "gift", "product_click", "add_to_cart")
_FREQUENT = (*_ACTIVITY, "leave", "viewer_count")  # folded from decoded JSON; the rest become Events


@dataclass(frozen=True, slots=True)
class Pitch:
    """One explanation (讲解) of one product: from its pin to its unpin or the next product's pin."""

    product: str
    start_ms: int
    end_ms: int


@dataclass(slots=True)
class Facts:
    """Columns of one session (mutable while collected, then only read)."""

    session: str = ""
    title: str = ""
    host: str = ""
    platform: str = "other"
    start_ms: int = 0
    end_ms: int = 0
    planned: list[str] = field(default_factory=list)  # run-of-show order: "3号" is planned[2]
    names: dict[str, str] = field(default_factory=dict)
    prices: dict[str, float] = field(default_factory=dict)
    planned_stock: dict[str, int] = field(default_factory=dict)
    viewer_counts: list[tuple[int, int]] = field(default_factory=list)  # (ts, viewers)
    total_viewers: int = 0
    joins: list[int] = field(default_factory=list)
    leaves: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # visit ends, explicit and estimated
    visit_starts: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    visit_ends: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # the k-th ends the k-th visit
    watch_total_s: float = 0.0
    clicks: list[tuple[int, str]] = field(default_factory=list)
    carts: list[tuple[int, str]] = field(default_factory=list)
    orders: list[tuple[int, str, float]] = field(default_factory=list)  # ORDERS deltas (±1 on corrections)
    paid: list[tuple[int, str, float]] = field(default_factory=list)
    gmv: list[tuple[int, str, float]] = field(default_factory=list)
    qty: list[tuple[int, str, float]] = field(default_factory=list)
    refunds: int = 0
    refund_amount: float = 0.0
    stock: list[tuple[int, str, int]] = field(default_factory=list)
    pins: list[tuple[int, str, str, bool]] = field(default_factory=list)  # (ts, id, product, is_pin)
    comments: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, id, text)
    viewers: set[str] = field(default_factory=set)
    buyers: int = 0
    unpaid_by_product: dict[str, int] = field(default_factory=dict)
    pitches: list[Pitch] = field(default_factory=list)


def collect(events: Iterable[Event]) -> Facts:
    """Fold a session's events (any order, duplicates by id counted once) into columns."""
    return collect_wire([e.to_wire() for e in events])


def collect_wire(payloads: Iterable[bytes | str]) -> Facts:
    """Fold `Event.to_wire` payloads of one session (any order, duplicates by id counted once).

    The frequent kinds (viewer counts, comments, likes, joins, leaves, clicks, carts…) go into their
    columns straight from the decoded JSON, as the engine's `apply_wire` does: building an
    `Event` costs more than keeping its two or three fields. Only the rare kinds whose
    meaning depends on order (orders, pins, stock, session start/end) become `Event`s and
    are folded in time order.
    """
    loads = orjson.loads
    seen: set[str] = set()
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in _FREQUENT}
    rare: list[tuple[int, str, bytes | str]] = []
    first: dict[str, Any] | None = None
    for raw in payloads:
        d = loads(raw)
        event_id = d["id"]
        if event_id in seen:
            continue
        seen.add(event_id)
        first = first or d
        column = by_kind.get(d["type"])
        if column is not None:
            column.append(d)
        else:
            rare.append((d["ts"], event_id, raw))
    facts = Facts()
    if first is None:
        return facts
    facts.session = first["session"]
    rare.sort(key=lambda r: (r[0], r[1]))
    first_ts, last_ts = _span(by_kind, rare)
    _frequent(facts, by_kind)
    start_ms, end_ms = _rare(facts, [Event.from_wire(raw) for _, _, raw in rare])
    if facts.platform == "other":
        facts.platform = next((str(d["platform"]) for column in by_kind.values() for d in column
                               if d.get("platform", "other") != "other"), "other")
    facts.start_ms = start_ms if start_ms is not None else first_ts
    facts.end_ms = max(facts.start_ms, end_ms if end_ms is not None else last_ts)
    visits = _visits(by_kind, facts.viewers, facts.end_ms)
    facts.visit_starts, facts.visit_ends = visits.starts, visits.ends
    facts.watch_total_s = visits.watch_total_s
    facts.leaves = np.sort(np.minimum(visits.ends, facts.end_ms))
    facts.pitches = pitches(facts.pins, facts.end_ms)
    return facts


def _span(by_kind: dict[str, list[dict[str, Any]]], rare: list[tuple[int, str, bytes | str]]) -> tuple[int, int]:
    times = [d["ts"] for column in by_kind.values() for d in column] + [r[0] for r in rare]
    return min(times), max(times)


def _frequent(facts: Facts, by_kind: dict[str, list[dict[str, Any]]]) -> None:
    """Columns of the frequent kinds, each sorted by time."""
    facts.comments = sorted((d["ts"], d["id"], d.get("text") or "") for d in by_kind["comment"])
    facts.clicks = sorted((d["ts"], d.get("product") or "") for d in by_kind["product_click"])
    facts.carts = sorted((d["ts"], d.get("product") or "") for d in by_kind["add_to_cart"])
    counts = by_kind["viewer_count"]
    facts.viewer_counts = sorted((d["ts"], d.get("viewers") or 0) for d in counts)
    facts.total_viewers = max((d.get("total_viewers") or 0 for d in counts), default=0)
    facts.joins = sorted(d["ts"] for d in by_kind["join"])
    for kind in _ACTIVITY:
        facts.viewers.update([u for d in by_kind[kind] if (u := d.get("user")) is not None])


def _rare(facts: Facts, ordered: list[Event]) -> tuple[int | None, int | None]:
    """Fold orders, pins, stock and session start/end in time order; return start and end times if sent."""
    book = OrderBook()
    sinks = {ORDERS: facts.orders, PAID: facts.paid, GMV: facts.gmv, PAID_QTY: facts.qty}

    def emit(ts: int, channel: int, product: str, amount: float) -> None:
        sink = sinks.get(channel)
        if sink is not None:
            sink.append((ts, product, amount))
        elif channel == REFUNDS:
            facts.refund_amount += amount
        elif channel == REFUND_N:
            facts.refunds += int(amount)

    start_ms: int | None = None
    end_ms: int | None = None
    for e in ordered:
        kind, ts = e.type, e.ts
        if kind is EventType.ORDER:
            book.apply(e, emit)
        elif kind is EventType.PRODUCT_PIN or kind is EventType.PRODUCT_UNPIN:
            facts.pins.append((ts, e.id, e.product or "", kind is EventType.PRODUCT_PIN))
        elif kind is EventType.STOCK:
            facts.stock.append((ts, e.product or "", e.stock or 0))
        elif kind is EventType.SESSION_START:
            start_ms = ts if start_ms is None else min(start_ms, ts)
            facts.title, facts.host = e.title or facts.title, e.host or facts.host
            facts.platform = e.platform.value
            for planned in e.products:
                if planned.id not in facts.names:
                    facts.planned.append(planned.id)
                facts.names[planned.id] = planned.name or planned.id
                if planned.price is not None:
                    facts.prices[planned.id] = planned.price
                if planned.stock is not None:
                    facts.planned_stock[planned.id] = planned.stock
        elif kind is EventType.SESSION_END:
            end_ms = ts if end_ms is None else min(end_ms, ts)
        if facts.platform == "other":
            facts.platform = e.platform.value
    facts.buyers = len(book.buyers)
    facts.unpaid_by_product = {p: n for p, n in book.unpaid_by_product.items() if n > 0}
    return start_ms, end_ms


def _visits(by_kind: dict[str, list[dict[str, Any]]], viewers: set[str], end_ms: int) -> Visits:
    """Replay every viewer's activity and leaves; past the end plus the idle timeout all visits are closed."""
    code = {user: i for i, user in enumerate(viewers)}
    ts: list[int] = []
    users: list[int] = []
    leave: list[bool] = []
    for kind in (*_ACTIVITY, "leave"):
        # every active user has a code; a leave of anyone else closes nothing, so it is dropped here
        rows = [(d["ts"], c) for d in by_kind[kind] if (c := code.get(d.get("user", ""))) is not None]
        ts.extend(r[0] for r in rows)
        users.extend(r[1] for r in rows)
        leave.extend([kind == "leave"] * len(rows))
    return replay(np.array(ts, np.int64), np.array(leave, bool), np.array(users, np.int64),
                  round(IDLE_TIMEOUT_S * 1000))


def pitches(pins: list[tuple[int, str, str, bool]], end_ms: int) -> list[Pitch]:
    """Turn pin/unpin events (sorted by time, id) into non-overlapping pitches, as the live table does."""
    out: list[Pitch] = []
    current: str | None = None
    started = 0
    for ts, _, product, is_pin in pins:
        if is_pin:
            if current == product:
                continue
            if current is not None:
                out.append(Pitch(current, started, ts))
            current, started = product, ts
        elif current == product:
            out.append(Pitch(current, started, ts))
            current = None
    if current is not None:
        out.append(Pitch(current, started, max(started, end_ms)))
    return out
