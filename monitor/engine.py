"""The rolling-window engine core: events in, per-session snapshots and closed bins out.

No I/O and no clock: the edge (`livemon.engine_runner`) feeds batches read from Redis
Streams into `Engine.apply`, calls `Engine.tick(now)` every second with the wall clock,
and checkpoints `Engine.checkpoint()` together with the stream position. Semantics
(event time, watermark, lateness, duplicates, every formula) are in docs/metrics.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from monitor.batch import Batch
from monitor.bins import Bin
from monitor.config import EngineConfig, load_engine_config
from monitor.events import Event
from monitor.session import SessionState
from monitor.session_fault import SessionFault, guarded

__all__ = ["Checkpoint", "Engine", "EngineConfig", "TickResult", "ids_key", "load_engine_config", "split_ids_key"]

STATE_VERSION = 3  # 3: viewers interned to ints per session
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick produces: snapshots for screens, closed bins for detectors."""

    snapshots: list[dict[str, Any]]
    bins: list[Bin]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """All state, with each session's remembered event ids stored apart, one entry per minute.

    Those ids are most of a busy session's state (450,000 digests, ~5 MB, in 30 minutes at
    250 events/s) and only the newest minute or two change between checkpoints, so `state`
    names the minutes and `changed_ids` holds only the minutes changed since the previous
    checkpoint, keyed by `ids_key`; `named_ids` is every key `state` names.
    """

    state: dict[str, Any]
    changed_ids: dict[str, str]
    named_ids: set[str]


def ids_key(session: str, minute: int) -> str:
    """Key of one minute of a session's remembered ids, as `Checkpoint` and `Engine.from_state` use it."""
    return f"{minute}:{session}"


def split_ids_key(key: str) -> tuple[str, int]:
    """The (session, minute) of an `ids_key` (a session id may itself hold ":")."""
    minute, session = key.split(":", 1)
    return session, int(minute)


def _ids_of(ids: list[str], rows: list[int]) -> list[str]:
    """The ids at `rows` (asked for only while a session remembers ids of an older digest)."""
    return [ids[i] for i in rows]


