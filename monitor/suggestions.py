"""Which product the host should pitch next, and why: a per-session Suggester.

Method (docs/suggestions.md has the long form):

1. **Learn.** `monitor.product_beliefs.FunnelBeliefs`: per product, posteriors on clicks
   per pitch-minute, carts per click and orders per cart, from the counts in the signals,
   with priors from a catalogue model fitted across the session's products (log-linear in
   price), plus earlier sessions' results.
2. **Explore/exploit.** `monitor.suggestion_scoring`: Thompson sampling: draw a rate from
   each posterior, value the next pitch as `rate · fatigue · slot minutes`, capped by stock,
   times price (tilted by margin when known), plus the unpaid orders (压单) a reminder would
   recover, times penalties for open questions, complaints and host skips.
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
from typing import Any

import numpy as np

from monitor.product_beliefs import FunnelBeliefs, PriorResult
from monitor.product_signals import ProductSignals
from monitor.run_of_show import RunOfShow
from monitor.suggestion_config import SuggestionConfig
from monitor.suggestion_reasons import compose
from monitor.suggestion_records import Attribution, Suggestion
from monitor.suggestion_scoring import Scored, score_pitch, tick_context


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
        ctx = tick_context(self.config, self.beliefs, signals, scale)
        if now - self._sampled_at >= self.config.resample_s:
            self._z = {s.product: float(rng.standard_normal()) for s in signals}
            self._sampled_at = now
        for s in signals:
            if s.product not in self._z:
                self._z[s.product] = float(rng.standard_normal())
        scored = [
            score_pitch(s, ctx, now, self._z[s.product], self._skips.get(s.product), self._must_pitch_deadline(s, now))
            for s in signals
            if self._eligible(s, now)
        ]
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

    def _stabilise(self, free: list[Scored], now: float) -> list[Scored]:
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

    def _respect_skips(self, free: list[Scored], now: float) -> list[Scored]:
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
