"""A live room with a known hidden world and known incidents, deterministic by seed.

`SimulatedSession.events_between(t0, t1)` yields raw schema-v1 events with event time in
[t0, t1) (epoch seconds). The caller chooses whether that time is the wall clock (demo) or
runs as fast as possible (benchmarks, `--out file.ndjson`); chunking does not change the
events, because the room advances in fixed 1-second steps from `start`.

What happens in a room, per second:

    arrivals   ~ Poisson(target_online / mean_dwell · wave(t))   organic swell + paid bursts (投流)
    dwell      ~ LogNormal(median 90 s, σ 1.1): most viewers glance, a few stay for an hour
    funnel     monitor.market.Market driven by the run of show (pin = 讲解) and by the
               simulated audience size: clicks, carts, orders, late payments, stock
    comments   per viewer: chatter, praise, questions about products, complaints by topic (zh/en)
    likes      bursts per viewer, plus like storms when the host asks
    gifts, follows, shares, viewer_count every 5 s (online and cumulative, as RoomUserSeq)

The host answers most questions: about the pitched product by popping its card again, about
another product by popping that product's card for a moment (弹链接) and returning to the pitch;
a question the host lets pass waits for a later question about the product (each gets its own
chance) or its next pitch. Those pins are what the comment tracker sees as an answer.

A sell-out incident is the next product pitched: when its pitch begins only 3 units are left (the
stock event says so), the host stays on it and viewers rush it until it is gone, so every sell-out
happens on screen, whatever the room size. (Giving it 3 units from the session start let the
background trickle sell them off screen before the pitch in a third of the rooms.)

`sales_scale` multiplies every product's appeal (clicks, hence carts and orders) and its stock:
a room of a strong brand sells more per viewer and stocks accordingly. At 1 the pinned product brings 0–3 carts per 10 s in rooms
of 6–20 events/s, too few for any conversion test; the detector bench uses a larger scale in
every room, incident-free ones included (docs/alerts.md).
Any product whose stock reaches 0 is labelled a sell-out then, injected or not, and the run of show
skips products already sold out.

Incidents (`ingest.incidents`) bend these while they last and are returned by `labels()`.
No leave events by default: platforms do not send them (PLATFORMS.md §0).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np

from ingest import sim_text
from ingest.incidents import Incident, IncidentKind, IncidentLabel, plan
from monitor.market import Market, MarketConfig, MarketProduct, generate_products

PLATFORMS = ("douyin", "tiktok", "kuaishou", "taobao", "wechat")
ENGLISH_SHARE = {"douyin": 0.03, "tiktok": 0.85, "kuaishou": 0.02, "taobao": 0.03, "wechat": 0.05}
NAMES = ("精华液", "羽绒服", "保温杯", "面膜", "丝巾", "牛肉干", "空气炸锅", "运动鞋", "口红", "茶叶", "洗发水", "羊毛衫")
GIFTS = (("小心心", 1), ("玫瑰", 1), ("抖音", 1), ("棒棒糖", 9), ("鲜花", 10), ("跑车", 1200), ("嘉年华", 3000))
EVENTS_PER_ONLINE_VIEWER_S = 0.014  # measured: what one online viewer produces per second, all kinds together
DWELL_MEDIAN_S = 90.0
DWELL_SIGMA = 1.1
VIEWER_COUNT_EVERY_S = 5
STOCK_EVERY_S = 5
WAITING_SHARE = 0.4  # share of the target audience already in the room at the start
HOST_ANSWERS = 0.85  # chance the host answers a question (the rest wait for a later question or the pitch)
ANSWER_DELAY_S = (5.0, 30.0)  # how long a question waits for the host's answer, uniform
SELLOUT_UNITS = 3  # stock of a sell-out incident's product when its pitch begins
SELLOUT_RUSH_PER_S = 0.05  # extra orders per second for the last units of a sell-out incident's product (抢购)
DULL_DWELL = 0.25  # a dwell-drop incident (a dull segment) scales everyone's remaining watch time


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Shape of one simulated room; validated on construction."""

    rate: float = 20.0  # approximate events per second, all kinds
    duration_s: float = 0.0  # 0: endless (demo); otherwise session_end after this long
    n_products: int = 8
    pitch_s: float = 300.0  # mean length of one product's slot in the run of show
    incidents: tuple[IncidentKind, ...] = ()
    leaves: bool = False  # emit `leave` events (no platform does; useful to check dwell estimates)
    sales_scale: float = 1.0  # multiplies product appeal and stock: clicks, carts and orders per viewer

    def __post_init__(self) -> None:
        if not 0.1 <= self.rate <= 100_000:
            raise ValueError(f"rate: expected 0.1-100000 events/s, got {self.rate}")
        if self.duration_s < 0:
            raise ValueError(f"duration_s: expected >= 0, got {self.duration_s}")
        if not 1 <= self.n_products <= 60:
            raise ValueError(f"n_products: expected 1-60, got {self.n_products}")
        if not 0.1 <= self.sales_scale <= 100:
            raise ValueError(f"sales_scale: expected 0.1-100, got {self.sales_scale}")
        if self.pitch_s < 30:
            raise ValueError(f"pitch_s: expected >= 30 seconds, got {self.pitch_s}")


