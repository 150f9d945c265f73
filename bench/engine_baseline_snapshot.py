"""Snapshots of the per-event baseline, and how far they agree with the engine's.

`snapshot` builds the same keys as `monitor.snapshot` from a baseline `Session`, by the
formulas of docs/metrics.md. `agreement` compares two snapshots figure by figure:
numbers within 1e-6 relative, everything else equal; products matched by id (their row
order is first sight, which depends on how arrivals are batched); the names in
`EXCLUDED` are not compared, each for the reason given there.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from bench.engine_baseline_parts import (
    CARTS,
    CLICKERS,
    CLICKS,
    COMMENTS,
    DWELL_N,
    DWELL_SUM,
    EVENTS,
    FOLLOWS,
    GMV,
    INTERACTORS,
    JOINS,
    LEAVES,
    LEAVES_EST,
    LIKES,
    ORDERS,
    P_CARTS,
    P_CLICKS,
    P_GMV,
    P_ORDERS,
    P_PAID,
    PAID,
    REFUND_N,
    REFUNDS,
    SESSION_CHANNELS,
    SHARES,
)

if TYPE_CHECKING:
    from bench.engine_baseline import Session

# Figures not compared, and why (each one by name, never silently)
EXCLUDED = {
    "products.pitch_uplift": "depends on how arrivals are batched: the engine folds a batch's clicks before its pins, "
    "so a click arriving after a pin in the same batch is outside the pitch (docs: approximate near the pin instant)",
}
M_ENTRIES, M_LEAVES, M_GMV, M_COMMENTS, M_ONLINE_SUM, M_ONLINE_N = range(6)  # minute rows
# Channels of the trends, as (key, channel, per-minute?)
TRENDS = [
    ("comments_per_min", COMMENTS),
    ("likes_per_min", LIKES),
    ("orders_per_min", ORDERS),
    ("entries_per_min", JOINS),
    ("clicks_per_min", CLICKS),
]


def ratio(numerator: float, denominator: float, digits: int = 4) -> float | None:
    """numerator ÷ denominator rounded; None (unknown) when the denominator is 0."""
    return round(numerator / denominator, digits) if denominator else None


def trend(now: float | None, before: float | None, flat: float) -> dict[str, Any]:
    """Last N s against the N s before; "flat" within `flat` of the earlier value."""
    if now is None or before is None:
        return {"now": now, "before": before, "delta": None, "direction": None}
    delta = now - before
    still = abs(delta) <= flat * abs(before) or now == before == 0
    direction = "flat" if still else "up" if delta > 0 else "down"
    return {"now": round(now, 4), "before": round(before, 4), "delta": round(delta, 4), "direction": direction}


def snapshot(s: Session, now: float) -> dict[str, Any]:
    """Return the session's snapshot (keys of `monitor.snapshot.snapshot`)."""
    cfg, t, w = s.cfg, s.totals, s.windows
    rate, recent, dwell, cur, before = (w.sums(i, None) for i in range(5))
    per_min, n, flat = 60.0 / cfg.rate_window_s, cfg.trend_window_s, cfg.trend_flat_ratio
    clock_s = s.clock_ms // 1000
    views = s.total_viewers or t[JOINS]
    buyers, unique, online = len(s.orders.buyers), len(s.viewers), s.online
    hist = s.visits

    def minute(window: list[float], channel: int) -> float:
        return round(window[channel] * 60.0 / n, 3)

    trends = {"online": trend(*_online_means(s, clock_s), flat)}
    trends |= {key: trend(minute(cur, c), minute(before, c), flat) for key, c in TRENDS}
    trends["gmv"] = trend(cur[GMV], before[GMV], flat)
    watch = [ratio(x[DWELL_SUM], x[DWELL_N], 1) for x in (cur, before)]
    trends["avg_watch_s"] = trend(watch[0], watch[1], flat)
    snap: dict[str, Any] = {
        "session": s.id,
        "platform": s.platform,
        "title": s.title,
        "host": s.host,
        "live": s.live,
        "ended_at": None if s.ended_ms is None else s.ended_ms / 1000,
        "online": online,
        "online_estimated": s.online_estimated,
        "peak_online": s.peak_online,
        "unique_viewers": unique,
        "views": int(views),
        "views_estimated": not s.total_viewers,
        "entries_per_min": round(rate[JOINS] * per_min, 3),
        "leaves_per_min": round((rate[LEAVES] + rate[LEAVES_EST]) * per_min, 3),
        "leaves_estimated": bool(rate[LEAVES_EST]),
        "comments_per_min": round(rate[COMMENTS] * per_min, 3),
        "likes_per_min": round(rate[LIKES] * per_min, 3),
        "orders_per_min": round(rate[ORDERS] * per_min, 3),
        "interaction_rate": ratio(rate[INTERACTORS], online),
        "click_rate": ratio(rate[CLICKERS], online),
        "follows_total": int(t[FOLLOWS]),
        "shares_total": int(t[SHARES]),
        "comments_total": int(t[COMMENTS]),
        "likes_total": int(t[LIKES]),
        "clicks_total": int(t[CLICKS]),
        "carts_total": int(t[CARTS]),
        "orders_total": int(t[ORDERS]),
        "paid_total": int(t[PAID]),
        "unpaid": s.orders.unpaid_total,
        "payment_rate": ratio(t[PAID], t[ORDERS]),
        "cart_rate": ratio(t[CARTS], t[CLICKS]),
        "buyers": buyers,
        "click_to_purchase": ratio(buyers, len(s.clickers)),
        "conversion": ratio(buyers, unique),
        "gmv_total": round(t[GMV], 2),
        "gmv_5m": round(recent[GMV], 2),
        "refunds": int(t[REFUND_N]),
        "refund_amount": round(t[REFUNDS], 2),
        "gmv_net": round(t[GMV] - t[REFUNDS], 2),
        "gpm": round(1000.0 * t[GMV] / views, 2) if views else None,
        "uv_value": ratio(t[GMV], unique, 2),
        "avg_order_value": ratio(t[GMV], t[PAID], 2),
        "avg_watch_s": ratio(hist.total_s, hist.closed, 1),
        "median_watch_s": hist.median_session(),
        "avg_watch_s_15m": ratio(dwell[DWELL_SUM], dwell[DWELL_N], 1),
        "median_watch_s_15m": hist.median_recent(),
        "watch_estimated": hist.closed_estimated > 0 or not t[LEAVES],
        "events_total": int(t[EVENTS]),
        "last_event_ts": s.newest_ms,
        "late_events": s.late_events,
        "watermark_ts": s.watermark_ms,
        "trend": trends,
        "products": s.products.rows(s.clock_ms, s.orders.unpaid),
        "recent_comments": [{"id": i, "ts": ts, "text": text} for ts, i, text in s.comments],
    }
    if s.last_series is None or now - s.last_series >= cfg.series_interval_s:
        s.last_series = now
        snap["series"] = _series(s, clock_s)
        snap["markers"] = sorted(s.markers, key=lambda m: m["ts"])
    return snap


