"""Order lifecycle per `order_id`, order-independent (Compass 成交金额 / 压单 semantics).

Platforms send `order` events with status placed → paid (or cancelled), and later
refunded, on one `order_id`, not necessarily in order and sometimes twice. The book
keeps the facts that make every figure independent of arrival order:

* order time = earliest placed-or-paid event; it feeds "orders per minute";
* payment = the earliest `paid` event (ties broken by event id): its time and amount
  feed GMV, so a repeated `paid` notification never counts twice;
* unpaid (压单) = a `placed` event seen, no `paid`, no `cancelled`;
* buyers = distinct users of `paid` events;
* refunds = every distinct `refunded` event, by its own time and amount (partial
  refunds add up). GMV is not reduced by refunds (Compass reports 退款金额 beside
  成交金额); `gmv_net` = GMV − refunds.

When a correction moves a fact in time (an earlier `placed` arrives after a later
one) the book emits −1 at the old time and +1 at the new one, so windows stay exact.
Settled orders (paid or cancelled) are forgotten `order_horizon_s` after their last
event, which bounds memory; unpaid orders are kept until they settle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from monitor.events import Event, OrderStatus

# Channels the book emits deltas on (the session maps them onto its rings).
ORDERS, PAID, GMV, PAID_QTY, REFUNDS, REFUND_N = range(6)

Emit = Callable[[int, int, str, float], None]  # (ts_ms, channel, product, amount)

# One order: (order_ms, paid_ms, paid_id, paid_amount, paid_qty, placed_seen, cancelled, product, last_ms).
# A tuple, replaced when the order changes: a tuple of plain values is untracked by the garbage
# collector after its first pass, so thousands of open orders do not make every full
# collection walk them (as lists they were most of the engine's long-lived containers).
_ORDER_MS, _PAID_MS, _PAID_ID, _AMOUNT, _QTY, _PLACED, _CANCELLED, _PRODUCT, _LAST = range(9)


class OrderBook:
    """All orders of one session and their running totals."""

    __slots__ = ("buyers", "cancelled", "orders", "unpaid", "unpaid_by_product")

    def __init__(self) -> None:
        self.orders: dict[str, tuple[Any, ...]] = {}
        self.unpaid = 0
        self.unpaid_by_product: dict[str, int] = {}
        self.cancelled = 0
        self.buyers: set[str] = set()

    def apply(self, event: Event, emit: Emit) -> None:
        """Fold one de-duplicated `order` event, emitting window deltas."""
        self.fold(
            event.id,
            event.order_id or event.id,
            event.product or "",
            event.ts,
            event.status,
            event.amount or 0.0,
            event.qty or 1,
            event.user,
            emit,
        )

    def fold(
        self,
        event_id: str,
        order_id: str,
        product: str,
        ts: int,
        status: str | None,
        amount: float,
        qty: int,
        user: str | None,
        emit: Emit,
    ) -> None:
        """Fold one de-duplicated order event given as plain values (the engine's batch path).

        `status` is an `OrderStatus` value or None; the engine passes the wire string, which
        compares equal, so no `Event` is built for the 5 % of events that are orders.
        """
        known = self.orders.get(order_id)
        order: list[Any] = [None, None, None, 0.0, 0, False, False, product, ts] if known is None else list(known)
        self._fold(order, event_id, ts, status, amount, qty, user, emit)
        self.orders[order_id] = tuple(order)

    def _fold(
        self,
        order: list[Any],
        event_id: str,
        ts: int,
        status: str | None,
        amount: float,
        qty: int,
        user: str | None,
        emit: Emit,
    ) -> None:
        was_unpaid = order[_PLACED] and order[_PAID_MS] is None and not order[_CANCELLED]
        order[_LAST] = max(order[_LAST], ts)
        if status == OrderStatus.REFUNDED:
            emit(ts, REFUNDS, order[_PRODUCT], amount)
            emit(ts, REFUND_N, order[_PRODUCT], 1.0)
            return
        if status == OrderStatus.CANCELLED:
            if not order[_CANCELLED]:
                order[_CANCELLED] = True
                self.cancelled += 1
        else:
            if status == OrderStatus.PLACED:
                order[_PLACED] = True
            self._place(order, ts, emit)
            if status == OrderStatus.PAID:
                self._pay(order, ts, event_id, amount, qty, user, emit)
        is_unpaid = order[_PLACED] and order[_PAID_MS] is None and not order[_CANCELLED]
        if is_unpaid != was_unpaid:
            step = 1 if is_unpaid else -1
            self.unpaid += step
            key = order[_PRODUCT]
            self.unpaid_by_product[key] = self.unpaid_by_product.get(key, 0) + step

    def _place(self, order: list[Any], ts: int, emit: Emit) -> None:
        old = order[_ORDER_MS]
        if old is None or ts < old:
            if old is not None:
                emit(old, ORDERS, order[_PRODUCT], -1.0)
            emit(ts, ORDERS, order[_PRODUCT], 1.0)
            order[_ORDER_MS] = ts

    def _pay(
        self, order: list[Any], ts: int, event_id: str, amount: float, qty: int, user: str | None, emit: Emit
    ) -> None:
        old_ms = order[_PAID_MS]
        if user:
            self.buyers.add(user)
        if old_ms is not None and (ts, event_id) >= (old_ms, order[_PAID_ID]):
            return
        product = order[_PRODUCT]
        if old_ms is not None:
            emit(old_ms, PAID, product, -1.0)
            emit(old_ms, GMV, product, -order[_AMOUNT])
            emit(old_ms, PAID_QTY, product, -float(order[_QTY]))
        emit(ts, PAID, product, 1.0)
        emit(ts, GMV, product, amount)
        emit(ts, PAID_QTY, product, float(qty))
        order[_PAID_MS], order[_PAID_ID], order[_AMOUNT], order[_QTY] = ts, event_id, amount, qty

    def forget_settled(self, before_ms: int) -> None:
        """Drop paid or cancelled orders whose last event is older than `before_ms`."""
        stale = [
            oid for oid, o in self.orders.items() if o[_LAST] < before_ms and (o[_PAID_MS] is not None or o[_CANCELLED])
        ]
        for oid in stale:
            del self.orders[oid]

    def to_state(self) -> dict[str, Any]:
        """Return JSON-ready state."""
        return {
            "orders": self.orders,
            "unpaid": self.unpaid,
            "unpaid_by_product": self.unpaid_by_product,
            "cancelled": self.cancelled,
            "buyers": sorted(self.buyers),
        }

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> OrderBook:
        """Rebuild from `to_state` output."""
        book = cls()
        book.orders = {k: tuple(v) for k, v in data["orders"].items()}
        book.unpaid = data["unpaid"]
        book.unpaid_by_product = dict(data["unpaid_by_product"])
        book.cancelled = data["cancelled"]
        book.buyers = set(data["buyers"])
        return book
