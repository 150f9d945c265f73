"""The rolling-window engine core: events in, per-session snapshots and closed bins out.

No I/O and no clock: the edge (`livemon.engine_runner`) feeds batches read from Redis
Streams into `Engine.apply`, calls `Engine.tick(now)` every second with the wall clock,
and checkpoints `Engine.to_state()` together with the stream position. Semantics
(event time, watermark, lateness, duplicates, every formula) are in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from monitor.bins import Bin
from monitor.config import EngineConfig, load_engine_config
from monitor.events import Event
from monitor.session import SessionState

__all__ = ["Engine", "EngineConfig", "TickResult", "load_engine_config"]

STATE_VERSION = 2


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick produces: snapshots for screens, closed bins for detectors."""

    snapshots: list[dict[str, Any]]
    bins: list[Bin]


class Engine:
    """All sessions of the partitions this engine owns."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.sessions: dict[str, SessionState] = {}

    def apply(self, events: Iterable[Event]) -> None:
        """Fold a batch of events, in any order; a repeated (session, id) counts once."""
        sessions = self.sessions
        last_id = None
        state: SessionState | None = None
        for event in events:
            if event.session != last_id:
                last_id = event.session
                state = sessions.get(last_id)
                if state is None:
                    state = sessions[last_id] = SessionState(last_id, self.config)
            assert state is not None
            state.fold(event)

    def apply_wire(self, payloads: Iterable[bytes | str]) -> None:
        """Fold a batch of `Event.to_wire` payloads (the runner's fast path).

        Same figures as `apply([Event.from_wire(p) for p in payloads])`, but the frequent
        kinds (comments, likes, joins, clicks…) are folded per session, column by column,
        straight from the decoded JSON: building an `Event` costs more than folding it.
        """
        loads = orjson.loads
        groups: dict[str, list[tuple[dict[str, Any], bytes | str]]] = {}
        for raw in payloads:
            d = loads(raw)
            group = groups.get(d["session"])
            if group is None:
                group = groups[d["session"]] = []
            group.append((d, raw))
        for sid, items in groups.items():
            state = self.sessions.get(sid)
            if state is None:
                state = self.sessions[sid] = SessionState(sid, self.config)
            state.fold_batch(items)

    def tick(self, now: float) -> TickResult:
        """Advance every session to wall time `now` (epoch s): close due bins, snapshot all."""
        snapshots = []
        bins: list[Bin] = []
        for state in self.sessions.values():
            bins.extend(state.tick(now))
            snapshots.append(state.snapshot(now))
        return TickResult(snapshots, bins)

    def session_ids(self) -> list[str]:
        """Return the ids of the sessions this engine holds."""
        return list(self.sessions)

    def to_state(self) -> dict[str, Any]:
        """Return all session state as JSON-ready data for a checkpoint."""
        return {"version": STATE_VERSION, "sessions": {sid: state.to_state() for sid, state in self.sessions.items()}}

    @classmethod
    def from_state(cls, config: EngineConfig | None, data: dict[str, Any]) -> Engine:
        """Rebuild an engine from `to_state` output (an older layout starts empty)."""
        engine = cls(config)
        if data.get("version") != STATE_VERSION:
            return engine
        for sid, raw in data["sessions"].items():
            engine.sessions[sid] = SessionState.from_state(sid, engine.config, raw)
        return engine
