"""Per-product signals: what livemon observes about each product, read from a snapshot.

The Suggester never sees the engine's internals, only the documented snapshot keys
(`products[]` and, when present, `comments`), so it can run wherever a snapshot exists:
in the engine tick, in replay, or in the benchmark's simulated sessions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Topics whose name marks a complaint rather than praise; a comment-intelligence topic may
# also say so itself with `"negative": true` or a `sentiment` below zero.
COMPLAINT_TOPICS = frozenset(
    {"size", "sizing", "quality", "fake", "shipping", "delivery", "refund", "price", "broken", "stock", "complaint"}
)


@dataclass(frozen=True, slots=True)
class ProductSignals:
    """One product's observable state at `now` (counts, stock, pitch history, comment issues)."""

    product: str
    name: str = ""
    price: float | None = None
    margin: float | None = None
    stock: int | None = None
    pinned: bool = False
    pin_started_ts: float | None = None
    pitch_count: int = 0
    pitch_seconds_total: float = 0.0
    last_pitch_end_ts: float | None = None
    clicks_5m: int = 0
    carts_5m: int = 0
    orders_5m: int = 0
    gmv_5m: float = 0.0
    clicks_total: int = 0
    carts_total: int = 0
    orders_total: int = 0
    paid_total: int = 0
    unpaid: int = 0
    gmv_total: float = 0.0
    refunds: int = 0
    click_to_purchase: float | None = None
    sellout_eta_s: float | None = None
    pitch_uplift: float | None = None
    open_questions: int = 0
    question_intents: tuple[str, ...] = ()
    complaint_topics: tuple[str, ...] = ()

    @property
    def out_of_stock(self) -> bool:
        """Whether the product is known to have nothing left to sell."""
        return self.stock is not None and self.stock <= 0


def _ts_seconds(value: Any) -> float | None:
    """Snapshot times are epoch milliseconds (like `last_event_ts`); accept seconds too."""
    if value is None:
        return None
    number = float(value)
    return number / 1000.0 if number > 1e11 else number


def _clamp(ts: float | None, now: float) -> float | None:
    """A time stamped after `now` (producer clock skew) is taken as now, so ages never go negative."""
    return None if ts is None else min(ts, now)


def _num(row: Mapping[str, Any], key: str, default: float = 0.0) -> float:
    value = row.get(key)
    return default if value is None else float(value)


def _opt(row: Mapping[str, Any], key: str) -> float | None:
    value = row.get(key)
    return None if value is None else float(value)


def _is_complaint(topic: Mapping[str, Any]) -> bool:
    if topic.get("negative") is True:
        return True
    sentiment = topic.get("sentiment")
    if isinstance(sentiment, (int, float)) and sentiment < 0:
        return True
    return str(topic.get("topic", "")).lower() in COMPLAINT_TOPICS


def signals_from_snapshot(
    products: Sequence[Mapping[str, Any]], comments: Mapping[str, Any] | None, now: float
) -> list[ProductSignals]:
    """Build one `ProductSignals` per snapshot product row.

    Args:
        products: the snapshot's `products[]` rows (keys as in docs/architecture.md; missing
            keys read as zero or unknown so a partial engine still yields signals).
        comments: the snapshot's `comments` summary or None; `open_questions[]` with a
            `product` and `topics[]` carrying a `product` are tied to that product.
        now: epoch seconds of the snapshot; later pitch times are clamped to it.
    """
    questions: dict[str, list[str]] = {}
    complaints: dict[str, list[str]] = {}
    if comments:
        for q in comments.get("open_questions") or ():
            product = q.get("product")
            if product:
                intent = str(q.get("intent") or q.get("group") or "question")
                questions.setdefault(str(product), []).extend([intent] * max(1, int(q.get("count") or 1)))
        for t in comments.get("topics") or ():
            product = t.get("product")
            if product and _is_complaint(t):
                complaints.setdefault(str(product), []).append(str(t.get("topic", "complaint")))
    out = []
    for row in products:
        product = str(row["product"])
        pinned = bool(row.get("pinned"))
        pin_started = _clamp(_ts_seconds(row.get("pin_started_ts")), now)
        stock = row.get("stock")
        intents = questions.get(product, [])
        out.append(
            ProductSignals(
                product=product,
                name=str(row.get("name") or ""),
                price=_opt(row, "price"),
                margin=_opt(row, "margin"),
                stock=None if stock is None else int(stock),
                pinned=pinned,
                pin_started_ts=pin_started,
                pitch_count=int(_num(row, "pitch_count")),
                pitch_seconds_total=_num(row, "pitch_seconds_total"),
                last_pitch_end_ts=_clamp(_ts_seconds(row.get("last_pitch_end_ts")), now),
                clicks_5m=int(_num(row, "clicks_5m")),
                carts_5m=int(_num(row, "carts_5m")),
                orders_5m=int(_num(row, "orders_5m")),
                gmv_5m=_num(row, "gmv_5m"),
                clicks_total=int(_num(row, "clicks_total")),
                carts_total=int(_num(row, "carts_total")),
                orders_total=int(_num(row, "orders_total")),
                paid_total=int(_num(row, "paid_total")),
                unpaid=int(_num(row, "unpaid")),
                gmv_total=_num(row, "gmv_total"),
                refunds=int(_num(row, "refunds")),
                click_to_purchase=_opt(row, "click_to_purchase"),
                sellout_eta_s=_opt(row, "sellout_eta_s"),
                pitch_uplift=_opt(row, "pitch_uplift"),
                open_questions=len(intents),
                question_intents=tuple(sorted(set(intents))),
                complaint_topics=tuple(sorted(set(complaints.get(product, [])))),
            )
        )
    return out
