"""One pass over a finished session's events, keeping the columns the review needs.

The engine is built for a live window that moves; a review looks at the whole session at
once, so it keeps plain columns (times, products, amounts) and lets numpy do the rest.
The two parts whose semantics must match the live screens are reused, not rewritten:
the order book (`monitor.orders`: earliest `paid` is GMV, `placed` without `paid` is 压单)
and the audience replay (`monitor.dwell`: visits, estimated leaves, watch time).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

from monitor.dwell import Audience
from monitor.events import Event, EventType
from monitor.orders import GMV, ORDERS, PAID, PAID_QTY, REFUND_N, REFUNDS, OrderBook

IDLE_TIMEOUT_S = 300.0  # a viewer silent this long is taken to have left (EngineConfig's default)

_ACTIVITY = frozenset({EventType.JOIN, EventType.COMMENT, EventType.LIKE, EventType.SHARE, EventType.FOLLOW,
                       EventType.GIFT, EventType.PRODUCT_CLICK, EventType.ADD_TO_CART})


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
    leaves: list[int] = field(default_factory=list)  # explicit and estimated
    visits: list[tuple[int, int]] = field(default_factory=list)  # (start_ms, end_ms)
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
    ordered = sorted(events, key=attrgetter("ts", "id"))
    facts = Facts()
    if not ordered:
        return facts
    seen: set[str] = set()
    book = OrderBook()
    audience = Audience(IDLE_TIMEOUT_S, 900)
    sinks = {ORDERS: facts.orders, PAID: facts.paid, GMV: facts.gmv, PAID_QTY: facts.qty}
    start_ms: int | None = None
    end_ms: int | None = None

    def emit(ts: int, channel: int, product: str, amount: float) -> None:
        sink = sinks.get(channel)
        if sink is not None:
            sink.append((ts, product, amount))
        elif channel == REFUNDS:
            facts.refund_amount += amount
        elif channel == REFUND_N:
            facts.refunds += int(amount)

    pending = audience.pending
    for e in ordered:
        if e.id in seen:
            continue
        seen.add(e.id)
        kind, ts, user = e.type, e.ts, e.user
        if user is not None and kind in _ACTIVITY:
            facts.viewers.add(user)
            pending.append((ts, 0, user))
        if kind is EventType.COMMENT:
            facts.comments.append((ts, e.id, e.text or ""))
        elif kind is EventType.PRODUCT_CLICK:
            facts.clicks.append((ts, e.product or ""))
        elif kind is EventType.VIEWER_COUNT:
            facts.viewer_counts.append((ts, e.viewers or 0))
            facts.total_viewers = max(facts.total_viewers, e.total_viewers or 0)
        elif kind is EventType.JOIN:
            facts.joins.append(ts)
        elif kind is EventType.LEAVE:
            if user is not None:
                pending.append((ts, 1, user))
        elif kind is EventType.ADD_TO_CART:
            facts.carts.append((ts, e.product or ""))
        elif kind is EventType.ORDER:
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
    facts.session = ordered[0].session
    facts.start_ms = start_ms if start_ms is not None else ordered[0].ts
    facts.end_ms = max(facts.start_ms, end_ms if end_ms is not None else ordered[-1].ts)
    facts.buyers = len(book.buyers)
    facts.unpaid_by_product = {p: n for p, n in book.unpaid_by_product.items() if n > 0}

    def closed(end: int, duration_s: float, estimated: bool) -> None:
        facts.visits.append((end - int(duration_s * 1000), end))
        facts.watch_total_s += duration_s

    # Past the end plus the idle timeout every visit is closed: the finished session's answer.
    audience.advance(facts.end_ms + int(IDLE_TIMEOUT_S * 1000) + 1, closed)
    facts.leaves = sorted(min(end, facts.end_ms) for _, end in facts.visits)
    facts.pitches = pitches(facts.pins, facts.end_ms)
    return facts


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
