"""Post-live review of a long session: time from Redis to a finished HTML report.

Builds a 6-hour, 1,000,000-event session (viewer counts every 5 s, joins and estimated
leaves, ~20,000 distinct comment texts, clicks, carts, placed/paid/cancelled orders,
45 pitches over 30 products) plus a second session sharing its partition stream, writes
both to a real Redis (the bundled server) as ingest stores them (`ENTRY_EVENTS` per stream
entry), then times each stage of `livemon report`:
read the partition stream and filter the session (raw payloads, byte test), build the
review (decoding each payload once, `build_review_wire`), render HTML, JSON and CSV.

Baseline on the same events, named "engine replay": the live engine used as a batch tool
(`Engine.apply` one minute of events at a time, `tick` at each minute end with a manual
clock, keep the last snapshot) — what one would write first to recompute the figures. It
yields less than the review (no in-pitch attribution, no findings) and is timed only for
the in-memory part, so the comparison favours the baseline.

    python bench/report.py [--events 1000000] [--hours 6] [--seed 1] [--quick]

Prints a table and ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livemon import keys
from livemon.redis_client import connect
from livemon.redis_server import EmbeddedRedis
from livemon.report import read_alerts, read_payloads, render_html, tables_csv, to_json
from monitor import wire_entries
from monitor.engine import Engine
from monitor.events import Event, EventType, OrderStatus, PlannedProduct
from monitor.review import build_review_wire

T0 = 1_795_348_800_000  # 2026-11-22 20:00 +08:00
PARTITIONS = 8
ENTRY_EVENTS = 50  # a 46-event/s session posting about once a second: one entry per request (monitor/wire_entries.py)
SESSION = "bench-6h"
PRODUCTS = 30
PITCHES = 45
TARGET_S = 60.0

# share of the non-viewer-count events
MIX = {"comment": 0.30, "like": 0.22, "join": 0.12, "leave": 0.04, "product_click": 0.18, "add_to_cart": 0.07,
       "order": 0.07}
_PHRASES = ["{n}号多少钱？", "{n}号什么尺码?", "好看 已拍", "主播好美", "质量太差了 假货", "发货太慢了",
            "how much is #{n}?", "love it", "link {n} pls", "扣1", "这个颜色{n}号有吗", "太贵了{n}号", "已下单{n}件"]


def neighbour_session(session: str) -> str:
    """Another session id that hashes onto the same partition (so the stream must be filtered)."""
    target = keys.partition_of(session, PARTITIONS)
    return next(f"other-{i}" for i in range(1000) if keys.partition_of(f"other-{i}", PARTITIONS) == target)


def make_session(session: str, n_events: int, hours: float, seed: int) -> list[Event]:
    """A long, busy session with known shape; deterministic for a seed."""
    rng = np.random.default_rng(seed)
    span_ms = int(hours * 3_600_000)
    ids = iter(range(1, 10**12))
    out: list[Event] = []

    def add(kind: EventType, ts: int, **fields: object) -> None:
        event_id = f"{session}-{next(ids)}"
        out.append(Event(id=event_id, session=session, type=kind, ts=ts, **fields))  # type: ignore[arg-type]

    products = [f"sku-{i}" for i in range(PRODUCTS)]
    prices = rng.uniform(20, 300, PRODUCTS).round(1)
    add(EventType.SESSION_START, T0, title="6-hour marathon", host="Lin", products=tuple(
        PlannedProduct(p, f"Item {i}", float(prices[i]), 100_000) for i, p in enumerate(products)))
    pitch_starts = T0 + np.sort(rng.choice(np.arange(1, span_ms // 1000 - 60), PITCHES, replace=False)) * 1000
    pitched = rng.choice(PRODUCTS, PITCHES)
    for ts, p in zip(pitch_starts.tolist(), pitched.tolist()):
        add(EventType.PRODUCT_PIN, ts, product=products[p])
    for ts in range(T0, T0 + span_ms, 5000):
        add(EventType.VIEWER_COUNT, ts, viewers=int(3000 + 1000 * np.sin(ts / 3.6e6)), total_viewers=200_000)
    rest = n_events - len(out) - 1
    kinds = rng.choice(list(MIX), rest, p=list(MIX.values()))
    times = T0 + np.sort(rng.integers(0, span_ms, rest))
    users = rng.integers(0, 150_000, rest)
    prods = rng.integers(0, PRODUCTS, rest)
    nums = rng.integers(1, 1500, rest)
    for kind, ts, user, prod, num in zip(kinds.tolist(), times.tolist(), users.tolist(), prods.tolist(),
                                         nums.tolist()):
        u = f"v{user}"
        if kind == "comment":
            add(EventType.COMMENT, ts, user=u, text=_PHRASES[num % len(_PHRASES)].format(n=num % 30 + 1) + f" {num}")
        elif kind == "like":
            add(EventType.LIKE, ts, user=u, count=1 + num % 5)
        elif kind == "join":
            add(EventType.JOIN, ts, user=u)
        elif kind == "leave":
            add(EventType.LEAVE, ts, user=u)
        elif kind == "product_click":
            add(EventType.PRODUCT_CLICK, ts, user=u, product=products[prod])
        elif kind == "add_to_cart":
            add(EventType.ADD_TO_CART, ts, user=u, product=products[prod])
        else:
            order_id = f"o{ts}-{user}"
            status = OrderStatus.PLACED if num % 4 else OrderStatus.CANCELLED
            add(EventType.ORDER, ts, user=u, product=products[prod], amount=float(prices[prod]),
                status=OrderStatus.PLACED, order_id=order_id)
            if num % 5:  # 80 % pay within a minute; the rest stay unpaid or are cancelled
                add(EventType.ORDER, ts + 30_000, user=u, product=products[prod], amount=float(prices[prod]),
                    status=OrderStatus.PAID, order_id=order_id)
            elif status is OrderStatus.CANCELLED:
                add(EventType.ORDER, ts + 60_000, user=u, product=products[prod], amount=float(prices[prod]),
                    status=OrderStatus.CANCELLED, order_id=order_id)
    add(EventType.SESSION_END, T0 + span_ms)
    return out


def engine_replay(events: list[Event]) -> dict[str, object]:
    """Baseline: the live engine fed minute by minute with a manual clock; the last snapshot is the answer."""
    engine = Engine()
    events = sorted(events, key=lambda e: e.ts)
    snapshot: dict[str, object] = {}
    i = 0
    minute_end = (events[0].ts // 60_000 + 1) * 60_000
    while i < len(events):
        j = i
        while j < len(events) and events[j].ts < minute_end:
            j += 1
        engine.apply(events[i:j])
        result = engine.tick(minute_end / 1000)
        snapshot = result.snapshots[0] if result.snapshots else snapshot
        i, minute_end = j, minute_end + 60_000
    return snapshot


async def write(url: str, events: list[Event]) -> int:
    """XADD the events as ingest stores them: runs of one session's events, `ENTRY_EVENTS` per entry; count entries."""
    entries = [(e.session, [e.to_wire()]) for e in events[:1]]
    for e in events[1:]:
        session, wires = entries[-1]
        if e.session == session and len(wires) < ENTRY_EVENTS:
            wires.append(e.to_wire())
        else:
            entries.append((e.session, [e.to_wire()]))
    client = connect(url)
    try:
        for start in range(0, len(entries), 1_000):
            async with client.pipeline(transaction=False) as pipe:
                for session, wires in entries[start:start + 1_000]:
                    stream = keys.events_stream(keys.partition_of(session, PARTITIONS))
                    pipe.xadd(stream, {keys.EVENT_FIELD: wire_entries.join(wires)})
                await pipe.execute()
    finally:
        await client.aclose()
    return len(entries)


