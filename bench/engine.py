"""Benchmark the engine core against two per-event pure-Python baselines and a Bytewax dataflow.

Run: `python bench/engine.py [--events 300000] [--sessions 20] [--skip-bytewax] [--skip-memory] [--gc-threshold N]`

All read the same wire-encoded events (as the runner gets them from Redis), parse, fold,
and tick, either once per CPU second (the runner's cadence) or once per second of event
time (stress); each run uses one process (one core), timed in CPU seconds, all in the
same run, and each row is compared with both baselines of the same tick mode.
- livemon: `Engine.apply_wire` (decode + fold, batches of 2,000) + `Engine.tick`, full snapshots.
- pure Python, same metrics (`bench.engine_baseline.PerEventEngine`, the issue's baseline):
  one event at a time into dicts, sets and lists, computing every snapshot figure of
  docs/metrics.md (watermark and lateness, duplicates once, traffic, dwell, funnel, money,
  per-product table, trends, minute series) and closing the same 10-s bins. At the end of
  the stress run (same batches, ticks and `now`s as livemon's) the final snapshots of
  every session are compared figure by figure, and every closed bin of the run
  (`Agreement` line; figures not compared are named with the reason).
- pure Python, headline counts only (`bench.engine_baseline_headline`): one dict per
  (session, second), windows summed per tick; ~10 figures.
- Bytewax 0.21.1 (`bench.engine_bytewax`): event-time 10-s tumbling windows counting events
  per type and session (the same counts as our closed bins), `EventClock` with the same 5-s lateness.
Garbage collector: the engine process's policy (livemon/gc_policy.py: start-up frozen, the
youngest generation collected every 50,000 allocations) is applied once before the first run,
so livemon, both baselines and Bytewax run under the same collector; `--gc-threshold 0`
keeps CPython's defaults, as before this option.
Memory: one 6-hour session with 500 products fed through `apply_wire` (the runner's path),
measured with tracemalloc and as checkpoint bytes.
Prints a table, the agreement, then one line of JSON with the figures
(`pure_python_same_metrics_*` and `pure_python_*`, the headline-counts baseline).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.engine_baseline import PerEventEngine
from bench.engine_baseline_headline import PurePython
from bench.engine_baseline_snapshot import EXCLUDED, agreement, bins_agreement
from bench.engine_bytewax import run_bytewax
from livemon.gc_policy import GEN0_THRESHOLD, tune_engine_gc
from monitor.bins import Bin
from monitor.engine import Engine, EngineConfig

T0 = 1_700_000_000_000
BATCH = 2000
# A busy room's mix (comments and likes dominate; orders are a few percent)
MIX = [
    ("comment", 38),
    ("like", 25),
    ("join", 8),
    ("leave", 2),
    ("product_click", 12),
    ("add_to_cart", 4),
    ("order", 5),
    ("viewer_count", 1),
    ("share", 2),
    ("follow", 2),
    ("gift", 1),
]
KINDS = [k for k, w in MIX for _ in range(w)]


def generate(
    n: int, sessions: int, rate: int, products: int = 50, users: int = 20_000, seed: int = 7, start_ms: int = T0
) -> Iterator[dict[str, Any]]:
    """Yield `n` raw events: `rate` events/s per session, up to 2 s of disorder, 1 % duplicates."""
    rng = random.Random(seed)
    order_seq = 0
    recent: list[dict[str, Any]] = []
    for i in range(n):
        session = f"s{i % sessions}"
        ts = start_ms + (i // sessions) * 1000 // rate - rng.randint(0, 2000)
        kind = rng.choice(KINDS)
        e: dict[str, Any] = {
            "id": f"e{i}",
            "session": session,
            "type": kind,
            "ts": ts,
            "platform": "douyin",
            "user": f"u{rng.randrange(users)}",
        }
        if kind == "comment":
            e["text"] = "这个多少钱" if rng.random() < 0.1 else "主播好美"
        elif kind == "like":
            e["count"] = rng.randint(1, 5)
        elif kind in ("product_click", "add_to_cart"):
            e["product"] = f"p{rng.randrange(products)}"
        elif kind == "order":
            order_seq += 1
            e["product"] = f"p{rng.randrange(products)}"
            e["amount"] = float(rng.randint(20, 400))
            e["status"] = "paid" if rng.random() < 0.7 else "placed"
            e["order_id"] = f"o{order_seq // 2}"  # placed and paid share an order id
            e["currency"] = "CNY"
            e["qty"] = 1
        elif kind == "viewer_count":
            e["viewers"] = rng.randint(800, 1200)
        elif kind == "gift":
            e["count"] = 1
        recent.append(e)
        if len(recent) > 50:
            recent.pop(0)
        yield e
        if rng.random() < 0.01:
            yield rng.choice(recent)


# ---------------------------------------------------------------- runners


def ticks_for(wire: list[bytes], events: int, sessions: int, rate: int) -> int:
    """One tick per second of event time, as the runner does."""
    return max(1, events // sessions // rate)


def run_livemon(wire: list[bytes], ticks: int, wall: bool) -> tuple[float, int, Engine, float, list[Bin]]:
    """Fold all events in batches; tick per event-second (`ticks` evenly) or per CPU second (`wall`).

    Returns CPU seconds, ticks done, the engine, the `now` of its last tick and the closed bins.
    """
    engine = Engine(EngineConfig())
    now = 1_000_000.0
    closed: list[Bin] = []
    start = last_tick = time.process_time()
    done = 0
    for offset, due in _schedule(len(wire), ticks, wall):
        engine.apply_wire(wire[offset : offset + BATCH])
        if due or (wall and time.process_time() - last_tick >= 1.0):
            now += 1.0
            closed += engine.tick(now).bins
            done += 1
            last_tick = time.process_time()
    return time.process_time() - start, done, engine, now, closed


def run_pure(
    wire: list[bytes], ticks: int, wall: bool, baseline: PurePython | PerEventEngine
) -> tuple[float, int, list[dict[str, Any]]]:
    """The same schedule (and the same `now` per tick) for a per-event baseline; closed bins if it makes them."""
    now = 1_000_000.0
    closed: list[dict[str, Any]] = []
    start = last_tick = time.process_time()
    done = 0
    for offset, due in _schedule(len(wire), ticks, wall):
        for raw in wire[offset : offset + BATCH]:
            baseline.apply(raw)
        if due or (wall and time.process_time() - last_tick >= 1.0):
            now += 1.0
            result = baseline.tick(now)
            if isinstance(result, tuple):
                closed += result[1]
            done += 1
            last_tick = time.process_time()
    return time.process_time() - start, done, closed


def check_agreement(
    engine: Engine, baseline: PerEventEngine, now: float, bins: tuple[list[Bin], list[dict[str, Any]]]
) -> dict[str, Any]:
    """Tick both once more (untimed, late enough to carry the series); compare every session's figures and every bin."""
    later = now + engine.config.series_interval_s
    baseline_snaps, baseline_bins = baseline.tick(later)
    by_session = {s["session"]: s for s in baseline_snaps}
    last = engine.tick(later)
    compared: set[str] = set()
    differ: dict[str, tuple[Any, Any]] = {}
    for snap in last.snapshots:
        names, wrong = agreement(snap, by_session[snap["session"]])
        compared |= names
        differ |= {f"{snap['session']}.{name}": values for name, values in wrong.items()}
    wrong_figures = {name.split(".", 1)[1].split("[")[0] for name in differ}
    engine_bins = bins[0] + last.bins
    bins_wrong, bins_differ = bins_agreement(engine_bins, bins[1] + baseline_bins)
    differ |= bins_differ
    return {
        "sessions": len(last.snapshots),
        "figures": len(compared),
        "agree": len(compared - wrong_figures),
        "product_rows": sum(len(snap["products"]) for snap in last.snapshots),
        "bins": len(engine_bins),
        "bins_differ": bins_wrong,
        "differ": {name: [a, b] for name, (a, b) in differ.items()},
        "excluded": sorted(EXCLUDED),
    }


