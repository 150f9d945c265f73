"""What pitching one product next is worth, and which signals moved that worth.

`monitor.suggestions.Suggester` decides which products are eligible and in what order they
are shown; this module values one eligible product for one tick (step 2 of its method):
a Thompson draw of orders per pitch-minute, times fatigue, slot minutes and price (tilted
by margin), capped by stock, plus the unpaid orders a reminder would recover, times the
penalties for open questions, complaints and host skips. Alongside the value it lists the
`Driver`s behind it, so a reason can only name a signal that counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from monitor.product_beliefs import FunnelBeliefs, Pooled
from monitor.product_signals import ProductSignals
from monitor.suggestion_config import SuggestionConfig
from monitor.suggestion_reasons import Driver, ReasonCode

MIN_CLICKS_FOR_RATES = 10  # below this, a 5-minute cart or purchase rate is noise, not a reason


@dataclass(slots=True)
class TickContext:
    """What every product is scored against in one tick: settings, beliefs, session-wide figures."""

    config: SuggestionConfig
    beliefs: FunnelBeliefs
    pooled: Pooled
    mean_margin: float | None
    cart_rate: float
    conversion: float
    scale: float = 1.0  # current audience in thousands (1 when rates are not per viewer)
    gmv_rate: float = 0.0  # mean expected GMV per pitch-minute now, over in-stock products


@dataclass(slots=True)
class Scored:
    """One eligible product's value this tick, its must-pitch deadline and the drivers behind it."""

    signals: ProductSignals
    score: float
    forced_deadline: float | None
    drivers: list[Driver] = field(default_factory=list)


def _price(s: ProductSignals) -> float:
    """List price, else the average paid order value seen, else 1 (rank by units)."""
    return s.price or (s.gmv_total / s.paid_total if s.paid_total else 1.0)


def tick_context(
    config: SuggestionConfig, beliefs: FunnelBeliefs, signals: Sequence[ProductSignals], scale: float
) -> TickContext:
    """Compute once per tick the session-wide figures every product is compared with."""
    margins = [x.margin for x in signals if x.margin is not None]
    clicks_5m = sum(x.clicks_5m for x in signals)
    ctx = TickContext(
        config=config,
        beliefs=beliefs,
        pooled=beliefs.pooled(signals),
        mean_margin=sum(margins) / len(margins) if margins else None,
        cart_rate=sum(x.carts_5m for x in signals) / clicks_5m if clicks_5m else 0.0,
        conversion=sum(x.orders_5m for x in signals) / clicks_5m if clicks_5m else 0.0,
        scale=scale,
    )
    in_stock = [x for x in signals if not x.out_of_stock]
    if in_stock:
        rates = (beliefs.mean_rate(x, ctx.pooled) * _price(x) for x in in_stock)
        ctx.gmv_rate = scale * sum(rates) / len(in_stock)
    return ctx


def score_pitch(
    s: ProductSignals, ctx: TickContext, now: float, z: float, skipped: float | None, deadline: float | None
) -> Scored:
    """Value pitching `s` next at the held standard-normal quantile `z`.

    Args:
        s: the product's signals; the caller has checked it is eligible.
        ctx: this tick's context from `tick_context`.
        now: epoch seconds.
        z: the product's held posterior quantile.
        skipped: when the host last skipped the product, if ever.
        deadline: seconds left to pitch it as a must-pitch item, when under the lead time.
    """
    c = ctx.config
    beliefs = ctx.beliefs
    price = _price(s)
    if s.pinned:
        tau = now - (beliefs.pin_started(s.product) or now)
        freshness = math.exp(-tau / c.within_pitch_decay_s)
    else:
        freshness = beliefs.fatigue(s.product, c.slot_s)
    units = beliefs.sample(s, ctx.pooled, z) * ctx.scale * freshness * c.slot_s / 60.0
    # A product about to sell out ends its pitch early and hands the rest of the slot to
    # another product, worth the session's average slot: capping units alone would
    # undervalue clearing the last few pieces.
    rest = 0.0
    if s.stock is not None and units > s.stock:
        rest = (1.0 - s.stock / units) * ctx.gmv_rate * c.slot_s / 60.0
        units = float(s.stock)
    value = units * price
    if s.margin is not None and ctx.mean_margin:
        value *= 1.0 + c.margin_weight * (s.margin / ctx.mean_margin - 1.0)
    value += rest
    recovered = s.unpaid * price * c.unpaid_recovery
    value += recovered
    if s.open_questions:
        value *= 1.0 - c.question_penalty
    if s.complaint_topics:
        value *= 1.0 - c.complaint_penalty
    if skipped is not None:
        value *= 1.0 - c.skip_penalty * math.exp(-(now - skipped) / c.skip_cooldown_s)
    scored = Scored(s, max(0.0, value), deadline)
    scored.drivers = _drivers(s, ctx, now, skipped, price, freshness, recovered, value, deadline)
    return scored