async def read(url: str) -> tuple[list[bytes], list[dict[str, object]]]:
    client = connect(url)
    try:
        return await read_payloads(client, SESSION, PARTITIONS), await read_alerts(client, SESSION)
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="100,000 events over 1 hour (make bench)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.hours = 100_000, 1.0
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}

    def timed(name: str, fn, *a):  # type: ignore[no-untyped-def]
        start, start_cpu = time.perf_counter(), time.process_time()
        value = fn(*a)
        timings[name] = time.perf_counter() - start
        cpu[name] = time.process_time() - start_cpu
        return value

    events = timed("generate", make_session, SESSION, args.events, args.hours, args.seed)
    neighbour = make_session(neighbour_session(SESSION), args.events // 4, args.hours, args.seed + 1)
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as server:
        stream_entries = timed("write to Redis", lambda: asyncio.run(write(server.url, events + neighbour)))
        got, alerts = timed("read + filter stream", lambda: asyncio.run(read(server.url)))
    assert len(got) == len(events), (len(got), len(events))
    review = timed("build review", build_review_wire, got, alerts)
    timed("render HTML (zh)", render_html, review, "zh")
    timed("JSON + CSV", lambda: (to_json(review), tables_csv(review)))
    stages = ("read + filter stream", "build review", "render HTML (zh)", "JSON + CSV")
    report_s = sum(timings[k] for k in stages)
    report_cpu_s = sum(cpu[k] for k in stages)
    snapshot = timed("baseline: engine replay", engine_replay, events)
    stream_events = len(events) + len(neighbour)

    print(f"\nSession: {len(events):,} events over {args.hours:g} h; partition stream {stream_events:,} events in "
          f"{stream_entries:,} entries (another session shares it)\n")
    print(f"{'stage':<28}{'wall s':>10}{'CPU s':>10}")
    print("-" * 48)
    for name, seconds in timings.items():
        print(f"{name:<28}{seconds:>10.2f}{cpu[name]:>10.2f}")
    print("-" * 48)
    print(f"{'report (read→HTML) total':<28}{report_s:>10.2f}{report_cpu_s:>10.2f}   target < {TARGET_S:.0f} s: "
          f"{'met' if report_s < TARGET_S else 'MISSED'}")
    print(f"{'engine replay (in memory)':<28}{timings['baseline: engine replay']:>10.2f}   "
          f"(CPU {cpu['baseline: engine replay']:.2f} s; build review CPU ÷ baseline CPU = "
          f"{cpu['build review'] / cpu['baseline: engine replay']:.2f})")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"\nreview: GMV {review.headline.gmv:,.2f} (engine replay {snapshot.get('gmv_total'):,}); "
          f"{len(review.products)} products, {len(review.findings)} findings, "
          f"{len(review.timeline.series['online'])} minutes")
    print(orjson.dumps({
        "bench": "report", "events": len(events), "hours": args.hours, "stream_events": stream_events,
        "stream_entries": stream_entries,
        "read_s": round(timings["read + filter stream"], 2), "build_s": round(timings["build review"], 2),
        "render_s": round(timings["render HTML (zh)"], 2), "export_s": round(timings["JSON + CSV"], 2),
        "report_s": round(report_s, 2), "report_cpu_s": round(report_cpu_s, 2), "target_s": TARGET_S,
        "build_cpu_s": round(cpu["build review"], 2), "baseline_engine_replay_cpu_s":
        round(cpu["baseline: engine replay"], 2), "load_avg": round(os.getloadavg()[0], 1), "baseline_engine_replay_s":
        round(timings["baseline: engine replay"], 2), "gmv": review.headline.gmv,
        "gmv_engine_replay": snapshot.get("gmv_total"),
    }).decode())


if __name__ == "__main__":
    main()
