"""Closed event-time bins: the series detectors and reports consume.

The engine closes one `Bin` per session every `BIN_SECONDS` of event time once the
watermark has passed its end, so every bin is final and delivered exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BIN_SECONDS = 10


@dataclass(frozen=True, slots=True)
class ProductBin:
    """One product's funnel counts inside a bin."""

    product: str
    clicks: int = 0
    carts: int = 0
    orders: int = 0
    paid: int = 0
    gmv: float = 0.0
    stock: int | None = None
    pinned: bool = False
    name: str = ""  # the catalogue's name; detectors key on `product`, alerts speak of `label`

    @property
    def label(self) -> str:
        """How an alert names the product to people: its catalogue name, else its id."""
        return self.name or self.product


@dataclass(frozen=True, slots=True)
class Bin:
    """Counts for one session over [start, start + BIN_SECONDS) in event time (epoch s)."""

    session: str
    start: int
    viewers: int
    viewers_estimated: bool
    joins: int = 0
    leaves: int = 0
    comments: int = 0
    negative: int = 0
    spam: int = 0
    raid: int = 0
    top_topic: str | None = None
    clicks: int = 0
    carts: int = 0
    orders: int = 0
    paid: int = 0
    gmv: float = 0.0
    avg_dwell_s: float | None = None
    open_question_groups: int = 0
    oldest_question_age_s: float = 0.0
    # the product with the most distinct viewers waiting on open questions: how many, since when
    question_askers: int = 0
    question_askers_age_s: float = 0.0
    events: int = 0
    products: tuple[ProductBin, ...] = field(default=())

    @property
    def end(self) -> int:
        """First second after this bin."""
        return self.start + BIN_SECONDS

    def label_of(self, product: str) -> str:
        """How an alert names `product`: its `ProductBin.label` here, or its id if this bin lacks it."""
        return next((p.label for p in self.products if p.product == product), product)
