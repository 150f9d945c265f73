"""Simulated rooms through the real engine core, as closed bins with ground truth.

`ingest.simulator.SimulatedSession` rooms (the same as `livemon simulate --fast`) advance
in 10-s steps; every step's events go through `Engine.apply` and a manual clock drives
`Engine.tick(now)`, so the bins are exactly what the engine runner would hand the alert
stage. No Redis and no NDJSON file: the fastest path through the same code.

Comment fields (`comments/negative/spam/raid/top_topic` and the open-question fields) come
from `monitor.comment_stage.CommentStage`, fed and joined exactly as the engine runner does
(`livemon/engine_runner.py` `_fold`: `engine.apply` then `observe`; `_tick`: `retain`, then
`enrich(engine.tick(now), now)`), so the detectors see what they would see in production.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from ingest.incidents import IncidentKind, IncidentLabel
from ingest.simulator import SimConfig, SimulatedSession
from monitor.bins import Bin
from monitor.comment_stage import CommentStage
from monitor.engine import Engine
from monitor.events import Event

STEP_S = 10.0
# Every bench room, incident-free ones included, sells like a strong brand room: at the
# simulator's default the pinned product brings 0–3 carts per bin in most rooms, which no
# conversion test can judge; ×10 gives ≈ 10–120 carts/min on the pinned product (the issue's
# operating point is 200/min). docs/alerts.md "Simulator bench".
SALES_SCALE = 10.0


@dataclass(frozen=True, slots=True)
class Room:
    """One simulated session to run: its seed, size and whether incidents are injected."""

    name: str
    seed: int
    rate: float  # events per second, all kinds (comments ≈ 0.29 of them)
    duration_s: float
    incidents: bool
    sales_scale: float = SALES_SCALE


@dataclass(frozen=True, slots=True)
class RoomRun:
    """A room's closed bins and its ground-truth labels."""

    room: Room
    bins: list[Bin]
    labels: list[IncidentLabel]


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
                           SimConfig(rate=room.rate, duration_s=room.duration_s, incidents=kinds,
                                     sales_scale=room.sales_scale))
    engine = Engine()
    comments = CommentStage()
    bins: list[Bin] = []
    t = start
    while not sim.ended or t < start + room.duration_s + 30:
        events = [Event.from_wire(orjson.dumps(e)) for e in sim.events_between(t, t + STEP_S)]
        t += STEP_S
        engine.apply(events)
        comments.observe(events)
        comments.retain(set(engine.session_ids()))
        bins.extend(comments.enrich(engine.tick(t), t).bins)
        if sim.ended and not events:
            break
    return RoomRun(room, bins, sim.labels())