def _drivers(
    s: ProductSignals,
    ctx: TickContext,
    now: float,
    skipped: float | None,
    price: float,
    freshness: float,
    recovered: float,
    value: float,
    deadline: float | None,
) -> list[Driver]:
    """The signals that moved this product's score, each weighted by how much it did."""
    c = ctx.config
    strong = c.strong_ratio
    out: list[Driver] = []
    if deadline is not None:
        out.append(Driver(ReasonCode.MUST_PITCH, 100.0, (max(0.0, deadline),)))
    if s.pinned and freshness > 0.5:
        out.append(Driver(ReasonCode.KEEP_PITCHING, 5.0))
    gmv_rate = ctx.beliefs.mean_rate(s, ctx.pooled) * price * ctx.scale
    if (s.pitch_count > 0 or s.pinned) and ctx.gmv_rate > 0 and gmv_rate >= strong * ctx.gmv_rate:
        out.append(Driver(ReasonCode.HIGH_GMV_RATE, gmv_rate / ctx.gmv_rate, (gmv_rate, ctx.gmv_rate)))
    if s.clicks_5m >= MIN_CLICKS_FOR_RATES:
        cart_rate, conv = s.carts_5m / s.clicks_5m, s.orders_5m / s.clicks_5m
        if ctx.cart_rate > 0 and cart_rate >= strong * ctx.cart_rate:
            out.append(Driver(ReasonCode.HIGH_CART_RATE, cart_rate / ctx.cart_rate, (cart_rate, ctx.cart_rate)))
        if ctx.conversion > 0 and conv >= strong * ctx.conversion:
            out.append(Driver(ReasonCode.HIGH_CONVERSION, conv / ctx.conversion, (conv, ctx.conversion)))
    # The engine's pitch_uplift is clicks per second in this pitch over the pre-pitch rate, minus 1.
    if s.pitch_uplift is not None and 1.0 + s.pitch_uplift >= strong:
        out.append(Driver(ReasonCode.STRONG_UPLIFT, 1.0 + s.pitch_uplift, (1.0 + s.pitch_uplift,)))
    if recovered > 0 and value > 0 and recovered >= 0.2 * value:
        out.append(Driver(ReasonCode.UNPAID_ORDERS, 1.0 + recovered / value, (float(s.unpaid),)))
    if s.pitch_count == 0 and not s.pinned:
        out.append(Driver(ReasonCode.NOT_PITCHED_YET, 1.2))
    elif s.last_pitch_end_ts is not None and not s.pinned:
        since = now - s.last_pitch_end_ts
        if freshness >= 0.85:
            out.append(Driver(ReasonCode.RESTED, 1.1, (since,)))
        elif freshness < 0.7:
            out.append(Driver(ReasonCode.RECENTLY_PITCHED, 1.0 - freshness, (since,)))
    eta = s.sellout_eta_s
    if eta is None and s.stock is not None and s.orders_5m > 0:
        eta = s.stock / (s.orders_5m / 300.0)
    if s.stock is not None and (s.stock <= c.low_stock or (eta is not None and eta <= c.slot_s)):
        values = (float(s.stock), eta) if eta is not None else (float(s.stock),)
        out.append(Driver(ReasonCode.LOW_STOCK, 3.0, values))
    if s.complaint_topics:
        out.append(Driver(ReasonCode.COMPLAINTS, 2.5, label=s.complaint_topics[0]))
    if s.open_questions:
        label = s.question_intents[0] if s.question_intents else ""
        out.append(Driver(ReasonCode.OPEN_QUESTIONS, 2.0, (float(s.open_questions),), label))
    if skipped is not None and now - skipped < c.skip_cooldown_s:
        out.append(Driver(ReasonCode.HOST_SKIPPED, 1.5, (now - skipped,)))
    return out
