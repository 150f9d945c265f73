"""The headline-counts pure-Python baseline of `bench/engine.py`: ~10 figures, per event.

The bench's first baseline, kept beside the same-metrics one (`bench.engine_baseline`) so
readers see both: it counts per (session, second) in dicts and sums windows per tick, and
computes only per-minute counts, GMV (5 min and total), online, unique viewers, unpaid
orders and per-product 5-min sums, far fewer figures than the engine.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson


class PurePython:
    """Per-event dict counters per (session, second); windows summed on each tick (~10 figures)."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()
        self.counts: dict[str, dict[int, dict[str, float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        self.product_counts: dict[str, dict[int, dict[tuple[str, str], float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        self.totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.orders: dict[str, dict[str, str]] = defaultdict(dict)
        self.newest: dict[str, int] = {}
        self.viewers: dict[str, int] = {}
        self.users: dict[str, set[str]] = defaultdict(set)

    def apply(self, raw: bytes) -> None:
        e = orjson.loads(raw)
        session = e["session"]
        key = (session, e["id"])
        if key in self.seen:
            return
        self.seen.add(key)
        second = e["ts"] // 1000
        self.newest[session] = max(self.newest.get(session, 0), e["ts"])
        bucket = self.counts[session][second]
        totals = self.totals[session]
        kind = e["type"]
        bucket[kind] += e.get("count", 1) if kind == "like" else 1
        totals[kind] += 1
        if "user" in e:
            self.users[session].add(e["user"])
        if kind == "viewer_count":
            self.viewers[session] = e["viewers"]
        elif kind in ("product_click", "add_to_cart"):
            self.product_counts[session][second][(e["product"], kind)] += 1
        elif kind == "order":
            previous = self.orders[session].get(e["order_id"])
            self.orders[session][e["order_id"]] = e["status"]
            if e["status"] == "paid" and previous != "paid":
                bucket["gmv"] += e["amount"]
                totals["gmv"] += e["amount"]
                self.product_counts[session][second][(e["product"], "gmv")] += e["amount"]

    def tick(self, now: float) -> list[dict[str, Any]]:
        """Return the headline figures per session (`now` unused: windows end at the newest event)."""
        out = []
        for session, newest in self.newest.items():
            end = newest // 1000
            per_second = self.counts[session]
            minute: dict[str, float] = defaultdict(float)
            for s in range(end - 59, end + 1):
                for k, v in per_second.get(s, {}).items():
                    minute[k] += v
            gmv_5m = sum(per_second.get(s, {}).get("gmv", 0.0) for s in range(end - 299, end + 1))
            products: dict[tuple[str, str], float] = defaultdict(float)
            for s in range(end - 299, end + 1):
                for pk, pv in self.product_counts[session].get(s, {}).items():
                    products[pk] += pv
            unpaid = sum(1 for status in self.orders[session].values() if status == "placed")
            out.append(
                {
                    "session": session,
                    "comments_per_min": minute["comment"],
                    "likes_per_min": minute["like"],
                    "orders_per_min": minute["order"],
                    "gmv_5m": gmv_5m,
                    "gmv_total": self.totals[session]["gmv"],
                    "online": self.viewers.get(session),
                    "unique": len(self.users[session]),
                    "unpaid": unpaid,
                    "products": dict(products),
                }
            )
        return out
