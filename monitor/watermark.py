"""Per-session event clock and watermark (bounded out-of-orderness, idle advance).

The clock is the newest event time seen. When a session goes quiet the clock keeps
moving with the wall clock passed to `tick` (Bytewax's `EventClock` model), so windows
decay and bins close even with no events; the watermark trails the clock by the
allowed lateness and never moves back::

    events:  ─────●──●─●─────────────── (quiet)
    clock:        ────────▶ newest ts, then + (now − wall time it was first seen)
    watermark:    clock − lateness (monotone)

Anchoring to the wall time at which the newest event was *first seen by a tick* makes
replays at any speed behave: event time need not be near the wall clock.
"""

from __future__ import annotations

from typing import Any


class EventClock:
    """Newest event time, its wall-clock anchor and the derived watermark, in ms."""

    __slots__ = ("anchor_event_ms", "anchor_wall_s", "clock_ms", "lateness_ms", "max_event_ms", "watermark_ms")

    def __init__(self, lateness_s: float) -> None:
        self.lateness_ms = round(lateness_s * 1000)
        self.max_event_ms = 0
        self.anchor_event_ms = 0
        self.anchor_wall_s = 0.0
        self.clock_ms = 0
        self.watermark_ms = 0

    def advance(self, now: float) -> None:
        """Move clock and watermark for a tick at wall time `now` (epoch seconds)."""
        if self.max_event_ms > self.anchor_event_ms:
            self.anchor_event_ms = self.max_event_ms
            self.anchor_wall_s = now
        idle_ms = int(max(0.0, now - self.anchor_wall_s) * 1000)
        self.clock_ms = max(self.clock_ms, self.anchor_event_ms + idle_ms)
        self.watermark_ms = max(self.watermark_ms, self.clock_ms - self.lateness_ms)

    def to_state(self) -> list[Any]:
        """Return the clock as a JSON-ready list."""
        return [self.max_event_ms, self.anchor_event_ms, self.anchor_wall_s, self.clock_ms, self.watermark_ms]

    def restore(self, data: list[Any]) -> None:
        """Load a `to_state` list."""
        self.max_event_ms, self.anchor_event_ms, self.anchor_wall_s, self.clock_ms, self.watermark_ms = data
