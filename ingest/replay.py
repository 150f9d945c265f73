"""Replay recorded sessions (NDJSON or CSV) at 1×, N× or as fast as possible.

A recording is one schema-v1 event per line: NDJSON as `livemon simulate --out` writes it,
or CSV with a header of schema field names (empty cells are left out; `products` holds
JSON). Pacing follows event time: at speed N an event is sent when N × the wall time since
the first event has passed its offset from the first event; speed 0 sends as fast as the
API takes it. Lines are numbered from 1 so a stopped replay resumes with `start_line`.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

INT_FIELDS = frozenset({"viewers", "total_viewers", "count", "qty", "stock"})
FLOAT_FIELDS = frozenset({"amount", "value"})


class RecordingError(ValueError):
    """A line of the recording cannot be read; the message names the line."""


def _csv_value(name: str, cell: str) -> object:
    if name in INT_FIELDS or (name == "ts" and cell.isdigit()):
        return int(cell)
    if name in FLOAT_FIELDS:
        return float(cell)
    if name == "products":
        return orjson.loads(cell)
    return cell


def read_recording(path: Path, start_line: int = 1) -> Iterator[tuple[int, dict[str, object]]]:
    """Yield (line number, raw event) from `start_line` on; CSV line numbers count the header.

    Raises:
        RecordingError: naming the line that is not an event object.
    """
    with path.open("rb") as handle:
        if path.suffix.lower() == ".csv":
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            reader = csv.DictReader(text)
            for number, row in enumerate(reader, start=2):
                if number < start_line:
                    continue
                try:
                    yield number, {k: _csv_value(k, v) for k, v in row.items() if k and v not in (None, "")}
                except ValueError as exc:
                    raise RecordingError(f"line {number}: {exc}") from None
            return
        for number, line in enumerate(handle, start=1):
            if number < start_line or not line.strip():
                continue
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise RecordingError(f"line {number}: not valid JSON: {exc}") from None
            if not isinstance(event, dict):
                raise RecordingError(f"line {number}: expected a JSON object")
            yield number, event


def count_lines(path: Path) -> int:
    """Number of lines, for the progress bar."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


@dataclass
class Pacer:
    """Maps event time to wall time at `speed` (0: no waiting); the clock and sleep are parameters."""

    speed: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _origin: tuple[float, int] | None = None

    def due_in(self, ts_ms: int) -> float:
        """Seconds until the event at `ts_ms` is due (≤ 0: now)."""
        if self.speed <= 0:
            return 0.0
        if self._origin is None:
            self._origin = (self.clock(), ts_ms)
        wall0, ts0 = self._origin
        return wall0 + (ts_ms - ts0) / 1000.0 / self.speed - self.clock()

    def wait_for(self, ts_ms: int) -> None:
        """Sleep until the event at `ts_ms` is due."""
        wait = self.due_in(ts_ms)
        if wait > 0:
            self.sleep(wait)


def batches(lines: Iterator[tuple[int, dict[str, object]]], pacer: Pacer, max_events: int = 1000,
            max_ahead_s: float = 0.25) -> Iterator[tuple[int, list[dict[str, object]]]]:
    """Group due events into batches: (last line number, events), paced by event time.

    An event joins the current batch while it is due within `max_ahead_s`, so real-time
    replay sends a few batches a second instead of one request per event.
    """
    batch: list[dict[str, object]] = []
    last = 0
    for number, event in lines:
        ts = event.get("ts")
        ts_ms = ts if isinstance(ts, int) else None
        if batch and (len(batch) >= max_events or (ts_ms is not None and pacer.due_in(ts_ms) > max_ahead_s)):
            yield last, batch
            batch = []
        if ts_ms is not None and not batch:
            pacer.wait_for(ts_ms)
        batch.append(event)
        last = number
    if batch:
        yield last, batch
