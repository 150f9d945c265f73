"""A plausible live-room event generator, deterministic by seed, with time as a parameter.

`SimulatedSession.events_between(t0, t1)` yields the events of one room for an interval
of simulated time; the caller decides whether that time is the wall clock (demo) or runs
as fast as possible (benchmarks).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

PLATFORMS = ("douyin", "tiktok", "kuaishou", "taobao", "wechat")
CHATTER = ("已拍", "上链接", "3号链接", "多少钱", "扣1", "主播好美", "哈哈哈哈", "好看", "link?", "ordered", "666",
           "有XL吗", "还有货吗", "质量怎么样", "sounds good", "love it", "发货快吗")
COMPLAINTS = ("假货", "质量太差了", "退款", "骗子", "where is my order", "too expensive")


@dataclass(frozen=True, slots=True)
class SimProduct:
    """A product of a simulated room."""

    id: str
    name: str
    price: float
    stock: int


class SimulatedSession:
    """One live room: viewers come and go, comment, like, click, add to cart and order."""

    def __init__(self, session: str, seed: int, rate_per_s: float, start: float) -> None:
        self.session = session
        self.rng = np.random.default_rng(seed)
        self.rate = rate_per_s
        self.platform = PLATFORMS[seed % len(PLATFORMS)]
        self.products = [
            SimProduct(f"p{i}", f"商品{i}", float(self.rng.choice([19.9, 39.0, 59.9, 99.0, 199.0])), 500)
            for i in range(1, 6)
        ]
        self.pinned = self.products[0].id
        self.viewers: list[str] = []
        self.counter = itertools.count(1)
        self.started = False
        self.start = start

    def _event(self, kind: str, ts_ms: int, **fields: object) -> dict[str, object]:
        return {"id": f"{self.session}-{next(self.counter)}", "session": self.session, "type": kind, "ts": ts_ms,
                "platform": self.platform, **fields}

    def events_between(self, t0: float, t1: float) -> Iterator[dict[str, object]]:
        """Events with event time in [t0, t1) (epoch seconds)."""
        if not self.started:
            self.started = True
            yield self._event("session_start", int(t0 * 1000), title=f"Live room {self.session}", host="host",
                              products=[{"id": p.id, "name": p.name, "price": p.price, "stock": p.stock}
                                        for p in self.products])
            yield self._event("product_pin", int(t0 * 1000), product=self.pinned)
        count = int(self.rng.poisson(self.rate * (t1 - t0)))
        times = np.sort(self.rng.uniform(t0, t1, count))
        for t in times:
            yield self._one(int(t * 1000))

    def _one(self, ts: int) -> dict[str, object]:
        r = self.rng.random()
        if r < 0.12 or not self.viewers:
            user = f"v{int(self.rng.integers(1, 1_000_000))}"
            self.viewers.append(user)
            return self._event("join", ts, user=user)
        user = self.viewers[int(self.rng.integers(len(self.viewers)))]
        if r < 0.16 and len(self.viewers) > 5:
            self.viewers.remove(user)
            return self._event("leave", ts, user=user)
        if r < 0.55:
            pool = COMPLAINTS if self.rng.random() < 0.05 else CHATTER
            return self._event("comment", ts, user=user, text=str(pool[int(self.rng.integers(len(pool)))]))
        if r < 0.75:
            return self._event("like", ts, user=user, count=int(self.rng.integers(1, 20)))
        product = self.pinned if self.rng.random() < 0.7 else self.products[int(self.rng.integers(5))].id
        price = next(p.price for p in self.products if p.id == product)
        if r < 0.88:
            return self._event("product_click", ts, user=user, product=product)
        if r < 0.95:
            return self._event("add_to_cart", ts, user=user, product=product)
        if r < 0.97 and self.rng.random() < 0.3:
            self.pinned = self.products[int(self.rng.integers(5))].id
            return self._event("product_pin", ts, product=self.pinned)
        return self._event("order", ts, user=user, product=product, qty=1, amount=price, currency="CNY",
                           status="paid")
