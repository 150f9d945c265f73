"""Sessions held out of the engine after their code raised, kept visible and recoverable.

`monitor.engine.Engine` holds out a session whose fold, tick or snapshot raised
(`SessionFault`), so one session's bug leaves the partition's other rooms running. Here the
runner's side of it:

* the held-out session freezes at its **last checkpoint**: `Quarantined` keeps that
  checkpoint's state of the session (engine and comment analysis) and stream position
  (`resume_from`), and is itself checkpointed, so neither its state nor its remembered ids
  are lost in later checkpoints;
* its last snapshot is republished with a `fault` (the wall shows the figures are frozen),
  and a critical `engine_fault` alert fires for it, routed to receivers like any other;
* its events stay in the partition stream. When an engine acquires the partition (a restart,
  typically after the bug is fixed) `refold` folds them again from `resume_from` into the
  frozen state. If nothing raises the session is back, exactly as if it had never failed;
  otherwise it stays held out, and the next restart tries again.

A fault in the session's comment analysis (monitor/comment_stage.py) holds it out the same
way. The session's alerts and suggestions stay; the closed bins of the held-out interval
never reach the detectors.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis

from livemon import keys, redis_replies
from monitor import comment_stage, wire_entries
from monitor.comment_stage import CommentStage
from monitor.comments import CommentTracker
from monitor.detectors import Condition
from monitor.detectors.condition import Severity
from monitor.engine import Engine, EngineConfig, ids_key, split_ids_key
from monitor.events import Event
from monitor.session import SessionState
from monitor.session_fault import SessionFault

RULE = "engine_fault"
REFOLD_COUNT = 5000  # stream entries per XRANGE while refolding


@dataclass(frozen=True, slots=True)
class Refolded:
    """A recovered session: its engine state and comment tracker, up to date."""

    state: SessionState
    comments: CommentTracker | None


@dataclass
class Quarantined:
    """A held-out session: why and since when, and the checkpoint it is frozen at."""

    session: str
    error: str
    since: float  # epoch s
    resume_from: str  # stream id of the checkpoint `state` belongs to; later events are refolded
    state: dict[str, Any] | None  # the session in that checkpoint (None: it was not in it yet)
    snapshot: dict[str, Any] | None  # the last snapshot published before the fault
    skipped: int = 0  # events not folded since the fault
    comments: dict[str, Any] | None = None  # its comment tracker in that checkpoint (None: not in it)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the partition checkpoint."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Quarantined:
        """Inverse of `to_dict`."""
        return cls(**data)

    def ids_keys(self) -> set[str]:
        """The checkpoint ids fields (`monitor.engine.ids_key`) the frozen state names: kept while held out."""
        minutes = (self.state or {}).get("seen", {}).get("ids64", {})
        return {ids_key(self.session, int(minute)) for minute in minutes}

    def fault(self) -> dict[str, Any]:
        """The `fault` field of the session's snapshot (docs/architecture.md)."""
        return {"error": self.error, "since": self.since, "skipped": self.skipped}

    def frozen_snapshot(self) -> dict[str, Any] | None:
        """The last snapshot with the `fault` added (None if the session had published none)."""
        if self.snapshot is None:
            return None
        return {**self.snapshot, "fault": self.fault()}

    def condition(self) -> Condition:
        """The `engine_fault` alert condition (docs/alerts.md)."""
        since = time.strftime("%H:%M:%S", time.gmtime(self.since))
        return Condition(
            rule=RULE, session=self.session, severity=Severity.CRITICAL, value=float(self.skipped), threshold=0.0,
            summary=f"Engine fault: figures frozen since {since} UTC, {self.skipped} events not yet counted "
                    f"(they are counted when the engine restarts with a fix) — {self.error}",
            evidence=({"error": self.error, "since": self.since, "resume_from": self.resume_from},),
        )


async def isolate(client: aioredis.Redis, partition: int, session: str, fault: SessionFault,
                  now: float) -> Quarantined:
    """Freeze a newly faulted session at the partition's stored checkpoint and last snapshot."""
    raw = await client.get(keys.checkpoint_key(partition))
    saved = orjson.loads(raw) if raw else {}
    state = saved.get("state", {}).get("sessions", {}).get(session)
    comments = ((saved.get("comments") or {}).get("trackers") or {}).get(session)
    snapshot = await client.hget(keys.SNAPSHOTS, session)
    return Quarantined(session, fault.error, now, saved.get("last_id", "0-0"), state,
                       orjson.loads(snapshot) if snapshot else None, fault.skipped, comments)


async def refold(client: aioredis.Redis, stream: str, held: Quarantined, upto: str, config: EngineConfig,
                 stored_ids: dict[str, str], now: float) -> Refolded | SessionFault:
    """Rebuild a held-out session: its frozen state plus its events after `resume_from` up to `upto`.

    `stored_ids` is the partition's checkpoint ids hash. Returns the session, ticked to
    `now`, or the fault that holds it out still.
    """
    engine = Engine(config)
    stage = CommentStage.from_state(None, {held.session: held.comments} if held.comments else None)
    if held.state is not None:
        ids = {minute: b64 for key, b64 in stored_ids.items() for session, minute in [split_ids_key(key)]
               if session == held.session}
        engine.sessions[held.session] = SessionState.from_state(held.session, config, held.state, ids)
    start = "-" if held.resume_from == "0-0" else "(" + held.resume_from
    marker = wire_entries.session_marker(held.session)
    while True:
        entries = await redis_replies.xrange(client, stream, start, upto, count=REFOLD_COUNT)
        if not entries:
            break
        payloads = [p for _, fields in entries if (p := fields.get(keys.EVENT_FIELD.encode())) is not None
                    and marker in p]
        kept = engine.apply_wire(payloads, comment_stage.KINDS)
        stage.observe([Event.from_wire_dict(d) for d in kept])
        if fault := engine.faults.get(held.session) or stage.faults.get(held.session):
            return fault
        start = "(" + entries[-1][0].decode()
    engine.tick(now)
    if held.session in engine.faults:
        return engine.faults[held.session]
    return Refolded(engine.sessions.get(held.session) or SessionState(held.session, config),
                    stage.trackers.get(held.session))