def _schedule(n: int, ticks: int, wall: bool) -> Iterator[tuple[int, bool]]:
    """Yield (batch offset, tick after it?) : evenly spaced ticks unless ticking on CPU time."""
    batches = list(range(0, n, BATCH))
    every = max(1, len(batches) // ticks)
    for i, offset in enumerate(batches):
        last = i == len(batches) - 1  # every run ends with one tick, so all figures exist
        yield offset, last or ((not wall) and i % every == every - 1)


def measure_memory(hours: float, products: int, rate: int) -> dict[str, float]:
    """Feed one long session (`rate` events/s for `hours`) and measure engine memory."""
    gc.collect()
    tracemalloc.start()
    engine = Engine(EngineConfig())
    base = tracemalloc.get_traced_memory()[0]
    total = int(hours * 3600 * rate)
    planned = [{"id": f"p{i}", "name": f"product {i}", "price": 99.0, "stock": 10_000} for i in range(products)]
    start_event = orjson.dumps({"id": "start", "session": "s0", "type": "session_start", "ts": T0, "products": planned})
    engine.apply_wire([start_event])
    now = 1_000_000.0
    batch: list[bytes] = []
    second = 0
    for raw in generate(total, 1, rate, products=products, users=50_000, seed=11):
        batch.append(orjson.dumps(raw))
        if len(batch) == rate:
            engine.apply_wire(batch)
            batch.clear()
            second += 1
            if second % 10 == 0:
                now += 10.0
                engine.tick(now)
    engine.apply_wire(batch)
    batch.clear()
    unique = engine.tick(now + 1).snapshots[0]["unique_viewers"]
    gc.collect()
    current = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    checkpoint = len(orjson.dumps(engine.to_state()))
    return {
        "hours": hours,
        "products": products,
        "events": total,
        "rss_bytes": current,
        "checkpoint_bytes": checkpoint,
        "unique_viewers": unique,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100, help="events per second per session")
    parser.add_argument("--skip-bytewax", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-hours", type=float, default=6.0)
    parser.add_argument("--gc-threshold", type=int, default=GEN0_THRESHOLD,
                        help="the engine process's GC policy for every implementation; 0: CPython's defaults")
    args = parser.parse_args()

    wire = [orjson.dumps(e) for e in generate(args.events, args.sessions, args.rate)]
    tune_engine_gc(args.gc_threshold)  # one collector for all of them, as in `livemon engine`
    ticks = ticks_for(wire, args.events, args.sessions, args.rate)
    n = len(wire)
    rows: list[tuple[str, float, str, str]] = []

    results: dict[str, float] = {}
    agreed: dict[str, Any] = {}
    for mode, wall in (
        ("runner cadence: tick per CPU-s", True),
        (f"stress: {ticks} ticks, 1 per event-s", False),
    ):
        key = "wall" if wall else "event"
        core_s, done, engine, now, engine_bins = run_livemon(wire, ticks, wall)
        same = PerEventEngine(EngineConfig())
        same_s, same_done, same_bins = run_pure(wire, ticks, wall, same)
        pure_s, pure_done, _ = run_pure(wire, ticks, wall, PurePython())
        if not wall:  # same schedule and `now`s as livemon's run: snapshots and bins must agree
            agreed = check_agreement(engine, same, now, (engine_bins, same_bins))
        results |= {f"livemon_{key}": n / core_s, f"same_{key}": n / same_s, f"pure_{key}": n / pure_s}
        sessions = len(engine.sessions)
        rows.append(
            (f"livemon engine [{mode}]", n / core_s, key, f"{done} ticks x {sessions} sessions, full snapshots")
        )
        rows.append((f"pure Python, same metrics [{mode}]", n / same_s, key, f"{same_done} ticks, full snapshots"))
        rows.append((f"pure Python, headline counts only [{mode}]", n / pure_s, key, f"{pure_done} ticks, ~10 figures"))
    bytewax = None if args.skip_bytewax else run_bytewax(wire, BATCH, T0)
    if bytewax is not None:
        rows.append(("Bytewax 0.21.1 10-s window counts", n / bytewax[0], "wall", f"{bytewax[1]} windows, counts only"))

    print(
        f"\nEngine core, {n:,} wire events ({args.sessions} sessions x {args.rate} ev/s of event time, 2 s disorder, "
        "1 % duplicates), CPU seconds of this process (one core), garbage collector "
        f"{gc.get_threshold()} with {gc.get_freeze_count():,} objects frozen; ratios against the baselines of the "
        "same tick mode\n"
    )
    print(f"{'implementation':60} {'events / CPU-s':>14} {'vs same metrics':>15} {'vs headline':>11}  notes")
    for name, rate, key, note in rows:
        same_x, pure_x = rate / results[f"same_{key}"], rate / results[f"pure_{key}"]
        print(f"{name:60} {rate:14,.0f} {same_x:14.2f}x {pure_x:10.2f}x  {note}")
    print(
        f"\nAgreement (stress run, final snapshots): {agreed['agree']}/{agreed['figures']} figures agree on "
        f"{agreed['sessions']} sessions ({agreed['product_rows']} product rows; numbers within 1e-6 relative); "
        f"closed bins: {agreed['bins'] - agreed['bins_differ']}/{agreed['bins']} agree"
    )
    for name, (mine, theirs) in agreed["differ"].items():
        print(f"  differs: {name}: engine {mine!r}, baseline {theirs!r}")
    for name in agreed["excluded"]:
        print(f"  not compared: {name}: {EXCLUDED[name]}")

    memory = None
    if not args.skip_memory:
        memory = measure_memory(args.memory_hours, 500, 50)
        print(
            f"\nMemory: one {memory['hours']:.0f}-hour session, {memory['products']} products, "
            f"{memory['events']:,} events, {memory['unique_viewers']:,} unique viewers: "
            f"{memory['rss_bytes'] / 2**20:.1f} MiB live objects, checkpoint {memory['checkpoint_bytes'] / 2**20:.2f} MiB"
        )

    print(
        orjson.dumps(
            {
                "events": n,
                "gc_threshold": gc.get_threshold()[0],
                "livemon_events_per_s": round(results["livemon_wall"]),
                "pure_python_same_metrics_events_per_s": round(results["same_wall"]),
                "pure_python_events_per_s": round(results["pure_wall"]),  # headline counts only
                "livemon_stress_events_per_s": round(results["livemon_event"]),
                "pure_python_same_metrics_stress_events_per_s": round(results["same_event"]),
                "pure_python_stress_events_per_s": round(results["pure_event"]),  # headline counts only
                "bytewax_events_per_s": round(n / bytewax[0]) if bytewax else None,
                "agreement": {k: v for k, v in agreed.items() if k != "differ"},
                "agreement_differ": agreed["differ"],
                "memory": memory,
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
