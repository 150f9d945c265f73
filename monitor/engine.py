"""The rolling-window engine core: events in, per-session snapshots out, no I/O.

The edge (`livemon.engine_runner`) feeds batches read from Redis Streams into
`Engine.apply`, calls `Engine.tick(now)` on a fixed cadence, and checkpoints
`Engine.to_state()` together with the stream position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from monitor.bins import Bin

RECENT_COMMENTS = 8
from monitor.events import Event, EventType, OrderStatus


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick produces: snapshots for screens, closed bins for detectors."""

    snapshots: list[dict[str, Any]]
    bins: list[Bin]


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Window and estimation settings, validated once."""

    lateness_s: float = 5.0
    idle_timeout_s: float = 300.0
    recent_window_s: int = 300

    def __post_init__(self) -> None:
        if self.lateness_s < 0:
            raise ValueError(f"lateness_s: expected >= 0, got {self.lateness_s}")
        if self.idle_timeout_s <= 0:
            raise ValueError(f"idle_timeout_s: expected > 0, got {self.idle_timeout_s}")
        if self.recent_window_s < 60:
            raise ValueError(f"recent_window_s: expected >= 60, got {self.recent_window_s}")


class SessionState:
    """Counters for one live room, bucketed by event-time second."""

    def __init__(self, session: str) -> None:
        self.session = session
        self.platform = "other"
        self.title = ""
        self.ended = False
        self.last_event_ms = 0
        self.viewers: int | None = None
        self.last_seen: dict[str, int] = {}
        self.buckets: dict[int, dict[str, float]] = {}
        self.totals: dict[str, float] = {"comments": 0, "likes": 0, "orders": 0, "gmv": 0.0}
        self.recent_comments: list[dict[str, Any]] = []

    def add(self, event: Event) -> None:
        self.platform = event.platform.value
        self.last_event_ms = max(self.last_event_ms, event.ts)
        if event.user:
            self.last_seen[event.user] = max(self.last_seen.get(event.user, 0), event.ts)
        second = event.ts // 1000
        kind = event.type
        if kind is EventType.COMMENT:
            self._count(second, "comments", 1)
            self.recent_comments.append({"id": event.id, "ts": event.ts, "text": event.text})
            self.recent_comments.sort(key=lambda c: c["ts"])
            del self.recent_comments[:-RECENT_COMMENTS]
        elif kind is EventType.LIKE:
            self._count(second, "likes", event.count or 1)
        elif kind is EventType.ORDER and event.status is OrderStatus.PAID:
            self._count(second, "orders", 1)
            self._count(second, "gmv", event.amount or 0.0)
        elif kind is EventType.VIEWER_COUNT:
            self.viewers = event.viewers
        elif kind is EventType.LEAVE and event.user:
            self.last_seen.pop(event.user, None)
        elif kind is EventType.SESSION_START:
            self.title = event.title or self.title
            self.ended = False
        elif kind is EventType.SESSION_END:
            self.ended = True

    def _count(self, second: int, name: str, amount: float) -> None:
        bucket = self.buckets.setdefault(second, {})
        bucket[name] = bucket.get(name, 0) + amount
        self.totals[name] += amount

    def window_sum(self, name: str, end_s: int, length_s: int) -> float:
        return sum(b.get(name, 0) for s, b in self.buckets.items() if end_s - length_s < s <= end_s)

    def prune(self, end_s: int, keep_s: int) -> None:
        for second in [s for s in self.buckets if s <= end_s - keep_s]:
            del self.buckets[second]

    def online(self, now_ms: int, idle_timeout_ms: int) -> tuple[int, bool]:
        if self.viewers is not None:
            return self.viewers, False
        return sum(1 for t in self.last_seen.values() if now_ms - t < idle_timeout_ms), True


class Engine:
    """All sessions of the partitions this engine owns."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.sessions: dict[str, SessionState] = {}

    def apply(self, events: Iterable[Event]) -> None:
        """Fold a batch of events into session state."""
        for event in events:
            state = self.sessions.get(event.session)
            if state is None:
                state = self.sessions[event.session] = SessionState(event.session)
            state.add(event)

    def tick(self, now: float) -> TickResult:
        """Close windows up to `now` (epoch seconds) and return one snapshot per session."""
        end_s = int(now)
        out = []
        for state in self.sessions.values():
            state.prune(end_s, self.config.recent_window_s + 60)
            out.append(self._snapshot(state, now))
        return TickResult(snapshots=out, bins=[])

    def session_ids(self) -> list[str]:
        """Sessions this engine holds state for."""
        return list(self.sessions)

    def to_state(self) -> dict[str, Any]:
        """Return all session state as JSON-ready data for a checkpoint."""
        return {
            s.session: {
                "platform": s.platform,
                "title": s.title,
                "ended": s.ended,
                "last_event_ms": s.last_event_ms,
                "viewers": s.viewers,
                "last_seen": s.last_seen,
                "buckets": [[sec, b] for sec, b in s.buckets.items()],
                "totals": s.totals,
                "recent_comments": s.recent_comments,
            }
            for s in self.sessions.values()
        }

    @classmethod
    def from_state(cls, config: EngineConfig, data: dict[str, Any]) -> Engine:
        """Rebuild an engine from `to_state` output."""
        engine = cls(config)
        for session, raw in data.items():
            state = SessionState(session)
            state.platform = raw["platform"]
            state.title = raw["title"]
            state.ended = raw["ended"]
            state.last_event_ms = raw["last_event_ms"]
            state.viewers = raw["viewers"]
            state.last_seen = dict(raw["last_seen"])
            state.buckets = {int(sec): dict(b) for sec, b in raw["buckets"]}
            state.totals = dict(raw["totals"])
            state.recent_comments = list(raw["recent_comments"])
            engine.sessions[session] = state
        return engine

    def _snapshot(self, state: SessionState, now: float) -> dict[str, Any]:
        end_s = int(now)
        online, estimated = state.online(int(now * 1000), int(self.config.idle_timeout_s * 1000))
        return {
            "session": state.session,
            "platform": state.platform,
            "title": state.title,
            "live": not state.ended,
            "online": online,
            "online_estimated": estimated,
            "comments_per_min": state.window_sum("comments", end_s, 60),
            "likes_per_min": state.window_sum("likes", end_s, 60),
            "orders_per_min": state.window_sum("orders", end_s, 60),
            "gmv_total": round(state.totals["gmv"], 2),
            "gmv_5m": round(state.window_sum("gmv", end_s, self.config.recent_window_s), 2),
            "comments_total": state.totals["comments"],
            "orders_total": state.totals["orders"],
            "last_event_ts": state.last_event_ms,
            "recent_comments": state.recent_comments,
        }
