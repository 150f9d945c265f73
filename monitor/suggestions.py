"""Which product the host should pitch next, and why: a per-session Suggester.

Method (docs/suggestions.md has the long form):

1. **Learn.** `monitor.product_beliefs.FunnelBeliefs`: per product, posteriors on clicks
   per pitch-minute, carts per click and orders per cart, from the counts in the signals,
   with priors from a catalogue model fitted across the session's products (log-linear in
   price), plus earlier sessions' results.
2. **Explore/exploit.** Thompson sampling: draw a rate from each posterior, value the next
   pitch as `rate · fatigue · slot minutes`, capped by stock, times price (tilted by margin
   when known), plus the unpaid orders (压单) a reminder would recover, times penalties for
   open questions, complaints and host skips.
3. **Constrain.** Out-of-stock products, products outside their run-of-show slot and
   products within their minimum gap are never suggested; an unpitched must-pitch item is
   pushed to the top when its deadline nears.
4. **Stabilise.** Each product's draw is a held standard-normal quantile `z`, redrawn every
   `resample_s`, applied to a log-normal match of its current posterior: new evidence moves
   the sample at once while the noise changes only at redraws. The top suggestion changes
   only when a challenger beats it by `hysteresis` for `confirm_s`, or becomes ineligible.

The Suggester is pure: it sees `ProductSignals` and `now`, takes a seeded numpy Generator,
and round-trips through `to_state()` / `from_state()`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from monitor.product_beliefs import FunnelBeliefs, Pooled, PriorResult
from monitor.product_signals import ProductSignals
from monitor.run_of_show import RunOfShow
from monitor.suggestion_config import SuggestionConfig
from monitor.suggestion_reasons import Driver, ReasonCode, compose

MIN_CLICKS_FOR_RATES = 10  # below this, a 5-minute cart or purchase rate is noise, not a reason


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One ranked product: `score` is the sampled GMV value of pitching it next."""

    product: str
    rank: int
    score: float
    reason: str
    reason_zh: str
    reason_codes: tuple[ReasonCode, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot form (`suggestions[]`)."""
        return {
            "product": self.product,
            "rank": self.rank,
            "score": round(self.score, 2),
            "reason": self.reason,
            "reason_zh": self.reason_zh,
            "reason_codes": [c.value for c in self.reason_codes],
        }


@dataclass(frozen=True, slots=True)
class Attribution:
    """How much of the session's pinned GMV followed a suggestion."""

    pins: int
    followed_pins: int
    gmv_pinned: float
    gmv_followed: float
    accepted: int
    skipped: int


@dataclass(slots=True)
class _Context:
    """Session-wide comparison figures for one tick."""

    pooled: Pooled
    mean_margin: float | None
    cart_rate: float
    conversion: float
    scale: float = 1.0  # current audience in thousands (1 when rates are not per viewer)
    gmv_rate: float = 0.0  # mean expected GMV per pitch-minute now, over in-stock products


def _price(s: ProductSignals) -> float:
    """List price, else the average paid order value seen, else 1 (rank by units)."""
    return s.price or (s.gmv_total / s.paid_total if s.paid_total else 1.0)


@dataclass(slots=True)
class _Scored:
    signals: ProductSignals
    score: float
    forced_deadline: float | None
    drivers: list[Driver] = field(default_factory=list)


class Suggester:
    """Ranks one session's products every tick; remembers evidence, choices and pins."""

    def __init__(
        self,
        config: SuggestionConfig | None = None,
        plan: RunOfShow | None = None,
        session_start: float | None = None,
        earlier: Mapping[str, PriorResult] | None = None,
    ) -> None:
        self.config = config or SuggestionConfig()
        self.plan = plan
        self.session_start = session_start
        self.beliefs = FunnelBeliefs(self.config, earlier)
        self._z: dict[str, float] = {}  # held posterior quantiles, as standard-normal scores
        self._sampled_at = -math.inf
        self._top: str | None = None
        self._challenger: str | None = None
        self._challenger_since = 0.0
        self._skips: dict[str, float] = {}
        self._accepts: dict[str, float] = {}
        self._shown: dict[str, float] = {}
        self._choices: list[tuple[str, bool, float]] = []
        self._pins: list[tuple[str, float, bool]] = []
        self._current_pin_followed = False
        self._gmv_pinned = 0.0
        self._gmv_followed = 0.0

    # ------------------------------------------------------------------ host feedback

    def record_choice(self, product: str, accepted: bool, now: float) -> None:
        """Record that the host accepted or skipped `product` at `now`.

        A skip keeps the product off the top for `skip_hold_s` (unless nothing else is
        eligible) and lowers its score by `skip_penalty`, fading over `skip_cooldown_s`; an
        accept makes a following pin count as following the suggestion.
        """
        self._choices.append((product, accepted, now))
        if accepted:
            self._accepts[product] = now
            self._skips.pop(product, None)
        else:
            self._skips[product] = now
            if self._top == product:
                self._top = None

    def attribute_pin(self, product: str, now: float) -> bool:
        """Record a pin of `product` at `now`; return whether it followed a suggestion.

        It follows one when the product was among the top `top_k` suggestions, or was accepted,
        within `window_s` before the pin. `rank` calls this itself when it sees a new pin.
        """
        window = self.config.window_s
        shown = self._shown.get(product)
        accepted = self._accepts.get(product)
        followed = (shown is not None and 0 <= now - shown <= window) or (
            accepted is not None and 0 <= now - accepted <= window
        )
        self._pins.append((product, now, followed))
        self._current_pin_followed = followed
        return followed

    def attribution(self) -> Attribution:
        """Summarise pins and the GMV sold while a pin that followed a suggestion was on."""
        return Attribution(
            pins=len(self._pins),
            followed_pins=sum(1 for p in self._pins if p[2]),
            gmv_pinned=round(self._gmv_pinned, 2),
            gmv_followed=round(self._gmv_followed, 2),
            accepted=sum(1 for c in self._choices if c[1]),
            skipped=sum(1 for c in self._choices if not c[1]),
        )

    def results(self) -> dict[str, PriorResult]:
        """This session's pitched results per product, to pass as `earlier` next time."""
        return self.beliefs.results()

    # ------------------------------------------------------------------ ranking

    def rank(
        self,
        signals: Sequence[ProductSignals],
        now: float,
        rng: np.random.Generator,
        audience: float | None = None,
    ) -> list[Suggestion]:
        """Fold in the latest signals and return eligible products, best first.

        Args:
            signals: every product of the session, as observed at `now`.
            now: epoch seconds; calls must not go back in time.
            rng: seeded generator for the Thompson samples.
            audience: online viewers (the snapshot's `online`). When given, rates are learnt
                per 1,000 viewers, so a product pitched while the room was still filling up is
                not mistaken for a weak one; pass it on every call or on none.
        """
        if self.session_start is None:
            self.session_start = now
        scale = audience / 1000.0 if audience else 1.0
        self._observe(signals, now, scale)
        ctx = self._context(signals, scale)
        if now - self._sampled_at >= self.config.resample_s:
            self._z = {s.product: float(rng.standard_normal()) for s in signals}
            self._sampled_at = now
        for s in signals:
            if s.product not in self._z:
                self._z[s.product] = float(rng.standard_normal())
        scored = [sc for s in signals if (sc := self._score(s, ctx, now)) is not None]
        forced = sorted((sc for sc in scored if sc.forced_deadline is not None), key=lambda sc: sc.forced_deadline or 0)
        free = sorted((sc for sc in scored if sc.forced_deadline is None), key=lambda sc: -sc.score)
        free = self._stabilise(free, now)
        free = self._respect_skips(free, now)
        ordered = forced + free
        if ordered:
            self._top = ordered[0].signals.product
        for sc in ordered[: self.config.top_k]:
            self._shown[sc.signals.product] = now
        out = []
        for index, sc in enumerate(ordered, start=1):
            reason, reason_zh, codes = compose(sc.drivers)
            out.append(Suggestion(sc.signals.product, index, sc.score, reason, reason_zh, codes))
        return out

    def _observe(self, signals: Sequence[ProductSignals], now: float, scale: float) -> None:
        """Learn from the new counts; attribute new pins and the GMV sold during pins."""
        for seen in self.beliefs.observe(signals, now, scale):
            if seen.new_pin:
                self.attribute_pin(seen.product, now)
            elif self.beliefs.pin_started(seen.product) is not None:
                self._gmv_pinned += seen.gmv
                if self._current_pin_followed:
                    self._gmv_followed += seen.gmv

    def _context(self, signals: Sequence[ProductSignals], scale: float) -> _Context:
        """Session-wide figures every product is compared with, computed once per tick."""
        margins = [x.margin for x in signals if x.margin is not None]
        clicks_5m = sum(x.clicks_5m for x in signals)
        ctx = _Context(
            pooled=self.beliefs.pooled(signals),
            mean_margin=sum(margins) / len(margins) if margins else None,
            cart_rate=sum(x.carts_5m for x in signals) / clicks_5m if clicks_5m else 0.0,
            conversion=sum(x.orders_5m for x in signals) / clicks_5m if clicks_5m else 0.0,
            scale=scale,
        )
        in_stock = [x for x in signals if not x.out_of_stock]
        if in_stock:
            rates = (self.beliefs.mean_rate(x, ctx.pooled) * _price(x) for x in in_stock)
            ctx.gmv_rate = scale * sum(rates) / len(in_stock)
        return ctx

    def _eligible(self, s: ProductSignals, now: float) -> bool:
        if s.out_of_stock:
            return False
        offset = now - (self.session_start or now)
        item = self.plan.item(s.product) if self.plan else None
        if item is not None and not item.in_slot(offset) and not s.pinned:
            return False
        gap = self.plan.gap_s(s.product, self.config.min_gap_s) if self.plan else self.config.min_gap_s
        return s.pinned or s.last_pitch_end_ts is None or now - s.last_pitch_end_ts >= gap

    def _must_pitch_deadline(self, s: ProductSignals, now: float) -> float | None:
        """Seconds left to pitch an unpitched must-pitch item, when that is under the lead time."""
        if self.plan is None or s.pinned or s.pitch_count > 0:
            return None
        item = self.plan.item(s.product)
        if item is None or not item.must_pitch:
            return None
        end = item.end_s if item.end_s is not None else self.plan.duration_s
        if end is None:
            return None
        left = end - (now - (self.session_start or now))
        return left if left <= self.config.must_pitch_lead_s else None

    def _score(self, s: ProductSignals, ctx: _Context, now: float) -> _Scored | None:
        if not self._eligible(s, now):
            return None
        c = self.config
        price = _price(s)
        if s.pinned:
            tau = now - (self.beliefs.pin_started(s.product) or now)
            freshness = math.exp(-tau / c.within_pitch_decay_s)
        else:
            freshness = self.beliefs.fatigue(s.product, c.slot_s)
        units = self.beliefs.sample(s, ctx.pooled, self._z[s.product]) * ctx.scale * freshness * c.slot_s / 60.0
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
        skipped = self._skips.get(s.product)
        if skipped is not None:
            value *= 1.0 - c.skip_penalty * math.exp(-(now - skipped) / c.skip_cooldown_s)
        deadline = self._must_pitch_deadline(s, now)
        scored = _Scored(s, max(0.0, value), deadline)
        scored.drivers = self._drivers(s, ctx, now, price, freshness, recovered, value, deadline)
        return scored

    def _drivers(
        self,
        s: ProductSignals,
        ctx: _Context,
        now: float,
        price: float,
        freshness: float,
        recovered: float,
        value: float,
        deadline: float | None,
    ) -> list[Driver]:
        """The signals that moved this product's score, each weighted by how much it did."""
        c = self.config
        strong = c.strong_ratio
        out: list[Driver] = []
        if deadline is not None:
            out.append(Driver(ReasonCode.MUST_PITCH, 100.0, (max(0.0, deadline),)))
        if s.pinned and freshness > 0.5:
            out.append(Driver(ReasonCode.KEEP_PITCHING, 5.0))
        gmv_rate = self.beliefs.mean_rate(s, ctx.pooled) * price * ctx.scale
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
            label = s.question_intents[0] if s.question_intents else "the product"
            out.append(Driver(ReasonCode.OPEN_QUESTIONS, 2.0, (float(s.open_questions),), label))
        skipped = self._skips.get(s.product)
        if skipped is not None and now - skipped < c.skip_cooldown_s:
            out.append(Driver(ReasonCode.HOST_SKIPPED, 1.5, (now - skipped,)))
        return out

    def _stabilise(self, free: list[_Scored], now: float) -> list[_Scored]:
        """Keep the current top first unless a challenger clearly and persistently beats it."""
        if not free or self._top is None:
            self._challenger = None
            return free
        incumbent = next((sc for sc in free if sc.signals.product == self._top), None)
        best = free[0]
        if incumbent is None or incumbent is best:
            self._challenger = None
            return free
        if best.score > incumbent.score * (1.0 + self.config.hysteresis):
            if self._challenger != best.signals.product:
                self._challenger, self._challenger_since = best.signals.product, now
            if now - self._challenger_since >= self.config.confirm_s:
                self._challenger = None
                return free
        else:
            self._challenger = None
        return [incumbent] + [sc for sc in free if sc is not incumbent]

    def _respect_skips(self, free: list[_Scored], now: float) -> list[_Scored]:
        """Keep a product the host just skipped off the top for `skip_hold_s`, if anything else is left."""
        hold = self.config.skip_hold_s
        fresh = [sc for sc in free if now - self._skips.get(sc.signals.product, -math.inf) >= hold]
        if not fresh or fresh[0] is free[0]:
            return free
        return [fresh[0]] + [sc for sc in free if sc is not fresh[0]]

    # ------------------------------------------------------------------ checkpoint

    def to_state(self) -> dict[str, Any]:
        """Return the learning, stability and attribution state as JSON-ready data."""
        return {
            "session_start": self.session_start,
            "beliefs": self.beliefs.to_state(),
            "z": self._z,
            "sampled_at": None if math.isinf(self._sampled_at) else self._sampled_at,
            "top": self._top,
            "challenger": [self._challenger, self._challenger_since],
            "skips": self._skips,
            "accepts": self._accepts,
            "shown": self._shown,
            "choices": [list(c) for c in self._choices],
            "pins": [list(p) for p in self._pins],
            "current_pin_followed": self._current_pin_followed,
            "gmv": [self._gmv_pinned, self._gmv_followed],
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], config: SuggestionConfig | None = None, plan: RunOfShow | None = None
    ) -> Suggester:
        """Rebuild a Suggester from `to_state` output (config and plan are not part of state)."""
        out = cls(config, plan, state["session_start"])
        out.beliefs = FunnelBeliefs.from_state(out.config, state["beliefs"])
        out._z = dict(state["z"])
        out._sampled_at = -math.inf if state["sampled_at"] is None else state["sampled_at"]
        out._top = state["top"]
        out._challenger, out._challenger_since = state["challenger"]
        out._skips = dict(state["skips"])
        out._accepts = dict(state["accepts"])
        out._shown = dict(state["shown"])
        out._choices = [(p, bool(a), float(t)) for p, a, t in state["choices"]]
        out._pins = [(p, float(t), bool(f)) for p, t, f in state["pins"]]
        out._current_pin_followed = state["current_pin_followed"]
        out._gmv_pinned, out._gmv_followed = state["gmv"]
        return out