class Engine:
    """All sessions of the partitions this engine owns."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.sessions: dict[str, SessionState] = {}
        self.faults: dict[str, SessionFault] = {}  # sessions held out (`SessionFault`), not in `sessions`
        self.released: dict[str, float] = {}  # ended shows let go (`release_ended`) -> wall time of release
        self.dropped_after_release = 0  # their late events, dropped since this engine started

    def apply(self, events: Iterable[Event]) -> None:
        """Fold a batch of events, in any order; a repeated (session, id) counts once.

        The same fold as `apply_wire` (events become their wire dicts), so both give the
        same figures by construction; the runner uses `apply_wire`, which skips `Event`.
        """
        self._fold(Batch.from_dicts(e.to_dict() for e in events))

    def apply_wire(self, payloads: Iterable[bytes], keep: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
        """Fold a batch of event-stream entries (`monitor.wire_entries`; the runner's fast path).

        Returns the decoded events whose type is in `keep` (arrival order, duplicates
        included, not to be modified), so a stage that reads a few kinds as `Event`s does
        not decode their payloads a second time.
        """
        batch = Batch.from_wire(list(payloads))
        kept = batch.of_kinds(keep) if keep else []
        self._fold(batch)
        return kept

    def _fold(self, batch: Batch) -> None:
        """Group a batch by session (arrival order kept), drop duplicates, fold each part."""
        batch.group()
        sessions, faults = self.sessions, self.faults
        states: list[SessionState | None] = []
        dropped: list[int] = []
        ids, order, keys = batch.ids, batch.order, batch.keys
        released = self.released
        for sid, start, end, newest_ms in batch.spans():
            state: SessionState | None = None
            seen: list[int] | None = None
            if sid in released:  # a new history under a finished show's id would overwrite its last snapshot
                self.dropped_after_release += end - start
                states.append(None)
                dropped += range(start, end)
                continue
            if sid not in faults:
                state = sessions.get(sid)
                if state is None:
                    state = sessions[sid] = SessionState(sid, self.config)
                seen = self._guard(sid, partial(state.seen.admit_digests, keys[start:end], newest_ms,
                                                partial(_ids_of, ids, order[start:end])))
            if sid in faults:  # held out before, or by the admission above: none of its rows is folded
                faults[sid].skipped += end - start
                state, seen = None, list(range(end - start))
            states.append(state)
            dropped += [start + i for i in seen or ()]
        if dropped:
            batch.drop(dropped)
        for state, part in zip(states, batch.parts()):
            if state is not None:
                self._guard(state.session, partial(state.fold, part))
                if state.session in faults:  # this batch's rows are not (wholly) in its state either
                    faults[state.session].skipped += len(part.index)

    def tick(self, now: float) -> TickResult:
        """Advance every session to wall time `now` (epoch s): close due bins, snapshot all."""
        snapshots = []
        bins: list[Bin] = []
        for sid, state in list(self.sessions.items()):
            closed = self._guard(sid, partial(state.tick, now))
            snapshot = None if closed is None else self._guard(sid, partial(state.snapshot, now))
            if snapshot is not None:
                bins.extend(closed or ())
                snapshots.append(snapshot)
        return TickResult(snapshots, bins)

    def release_ended(self, now: float) -> list[str]:
        """Let go of shows that ended `ended_keep_s` ago by their own clock; return their ids.

        Without this an engine would tick every show it ever saw, for as long as it runs.
        Their events stay in the stream (the post-live report reads them there) and their last
        snapshot in Redis; later events under their ids are dropped for `released_ttl_s`.
        Called by the runner at wall time `now`, once a tick.
        """
        keep_ms = self.config.ended_keep_s * 1000
        gone = [sid for sid, state in self.sessions.items()
                if state.ended_ms is not None and state.clock.watermark_ms - state.ended_ms >= keep_ms]
        for sid in gone:
            del self.sessions[sid]
            self.released[sid] = now
        horizon = now - self.config.released_ttl_s
        for sid in [sid for sid, at in self.released.items() if at < horizon]:
            del self.released[sid]
        return gone

    def _guard(self, sid: str, step: Callable[[], T]) -> T | None:
        """Run one session's step; if it raises, hold the session out (`SessionFault`) and return None."""
        return guarded(step, sid, self.sessions, self.faults)

    def hold_out(self, sid: str, fault: SessionFault) -> None:
        """Hold a session out as `_guard` does, for a fault raised by another stage of it (the comment stage)."""
        self.sessions.pop(sid, None)
        self.faults.setdefault(sid, fault)

    def session_ids(self) -> list[str]:
        """Return the ids of the sessions this engine holds."""
        return list(self.sessions)

    def to_state(self) -> dict[str, Any]:
        """Return all session state as JSON-ready data, remembered ids included."""
        return self._state({sid: state.to_state() for sid, state in self.sessions.items()})

    def _state(self, sessions: dict[str, Any]) -> dict[str, Any]:
        """The state layout `from_state` reads, around the sessions as `to_state` or `checkpoint` wrote them."""
        return {"version": STATE_VERSION, "sessions": sessions, "released": dict(self.released)}

    def checkpoint(self) -> Checkpoint:
        """Return the state with remembered ids apart (`Checkpoint`), and count those changed as stored.

        The caller stores `changed_ids` together with `state`; if that fails, it must rebuild
        the engine from what is stored (as after a crash), since the next call leaves them out.
        """
        sessions: dict[str, Any] = {}
        changed: dict[str, str] = {}
        named: set[str] = set()
        for sid, state in list(self.sessions.items()):
            raw = self._guard(sid, partial(state.to_state, seen_inline=False))
            if raw is None:
                continue
            sessions[sid] = raw
            named.update(ids_key(sid, int(minute)) for minute in raw["seen"]["ids64"])
            changed.update((ids_key(sid, minute), b64) for minute, b64 in state.seen.take_changed().items())
        return Checkpoint(self._state(sessions), changed, named)

    @classmethod
    def from_state(
        cls, config: EngineConfig | None, data: dict[str, Any], stored_ids: Mapping[str, str] | None = None
    ) -> Engine:
        """Rebuild an engine from `to_state` or `checkpoint` output (an older layout starts empty).

        `stored_ids` holds the remembered ids a `checkpoint` state names, by `ids_key`.
        """
        engine = cls(config)
        if data.get("version") != STATE_VERSION:
            return engine
        by_session: dict[str, dict[int, str]] = defaultdict(dict)
        for key, b64 in (stored_ids or {}).items():
            sid, minute = split_ids_key(key)
            by_session[sid][minute] = b64
        for sid, raw in data["sessions"].items():
            engine.sessions[sid] = SessionState.from_state(sid, engine.config, raw, by_session.get(sid))
        engine.released = {str(sid): float(at) for sid, at in data.get("released", {}).items()}  # absent before
        return engine