class _AudienceMarket(Market):
    """The seeded market, but its audience is the simulated viewer pool, so crashes cut sales."""

    online = 1

    def viewers(self) -> int:
        """Viewers online now, as counted by the simulator's pool."""
        return max(1, self.online)


class SimulatedSession:
    """One live room: a hidden market, a run of show, an audience, and planned incidents."""

    def __init__(self, session: str, seed: int, rate_per_s: float, start: float,
                 config: SimConfig | None = None) -> None:
        self.session = session
        self.config = config or SimConfig(rate=rate_per_s)
        self.rng = np.random.default_rng(seed)
        self.platform = PLATFORMS[seed % len(PLATFORMS)]
        self.english = ENGLISH_SHARE[self.platform]
        self.start = start
        self.clock = start
        horizon = self.config.duration_s or 3600.0
        market_config = MarketConfig(n_products=self.config.n_products, duration_s=horizon)
        products = generate_products(market_config, self.rng)
        products = tuple(replace(p, name=NAMES[i % len(NAMES)] if self.english < 0.5 else f"item {i + 1}",
                                 appeal=p.appeal * self.config.sales_scale,
                                 stock=int(p.stock * self.config.sales_scale))
                         for i, p in enumerate(products))
        self.incidents = plan(session, self.config.incidents, self.rng, start, horizon, sim_text.TOPICS)
        self.show = self._run_of_show(products, horizon)
        self.incidents = [self._with_product(i) for i in self.incidents]
        sellout = next((i for i in self.incidents if i.kind is IncidentKind.SELL_OUT), None)
        if sellout is not None:  # a scarce product pitched at the incident: it sells out for real
            self.incidents.remove(sellout)
        self.sellout_product = sellout.product if sellout else None
        self.sellout_from = sellout.start if sellout else math.inf
        self.scarce = False  # the sell-out product's stock has been cut to SELLOUT_UNITS
        self.market = _AudienceMarket(products, market_config, self.rng, start)
        self.products = products
        self.index = {p.product: i for i, p in enumerate(products)}
        self.sold_out: set[str] = set()  # products labelled as sold out
        self.target_online = self.config.rate / EVENTS_PER_ONLINE_VIEWER_S
        self.mean_dwell = DWELL_MEDIAN_S * math.exp(DWELL_SIGMA**2 / 2)
        self.present: dict[str, int] = {}  # viewer -> index in self.viewers
        self.viewers: list[str] = []
        self.started = False
        self.departures: list[tuple[float, str]] = []
        self.arrived = 0
        self.pinned: str | None = None
        self.answer_due: dict[str, float] = {}  # product asked about -> when the host answers it
        self.pending: dict[str, deque[tuple[str, str]]] = {p.product: deque() for p in products}
        self.delayed: list[tuple[int, int, dict[str, object]]] = []
        self.last_stock = {p.product: (p.stock, -1e18) for p in products}
        self.ids = itertools.count(1)
        self.orders = itertools.count(1)
        self.ended = False

    # ------------------------------------------------------------------ plan

    def _run_of_show(self, products: tuple[MarketProduct, ...], horizon: float) -> list[tuple[float, str]]:
        """(start time, product) slots cycling through the catalogue, lengths around `pitch_s`."""
        ids = [p.product for p in products]
        show, t, i = [], self.start + 30.0, 0
        while t < self.start + max(horizon, 3600.0) * 2:
            show.append((t, ids[i % len(ids)]))
            t += float(self.rng.uniform(0.6, 1.4)) * self.config.pitch_s
            i += 1
        return show

    def _pinned_at(self, t: float) -> str | None:
        current = None
        for begin, product in self.show:
            if begin > t:
                break
            current = product
        return current

    def _with_product(self, incident: Incident) -> Incident:
        if incident.kind is IncidentKind.SELL_OUT:  # the next product pitched gets scarce stock
            # a pitch the session ends before (or a minute after) cannot sell out: then the one on screen
            last = self.start + (self.config.duration_s or 3600.0) - 60.0
            upcoming = next((p for begin, p in self.show if incident.start <= begin < last), None)
            return replace(incident, product=upcoming or self._pinned_at(incident.start + 1))
        if incident.kind is IncidentKind.QUESTION_SURGE:
            # Viewers ask about a product the host is not pitching, so pinning it would answer them.
            busy = {self._pinned_at(incident.start + 1), self._pinned_at(incident.end)}
            others = sorted({p for _, p in self.show} - busy)
            return replace(incident, product=others[int(self.rng.integers(len(others)))] if others else None)
        if incident.kind in (IncidentKind.CONVERSION_DROP, IncidentKind.SELL_OUT):
            return replace(incident, product=self._pinned_at(incident.start + 1))
        return incident

    def labels(self) -> list[IncidentLabel]:
        """Ground truth so far: planned incidents plus sell-outs that happened."""
        return [i.to_label() for i in sorted(self.incidents, key=lambda i: i.start)]

    # ------------------------------------------------------------------ events

    def _event(self, kind: str, t: float, **fields: object) -> dict[str, object]:
        return {"id": f"{self.session}-{next(self.ids)}", "session": self.session, "type": kind,
                "ts": int(t * 1000), "platform": self.platform, **fields}

    def events_between(self, t0: float, t1: float) -> Iterator[dict[str, object]]:
        """Events with event time before `t1`, advancing the room in whole seconds from `start`.

        The room remembers where it stopped, so `t0` only documents the caller's interval;
        calls must move forward in time.
        """
        del t0
        out: list[dict[str, object]] = []
        if not self.started:
            self.started = True
            out.append(self._event("session_start", self.start, title=f"Live room {self.session}", host="host",
                                   products=[{"id": p.product, "name": p.name, "price": p.price, "stock": p.stock,
                                              "margin": p.margin} for p in self.products]))
            # Viewers who reserved the show (预约) are waiting when it starts, so a room is never empty.
            for _ in range(int(WAITING_SHARE * self.target_online)):
                out.append(self._join(self.start, 1.0))
        while not self.ended and self.clock + 1.0 <= t1:
            out.extend(self._second(self.clock))
            self.clock += 1.0
        # late payments are released once simulated time has passed them, or all at once when the session ended
        while self.delayed and (self.ended or self.delayed[0][0] < int(min(t1, self.clock) * 1000)):
            ts, _, event = heapq.heappop(self.delayed)
            if not self._active(IncidentKind.INGEST_SILENCE, ts / 1000):  # lost like everything else then
                out.append(event)
        out.sort(key=lambda e: e["ts"])  # type: ignore[arg-type, return-value]
        yield from out

    def end(self, t: float) -> list[dict[str, object]]:
        """Stop the show at `t` (the simulator is stopped): its `session_end`, or nothing if it has none to send.

        An endless room would otherwise stay live with no events, and its screens would call
        its adapter broken.
        """
        if self.ended or not self.started:
            return []
        self.ended = True
        return [self._event("session_end", max(t, self.clock))]

    def _active(self, kind: IncidentKind, t: float) -> Incident | None:
        return next((i for i in self.incidents if i.kind is kind and i.active(t)), None)

    def _lang(self) -> str:
        return "en" if self.rng.random() < self.english else "zh"

    def _someone(self) -> str:
        """A random viewer online now (O(1): the pool is a list with an index)."""
        if not self.viewers:
            return "guest"
        return self.viewers[int(self.rng.integers(len(self.viewers)))]

    def _join(self, t: float, dwell_factor: float) -> dict[str, object]:
        """A new viewer arrives at `t` and will stay a log-normal time."""
        self.arrived += 1
        viewer = f"{self.platform[:2]}{seed_digits(self.session)}{self.arrived:07d}"
        dwell = float(self.rng.lognormal(math.log(DWELL_MEDIAN_S), DWELL_SIGMA)) * dwell_factor
        self._arrive(viewer)
        heapq.heappush(self.departures, (t + dwell, viewer))
        return self._event("join", t, user=viewer)

    def _arrive(self, viewer: str) -> None:
        self.present[viewer] = len(self.viewers)
        self.viewers.append(viewer)

    def _second(self, t: float) -> list[dict[str, object]]:
        c = self.config
        rng = self.rng
        out: list[dict[str, object]] = []
        if c.duration_s and t >= self.start + c.duration_s:
            self.ended = True
            return [self._event("session_end", t)]

        def at() -> float:
            """An event time inside this second."""
            return t + float(rng.random())

        # run of show
        pinned = self._pinned_at(t)
        if self.pinned is not None and self.pinned == self.sellout_product and t >= self.sellout_from:
            pinned = self.pinned  # "last few left": the host stays on the scarce product until it is gone
        elif pinned != self.pinned and pinned is not None and self.market.stock[self.index[pinned]] == 0:
            pinned = self.pinned  # the run of show skips a sold-out product: the host stays on the current one
        if pinned is not None and pinned == self.sellout_product and t >= self.sellout_from and not self.scarce:
            i = self.index[pinned]  # "last 3 left" as the pitch begins (shown by a stock event below)
            self.market.stock[i] = min(int(self.market.stock[i]), SELLOUT_UNITS)
            self.scarce = True
        if pinned != self.pinned:
            if self.pinned is not None:
                out.append(self._event("product_unpin", t, product=self.pinned))
            out.append(self._event("product_pin", t, product=pinned))
            self.pinned = pinned
            self.answer_due.pop(pinned or "", None)  # pitching it answers what was asked about it
        # audience: waves of arrivals, log-normal dwell
        elapsed = t - self.start
        wave = min(1.0, 0.5 + elapsed / 1200) * (1.0 + 0.25 * math.sin(elapsed / 900 * 2 * math.pi))
        if int(elapsed) % 900 < 90 and elapsed > 300:
            wave *= 3.0  # paid traffic burst (投流)
        crash = self._active(IncidentKind.VIEWER_CRASH, t)
        if crash and t - crash.start < 1:
            for viewer in list(self.present)[: int(0.6 * len(self.present))]:
                self._leave(viewer, t, out)
        arrivals = int(rng.poisson(self.target_online / self.mean_dwell * wave * (0.15 if crash else 1.0)))
        dull = self._active(IncidentKind.DWELL_DROP, t)
        if dull and t - dull.start < 1:  # a dull segment: viewers already here leave sooner too
            self.departures = [(t + (leave - t) * DULL_DWELL, viewer) for leave, viewer in self.departures]
            heapq.heapify(self.departures)
        short = DULL_DWELL if dull else 1.0
        for _ in range(arrivals):
            out.append(self._join(at(), short))
        while self.departures and self.departures[0][0] <= t:
            _, viewer = heapq.heappop(self.departures)
            self._leave(viewer, t, out)
        online = len(self.present)
        self.market.online = online
        if int(elapsed) % VIEWER_COUNT_EVERY_S == 0:
            out.append(self._event("viewer_count", t, viewers=online, total_viewers=self.arrived))
        self._funnel(t, out, at)
        self._talk(t, online, out, at)
        self._answer(t, out)
        if self._active(IncidentKind.INGEST_SILENCE, t):
            return [e for e in out if e["type"] == "session_end"]
        return out

    def _leave(self, viewer: str, t: float, out: list[dict[str, object]]) -> None:
        index = self.present.pop(viewer, None)
        if index is None:
            return
        last = self.viewers.pop()
        if last != viewer:  # swap-remove keeps picking a random viewer O(1)
            self.viewers[index] = last
            self.present[last] = index
        if self.config.leaves:
            out.append(self._event("leave", t, user=viewer))

    def _funnel(self, t: float, out: list[dict[str, object]], at: Callable[[], float]) -> None:
        rng = self.rng
        step = self.market.step(self.pinned, 1.0)
        drop = self._active(IncidentKind.CONVERSION_DROP, t)
        for outcome, product in zip(step.outcomes, self.products, strict=True):
            i = self.products.index(product)
            clicks, carts, orders, paid = outcome.clicks, outcome.carts, outcome.orders, outcome.paid
            if orders == 0 and self.market.stock[i] == 0:
                carts = 0  # sold out before this second: the cart button is gone, viewers can only look
            if product.product == self.sellout_product == self.pinned and t >= self.sellout_from:
                # "only a few left": viewers rush the scarce product, so it sells out in small rooms too
                rush = min(int(rng.poisson(SELLOUT_RUSH_PER_S)), int(self.market.stock[i]))
                self.market.stock[i] -= rush
                clicks, carts, orders, paid = clicks + rush, carts + rush, orders + rush, paid + rush
            if drop and product.product == self.pinned and orders:
                # buyers of what is on screen hesitate (price or checkout trouble): the scheduled
                # product may be off screen or barely selling, and then nothing would be seen
                kept = int(rng.binomial(orders, 0.15))  # buyers hesitate: carts stay, orders vanish
                self.market.stock[i] += orders - kept
                self.market.unpaid[i] -= max(0, (orders - paid) - max(0, kept - paid))
                paid, orders = min(paid, kept), kept
            for _ in range(clicks):
                out.append(self._event("product_click", at(), user=self._someone(), product=product.product))
            for _ in range(carts):
                out.append(self._event("add_to_cart", at(), user=self._someone(), product=product.product))
            for _ in range(orders):
                order_id = f"{self.session}-o{next(self.orders)}"
                buyer = self._someone()
                self.pending[product.product].append((order_id, buyer))
                out.append(self._event("order", at(), user=buyer, product=product.product, amount=product.price,
                                       currency="CNY", status="placed", order_id=order_id))
            for _ in range(min(paid, len(self.pending[product.product]))):
                order_id, buyer = self.pending[product.product].popleft()
                pay_t = t + float(rng.uniform(1, 20))
                event = self._event("order", pay_t, user=buyer, product=product.product, amount=product.price,
                                    currency="CNY", status="paid", order_id=order_id)
                ts = event["ts"]
                assert isinstance(ts, int)  # `_event` stamps milliseconds as an int
                heapq.heappush(self.delayed, (ts, next(self.ids), event))
            stock = int(self.market.stock[i])
            last, when = self.last_stock[product.product]
            if stock != last and (t - when >= STOCK_EVERY_S or stock == 0):
                out.append(self._event("stock", t, product=product.product, stock=stock))
                self.last_stock[product.product] = (stock, t)
                if stock == 0 and product.product not in self.sold_out:
                    # injected or not, a sell-out is labelled when it happens: alerting on it is right
                    self.sold_out.add(product.product)
                    self.incidents.append(Incident(IncidentKind.SELL_OUT, self.session, t,
                                                   self.start + (self.config.duration_s or 3600.0),
                                                   product=product.product))
                    if product.product == self.sellout_product:
                        self.sellout_product = None

    def _talk(self, t: float, online: int, out: list[dict[str, object]], at: Callable[[], float]) -> None:
        rng = self.rng

        def say(text: str, user: str | None = None) -> None:
            out.append(self._event("comment", at(), user=user or self._someone(), text=text))

        for _ in range(int(rng.poisson(online * 0.004))):
            lang, r = self._lang(), rng.random()
            if r < 0.6:
                say(sim_text.chatter(rng, lang))
            elif r < 0.82:
                say(sim_text.praise(rng, lang))
            elif r < 0.94:
                index, name = self._product_ref()
                text = sim_text.question(rng, lang, index, name)
                say(text)
                named = any(ref in text for ref in (f"{index}号", f"#{index}", name))
                self._asked(self.products[index - 1].product if named else self.pinned, t)
            else:
                say(sim_text.complaint(rng, lang, sim_text.TOPICS[int(rng.integers(len(sim_text.TOPICS)))]))
        storm = self._active(IncidentKind.NEGATIVE_STORM, t)
        if storm:
            for _ in range(int(rng.poisson(max(1.5, online * 0.004)))):
                say(sim_text.complaint(rng, self._lang(), storm.topic or "quality"))
        surge = self._active(IncidentKind.QUESTION_SURGE, t)
        if surge:
            index = next((k + 1 for k, p in enumerate(self.products) if p.product == surge.product), 1)
            for _ in range(int(rng.poisson(max(1.0, online * 0.003)))):
                say(sim_text.question_about(rng, self._lang(), index, self.products[index - 1].name))
        raid = self._active(IncidentKind.RAID, t)
        if raid:
            for k in range(int(rng.poisson(3.0))):
                raider = f"raid{int(rng.integers(40)):02d}{seed_digits(self.session)}"
                if raider not in self.present:
                    self._arrive(raider)
                    heapq.heappush(self.departures, (raid.end, raider))
                    out.append(self._event("join", at(), user=raider))
                say(sim_text.raid(rng, self._lang(), k), raider)
        for _ in range(int(rng.poisson(online * 0.003 * (6.0 if int(t - self.start) % 300 < 10 else 1.0)))):
            out.append(self._event("like", at(), user=self._someone(), count=int(rng.geometric(1 / 8))))
        for _ in range(int(rng.poisson(online * 0.0004))):
            name, value = GIFTS[min(len(GIFTS) - 1, int(rng.geometric(0.45)) - 1)]
            count = int(rng.geometric(0.5))
            out.append(self._event("gift", at(), user=self._someone(), gift=name, count=count,
                                   value=float(value * count)))
        for kind, rate in (("follow", 0.0002), ("share", 0.0001)):
            for _ in range(int(rng.poisson(online * rate))):
                out.append(self._event(kind, at(), user=self._someone()))

    def _asked(self, product: str | None, t: float) -> None:
        """Plan the host's answer to the first open question about `product`.

        A question the host lets pass plans nothing, so the next question about the product
        gets its own chance: remembering "not answered" until the product's next pitch made
        every later question about it wait too, and open groups piled up by the dozen.
        """
        if product is None or product in self.answer_due:
            return
        if self.rng.random() < HOST_ANSWERS:
            self.answer_due[product] = t + float(self.rng.uniform(*ANSWER_DELAY_S))

    def _answer(self, t: float, out: list[dict[str, object]]) -> None:
        """The host answers due questions by popping the product's card; a surge's product is ignored."""
        surge = self._active(IncidentKind.QUESTION_SURGE, t)
        for product, due in sorted(self.answer_due.items()):
            if due > t or (surge is not None and surge.product == product):
                continue
            del self.answer_due[product]
            out.append(self._event("product_pin", t + 0.3, product=product))
            if product != self.pinned and self.pinned is not None:  # back to the pitch within the second
                out.append(self._event("product_pin", t + 0.8, product=self.pinned))

    def _product_ref(self) -> tuple[int, str]:
        rng = self.rng
        if self.pinned is not None and rng.random() < 0.6:
            index = next(k for k, p in enumerate(self.products) if p.product == self.pinned)
        else:
            index = int(rng.integers(len(self.products)))
        return index + 1, self.products[index].name


def seed_digits(session: str) -> str:
    """A short stable tag of the session so viewer ids of different rooms do not collide."""
    return f"{sum(session.encode()) % 1000:03d}"