def _minutes(s: Session, clock_s: int, count: int) -> list[list[float]]:
    """The `count` minute rows ending with the clock's minute, oldest first (zeros when empty)."""
    end = clock_s // 60
    return [s.minutes.get(m) or [0.0] * 6 for m in range(end - count + 1, end + 1)]


def _online_means(s: Session, clock_s: int) -> tuple[float | None, float | None]:
    """Mean online samples of the last N minutes and of the N before."""
    n = max(1, s.cfg.trend_window_s // 60)
    rows = _minutes(s, clock_s, 2 * n)

    def mean(part: list[list[float]]) -> float | None:
        count = sum(r[M_ONLINE_N] for r in part)
        return round(sum(r[M_ONLINE_SUM] for r in part) / count, 1) if count else None

    return mean(rows[n:]), mean(rows[:n])


def _series(s: Session, clock_s: int) -> dict[str, Any]:
    count = s.cfg.series_minutes
    rows = _minutes(s, clock_s, count)
    return {
        "start": (clock_s // 60 - count + 1) * 60,
        "step": 60,
        "online": [round(r[M_ONLINE_SUM] / r[M_ONLINE_N], 1) if r[M_ONLINE_N] else None for r in rows],
        "entries": [int(r[M_ENTRIES]) for r in rows],
        "leaves": [int(r[M_LEAVES]) for r in rows],
        "gmv": [round(r[M_GMV], 2) for r in rows],
        "comments": [int(r[M_COMMENTS]) for r in rows],
    }


def closed_bin(s: Session, start: int) -> dict[str, Any]:
    """The closed 10-s bin at `start`: the fields of `monitor.bins.Bin` the core fills, from the buckets."""
    c = [0.0] * SESSION_CHANNELS
    for second in range(start, start + 10):
        row = s.windows.buckets.get(second, {}).get(None)
        if row is not None:
            c = [a + b for a, b in zip(c, row)]
    table = s.products
    rows = table.windows.buckets.get(start // 10, {})
    shown = sorted(p for p, product in table.products.items() if product.pinned or any(rows.get(p, ())))
    products = []
    for pid in shown:
        r, product = rows.get(pid) or [0.0] * 8, table.products[pid]
        counts = {"clicks": r[P_CLICKS], "carts": r[P_CARTS], "orders": r[P_ORDERS], "paid": r[P_PAID]}
        products.append(
            {"product": pid, **{k: int(v) for k, v in counts.items()}, "gmv": round(r[P_GMV], 2)}
            | {"stock": table.stock_left(product), "pinned": product.pinned, "name": product.name}
        )
    return {
        "session": s.id,
        "start": start,
        "viewers": s.online,
        "viewers_estimated": s.online_estimated,
        "joins": int(c[JOINS]),
        "leaves": int(c[LEAVES]),
        "comments": int(c[COMMENTS]),
        "clicks": int(c[CLICKS]),
        "carts": int(c[CARTS]),
        "orders": int(c[ORDERS]),
        "paid": int(c[PAID]),
        "gmv": round(c[GMV], 2),
        "avg_dwell_s": round(c[DWELL_SUM] / c[DWELL_N], 1) if c[DWELL_N] else None,
        "events": int(c[EVENTS]),
        "products": products,
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b or a == b and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _figures(snap: dict[str, Any]) -> dict[str, Any]:
    """Flatten a snapshot to figure name -> value (`trend.gmv.now`, `products.clicks_5m[p3]`, `series.online`)."""
    out: dict[str, Any] = {}
    for key, value in snap.items():
        if key == "products":
            for row in value:
                out |= {f"products.{k}[{row['product']}]": v for k, v in row.items() if k != "product"}
        elif key in ("trend", "series"):
            for name, part in value.items():
                if isinstance(part, dict):
                    out |= {f"{key}.{name}.{k}": v for k, v in part.items()}
                else:
                    out[f"{key}.{name}"] = part
        else:
            out[key] = value
    return out


def agreement(engine: dict[str, Any], baseline: dict[str, Any]) -> tuple[set[str], dict[str, tuple[Any, Any]]]:
    """Compare two snapshots of one session: (names of figures compared, {name: (engine, baseline)} that differ).

    A product figure is named without its product (`products.clicks_5m`) in the first set.
    A figure only one side has counts as differing (None on the side that lacks it).
    """
    mine, theirs = _figures(engine), _figures(baseline)
    compared: set[str] = set()
    differ: dict[str, tuple[Any, Any]] = {}
    for name in sorted(mine.keys() | theirs.keys()):
        general = name.split("[")[0]
        if general in EXCLUDED:
            continue
        compared.add(general)
        a, b = mine.get(name), theirs.get(name)
        if name not in mine or name not in theirs or not _same(a, b):
            differ[name] = (a, b)
    return compared, differ


def bins_agreement(engine: list[Any], baseline: list[dict[str, Any]]) -> tuple[int, dict[str, tuple[Any, Any]]]:
    """Compare closed bins (`monitor.bins.Bin`s with the baseline's dicts): (bins that differ, {name: (engine, baseline)}).

    Bins are matched by (session, start); the fields the comment stage fills later
    (`negative`, `spam`, questions…) are not the core's and are not compared.
    """
    mine = {(b.session, b.start): asdict(b) for b in engine}
    theirs = {(b["session"], b["start"]): b for b in baseline}
    differ: dict[str, tuple[Any, Any]] = {}
    wrong = 0
    for key in sorted(mine.keys() | theirs.keys()):
        a, b = mine.get(key), theirs.get(key)
        name = f"bin {key[0]}@{key[1]}"
        if a is None or b is None:
            differ[name] = (a is not None, b is not None)
            wrong += 1
            continue
        a["products"] = list(a["products"])
        fields = {f"{name}.{k}": (a[k], v) for k, v in b.items() if not _same(a[k], v)}
        differ |= fields
        wrong += bool(fields)
    return wrong, differ
