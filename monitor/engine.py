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

STATE_VERSION = 3  # 3: viewers interned to ints per session


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
        """Fold a batch of events, in any order; a repeated (session, id) counts once.

        The same fold as `apply_wire` (events become their wire dicts), so both give the
        same figures by construction; the runner uses `apply_wire`, which skips `Event`.
        """
        self._fold([e.to_dict() for e in events])

    def apply_wire(self, payloads: Iterable[bytes | str]) -> None:
        """Fold a batch of `Event.to_wire` payloads (the runner's fast path).

        The batch is decoded by one `orjson.loads` of the payloads joined into a JSON array
        (one call instead of one per event); a batch that does not join into exactly one
        value per payload (str payloads, a payload that is not one JSON value) is decoded one
        by one, so a bad payload fails as it would alone.
        """
        payloads = list(payloads)
        try:
            rows = orjson.loads(b"[" + b",".join(payloads) + b"]")  # type: ignore[arg-type]
            if not isinstance(rows, list) or len(rows) != len(payloads):
                raise ValueError("payloads do not join into one value each")
        except (TypeError, ValueError):
            rows = [orjson.loads(raw) for raw in payloads]
        self._fold(rows)

    def _fold(self, rows: list[dict[str, Any]]) -> None:
        """Split decoded events by session, keeping arrival order, and fold each part."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for d in rows:
            group = groups.get(d["session"])
            if group is None:
                groups[d["session"]] = [d]
            else:
                group.append(d)
        sessions = self.sessions
        for sid, part in groups.items():
            state = sessions.get(sid)
            if state is None:
                state = sessions[sid] = SessionState(sid, self.config)
            state.fold_batch(part)

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
