"""Engine tick cost after a day of shows: ended shows held for ever (before) against released.

An engine used to tick, snapshot and checkpoint every show it had ever seen. This bench
folds `--ended` simulated shows that have ended and `--live` that have not into two engines,
one with `ended_keep_s` so long that nothing is released (the behaviour before the release,
the baseline) and one with the shipped setting, then times ticks and a checkpoint of each in
the same run.

    python bench/engine_release.py [--ended 200] [--live 20] [--ticks 20]

Prints a table and ends with one JSON line.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.simulator import SimConfig, SimulatedSession
from monitor.engine import Engine, EngineConfig
from monitor.events import Event

SHOW_S = 600.0  # each show lasts 10 min of event time
RATE = 5.0  # events per second per show
NEVER_S = 10**9  # an `ended_keep_s` no show outlives: the baseline holds every show


def shows(ended: int, live: int, start: float) -> list[Event]:
    """Events of `ended` finished shows and `live` shows still going at `start + SHOW_S`."""
    events = []
    for i in range(ended + live):
        room = SimulatedSession(f"show-{i}", i, RATE, start, SimConfig(rate=RATE, duration_s=SHOW_S if i < ended else 0))
        events += [Event.from_wire_dict(e) for e in room.events_between(start, start + SHOW_S + 1)]
    return events


def measure(keep_s: int, events: list[Event], now: float, ticks: int) -> dict[str, float]:
    """Fold, release as the runner does, then time ticks and one checkpoint."""
    engine = Engine(EngineConfig(ended_keep_s=keep_s))
    engine.apply(events)
    engine.tick(now)  # a show's clock moves on from the wall time a tick first saw its newest event
    engine.tick(now + 3600)  # an hour on: every ended show ended long ago by its own clock
    engine.release_ended(now + 3600)  # as the runner does every tick
    times = []
    for k in range(ticks):
        started = time.process_time()
        engine.tick(now + 3600 + k)
        times.append(time.process_time() - started)
    started = time.process_time()
    size = len(orjson.dumps(engine.checkpoint().state))
    checkpoint_s = time.process_time() - started
    return {"sessions_held": len(engine.session_ids()), "tick_ms_median": statistics.median(times) * 1000,
            "checkpoint_ms": checkpoint_s * 1000, "checkpoint_kb": size / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ended", type=int, default=200, help="shows that have ended (a busy day)")
    parser.add_argument("--live", type=int, default=20, help="shows still live")
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()
    start = time.time() - 2 * 3600 - SHOW_S
    events = shows(args.ended, args.live, start)
    now = start + SHOW_S + 5
    before = measure(NEVER_S, events, now, args.ticks)
    after = measure(EngineConfig().ended_keep_s, events, now, args.ticks)
    print(f"{args.ended} ended and {args.live} live shows of {SHOW_S / 60:.0f} min at {RATE:g} events/s "
          f"({len(events):,} events), CPU time")
    print(f"{'engine':<34} {'sessions held':>13} {'tick ms':>9} {'checkpoint ms':>14} {'checkpoint KB':>14}")
    for name, row in (("baseline: ended shows held", before), ("released after ended_keep_s", after)):
        print(f"{name:<34} {row['sessions_held']:>13.0f} {row['tick_ms_median']:>9.1f} {row['checkpoint_ms']:>14.1f} "
              f"{row['checkpoint_kb']:>14.0f}")
    print(orjson.dumps({"bench": "engine_release", "baseline": "ended_shows_held", "ended": args.ended,
                        "live": args.live, "events": len(events), "before": before, "after": after,
                        "tick_ratio": round(after["tick_ms_median"] / before["tick_ms_median"], 3)}).decode())


if __name__ == "__main__":
    main()
