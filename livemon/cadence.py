"""When each partition publishes its snapshots and when it checkpoints: a pure schedule, time as a parameter.

Publishing and checkpointing have different costs and different reasons, so they keep
separate clocks (docs/architecture.md, "Engine cadence"):

* **Publish** follows the data: a partition that folded new events publishes at once if
  it has not published for `publish_s` (leading edge), otherwise at the end of that
  interval (trailing edge), so a comment reaches the updates stream within about
  `publish_s` instead of waiting for the next tick, and a busy partition still publishes
  at most `1 / publish_s` times a second. The tick publishes every partition anyway,
  because window figures move with time even when no events arrive.
* **Publish budget.** Publishing costs CPU per session, not per event (each session's tick
  and snapshot take about half a millisecond), so an engine with hundreds of busy sessions
  could spend all of its time publishing at `publish_s` and fall behind on folding, which
  delays everything, alerts included. The interval therefore stretches so that publishing
  the partitions takes at most `publish_budget` of the engine's time (`LIVEMON_PUBLISH_BUDGET`,
  0.5): the interval is the larger of `publish_s` and the partitions' last publish costs
  summed, over the budget.
  With tens of sessions it stays at `publish_s`; with 200 busy rooms it grows to a few
  tenths of a second (docs/performance.md, "Scale-out").
* **Checkpoint** (state + XACK, livemon/checkpoints.py) costs time proportional to the
  partition's state, not to what changed, so it runs every `checkpoint_s`, with each
  partition's turn offset by a fixed fraction of the interval so that one event-loop pass
  does not serialise every partition at once. Exactly-once does not depend on how often
  it runs: entries stay pending until the checkpoint that contains them is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_SPREAD = (math.sqrt(5) - 1) / 2  # golden-ratio offsets spread any set of partition numbers over the interval


@dataclass
class _Clock:
    published_at: float
    checkpoint_at: float
    dirty: bool = False
    publish_cost_s: float = 0.0


class Cadence:
    """Publish and checkpoint deadlines of the partitions one engine owns (monotonic seconds)."""

    def __init__(self, publish_s: float, checkpoint_s: float, publish_budget: float = 0.5) -> None:
        self.publish_s = publish_s
        self.checkpoint_s = checkpoint_s
        self.publish_budget = publish_budget
        self._clocks: dict[int, _Clock] = {}

    def add(self, number: int, now: float) -> None:
        """Start scheduling a partition acquired at `now`; its first checkpoint comes within one interval."""
        offset = self.checkpoint_s * (((number + 1) * _SPREAD) % 1.0)
        self._clocks[number] = _Clock(published_at=-math.inf, checkpoint_at=now + offset)

    def forget(self, number: int) -> None:
        """Stop scheduling a partition that was released, lost or dropped."""
        self._clocks.pop(number, None)

    def clear(self) -> None:
        """Forget every partition (Redis came back; they are all acquired again)."""
        self._clocks.clear()

    def changed(self, number: int) -> None:
        """Note that a partition folded new events and so has something to publish."""
        clock = self._clocks.get(number)
        if clock is not None:
            clock.dirty = True

    def publish_interval(self) -> float:
        """The shortest time between two publishes of a partition: `publish_s`, stretched to the budget."""
        return max(self.publish_s, sum(c.publish_cost_s for c in self._clocks.values()) / self.publish_budget)

    def publish_due(self, now: float) -> list[int]:
        """Partitions with unpublished changes whose publish interval has passed."""
        interval = self.publish_interval()
        return [n for n, c in self._clocks.items() if c.dirty and now >= c.published_at + interval]

    def published(self, costs: dict[int, float], now: float) -> None:
        """Record that the partitions in `costs` published at `now`, taking that many seconds each."""
        for number, cost_s in costs.items():
            clock = self._clocks.get(number)
            if clock is not None:
                clock.published_at = now
                clock.dirty = False
                clock.publish_cost_s = cost_s

    def checkpoint_due(self, now: float) -> list[int]:
        """Partitions whose checkpoint time has come."""
        return [n for n, c in self._clocks.items() if now >= c.checkpoint_at]

    def checkpointed(self, number: int, now: float) -> None:
        """Record a checkpoint written at `now`; the next is due one interval later."""
        clock = self._clocks.get(number)
        if clock is not None:
            clock.checkpoint_at = now + self.checkpoint_s

    def next_deadline(self) -> float:
        """The earliest publish or checkpoint deadline (inf when nothing is scheduled)."""
        deadlines = [c.checkpoint_at for c in self._clocks.values()]
        interval = self.publish_interval()
        deadlines += [c.published_at + interval for c in self._clocks.values() if c.dirty]
        return min(deadlines, default=math.inf)
