"""The Bytewax 0.21.1 peer of `bench/engine.py`: event-time 10-s tumbling window counts.

Counts events per type and session in 10-s windows (the same counts as the engine's closed
bins), with an `EventClock` allowing the engine's 5 s of lateness and the same de-dup.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson


def run_bytewax(wire: list[bytes], batch: int, t0_ms: int) -> tuple[float, int] | None:
    """CPU seconds and windows out for `wire` in batches of `batch`; None without Bytewax installed."""
    try:
        import bytewax.operators as op
        import bytewax.operators.windowing as win
        from bytewax.dataflow import Dataflow
        from bytewax.operators.windowing import EventClock, TumblingWindower
        from bytewax.testing import TestingSink, TestingSource, run_main
    except ImportError:
        return None
    align = datetime.fromtimestamp(t0_ms // 1000 - 3600, tz=UTC)

    def parse(raw: bytes) -> tuple[str, dict[str, Any]]:
        e = orjson.loads(raw)
        return e["session"], e

    def ts_of(e: dict[str, Any]) -> datetime:
        return datetime.fromtimestamp(e["ts"] / 1000, tz=UTC)

    def fold(acc: dict[str, int], e: dict[str, Any]) -> dict[str, int]:
        acc[e["type"]] = acc.get(e["type"], 0) + 1
        return acc

    def merge(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        for k, v in b.items():
            a[k] = a.get(k, 0) + v
        return a

    out: list[Any] = []
    flow = Dataflow("engine_bench")
    keyed = op.map("parse", op.input("in", flow, TestingSource(wire, batch_size=batch)), parse)
    deduped = op.filter_map("dedup", keyed, _Dedup())
    clock = EventClock(ts_of, wait_for_system_duration=timedelta(seconds=5))
    windows = win.fold_window(
        "bins", deduped, clock, TumblingWindower(length=timedelta(seconds=10), align_to=align), dict, fold, merge
    )
    op.output("out", windows.down, TestingSink(out))
    start = time.process_time()
    run_main(flow)  # type: ignore[no-untyped-call]
    return time.process_time() - start, len(out)


class _Dedup:
    """Stateless-per-key filter_map that drops repeated (session, id), like the engine."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, str]] = set()

    def __call__(self, item: tuple[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
        key = (item[0], item[1]["id"])
        if key in self.seen:
            return None
        self.seen.add(key)
        return item
