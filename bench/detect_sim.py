"""Simulated rooms through the real engine core, as closed bins with ground truth.

`ingest.simulator.SimulatedSession` rooms (the same as `livemon simulate --fast`) advance
in 10-s steps; every step's events go through `Engine.apply` and a manual clock drives
`Engine.tick(now)`, so the bins are exactly what the engine runner would hand the alert
stage. No Redis and no NDJSON file: the fastest path through the same code.

Comment fields: while the engine does not yet fill `Bin.comments/negative/spam/raid/
top_topic` and the open-question fields, each room also feeds a `CommentTracker` (as the
engine will) and the bench overwrites those fields from `CommentTracker.bin_counts` and its
open question groups. `comments_from_tracker` in the result says whether it had to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import orjson

from ingest.incidents import IncidentKind
from ingest.simulator import SimConfig, SimulatedSession
from monitor.bins import Bin
from monitor.comments import CommentTracker
from monitor.engine import Engine
from monitor.events import Event, EventType

STEP_S = 10.0


@dataclass(frozen=True, slots=True)
class Room:
    """One simulated session to run: its seed, size and whether incidents are injected."""

    name: str
    seed: int
    rate: float  # events per second, all kinds (comments ≈ 0.29 of them)
    duration_s: float
    incidents: bool


@dataclass(frozen=True, slots=True)
class RoomRun:
    """A room's closed bins, ground-truth labels, and how its comment fields were filled."""

    room: Room
    bins: list[Bin]
    labels: list[dict[str, object]]
    comments_from_tracker: bool


def plan_rooms(seed: int, incident_rooms: int, clean_rooms: int, duration_s: float) -> list[Room]:
    """Rooms with every incident kind injected, then incident-free ones, sizes from small to large.

    Rates cycle through 6–60 events/s (≈ 17–170 comments per minute): small rooms are where
    counts are scarce and detectors are slowest.
    """
    rates = (6.0, 10.0, 20.0, 40.0, 60.0, 8.0, 15.0, 30.0)
    rooms = [Room(f"sim{seed}-inc{i}", seed * 1000 + i, rates[i % len(rates)], duration_s, True)
             for i in range(incident_rooms)]
    rooms += [Room(f"sim{seed}-clean{i}", seed * 1000 + 500 + i, rates[(i + 3) % len(rates)], duration_s, False)
              for i in range(clean_rooms)]
    return rooms


def run_room(room: Room, start: float) -> RoomRun:
    """Simulate one room and return its bins as the engine closes them."""
    kinds = tuple(IncidentKind) if room.incidents else ()
    sim = SimulatedSession(room.name, room.seed, room.rate, start,
                           SimConfig(rate=room.rate, duration_s=room.duration_s, incidents=kinds))
    engine = Engine()
    tracker = CommentTracker()
    bins: list[Bin] = []
    filled = False
    t = start
    while not sim.ended or t < start + room.duration_s + 30:
        events = [Event.from_wire(orjson.dumps(e)) for e in sim.events_between(t, t + STEP_S)]
        t += STEP_S
        engine.apply(events)
        tracker.add_comments(events)
        for e in events:
            if e.type is EventType.PRODUCT_PIN and e.product:
                tracker.on_pin(e.product, e.ts / 1000)
        for b in engine.tick(t).bins:
            if b.negative == 0 and b.spam == 0 and b.top_topic is None:  # as the unwired engine leaves them
                ours = _with_comments(b, tracker)
                filled = filled or ours != b
                b = ours
            bins.append(b)
        if sim.ended and not events:
            break
    return RoomRun(room, bins, sim.labels(), filled)


def _with_comments(b: Bin, tracker: CommentTracker) -> Bin:
    """Fill a bin's comment and open-question fields the way the engine's comment stage will."""
    comments, negative, spam, raid, topic = tracker.bin_counts(b.start, b.end)
    open_groups = [g for g in tracker.groups.values() if g.answered_at is None and g.count > 0 and g.oldest < b.end]
    oldest = max((b.end - g.oldest for g in open_groups), default=0.0)
    return replace(b, comments=comments + spam, negative=negative, spam=spam, raid=raid, top_topic=topic,
                   open_question_groups=len(open_groups), oldest_question_age_s=round(oldest, 1))
