"""One partition as an engine process holds it: every stage's state and the stream position they are at.

`livemon.engine_runner` reads, ticks and checkpoints partitions; this is what it holds for
each: the engine, the comment, alert and suggestion stages, the sessions held out
(livemon/quarantine.py), the id of the last entry folded and the ids read but not yet
acknowledged. All of it is restored from, and written to, one checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis

from livemon import keys
from livemon.alerting import AlertStage
from livemon.answering import AnsweringStage
from livemon.command_streams import stream_order
from livemon.quarantine import Quarantined, isolate, refold
from livemon.redis_replies import FieldEntries
from livemon.suggesting import SuggestionStage
from monitor import comment_stage, wire_entries
from monitor.alert_config import AlertConfig
from monitor.engine import Checkpoint, Engine, EngineConfig
from monitor.events import Event
from monitor.session_fault import SessionFault
from monitor.suggestion_config import SuggestionConfig

log = logging.getLogger(__name__)


@dataclass
class Partition:
    """One partition's stages plus its stream position."""

    number: int
    engine: Engine
    alerts: AlertStage
    last_applied: str = "0-0"
    unacked: list[bytes] = field(default_factory=list)  # ids read since the last checkpoint, XACKed with the next
    stored_ids: set[str] = field(default_factory=set)  # fields of the checkpoint's ids hash (`keys.checkpoint_ids_key`)
    suggestions: SuggestionStage | None = None
    answering: AnsweringStage = field(default_factory=lambda: AnsweringStage.from_state(None))
    quarantine: dict[str, Quarantined] = field(default_factory=dict)  # sessions held out (livemon/quarantine.py)

    @classmethod
    def restore(cls, number: int, saved: dict[str, Any] | None, stored_ids: dict[str, str], config: EngineConfig,
                alert_config: AlertConfig, suggestion_config: SuggestionConfig, audit_s: int) -> Partition:
        """Rebuild from a stored checkpoint (`checkpoint_payload`), or start empty when there is none."""
        if not saved:
            part = cls(number, Engine(config), AlertStage(alert_config, audit_s))
            part.suggestions = SuggestionStage(suggestion_config)
        else:
            engine = Engine.from_state(config, saved["state"], stored_ids)
            part = cls(number, engine, AlertStage.from_state(alert_config, audit_s, saved.get("alerts")),
                       saved["last_id"])
            part.suggestions = SuggestionStage.from_state(suggestion_config, saved.get("suggestions"))
            part.answering = AnsweringStage.from_state(saved.get("comments"))
            for sid, held in (saved.get("quarantined") or {}).items():
                part.quarantine[sid] = Quarantined.from_dict(held)
                engine.faults[sid] = SessionFault(held["error"], "", held["skipped"])  # the replay skips it
        part.stored_ids = set(stored_ids)  # those the checkpoint does not name go with the next one
        return part

    @property
    def stream(self) -> str:
        return keys.events_stream(self.number)

    def fold(self, entries: FieldEntries) -> tuple[list[Event], int]:
        """Apply entries newer than the checkpointed position; return the comment stage's events and the events folded.

        The engine folds the raw payloads (`Engine.apply_wire`) and returns the decoded
        dicts of the few kinds the comment stage reads; only those become `Event`s,
        because building one costs more than folding it, and none is decoded twice.
        Held-out sessions' events are not returned: their comment tracker is frozen too.
        """
        if not entries:
            return [], 0
        self.unacked.extend(raw_id for raw_id, _ in entries)
        done = stream_order(self.last_applied)
        fresh = entries
        if stream_order(entries[0][0].decode()) <= done:  # replay after a restart: skip what the checkpoint holds
            fresh = [e for e in entries if stream_order(e[0].decode()) > done]
            if not fresh:
                return [], 0
        self.last_applied = fresh[-1][0].decode()  # entries come in stream order
        # a missing payload: the entry was trimmed or deleted while pending
        payloads = [p for _, p in fresh if p is not None]
        try:
            kept = self.engine.apply_wire(payloads, comment_stage.KINDS)
            folded = sum(map(wire_entries.count_of, payloads))
        except (ValueError, TypeError, KeyError):  # one unreadable entry must not stop the partition
            kept, folded = self._fold_one_by_one(payloads)
        held = self.engine.faults
        return [Event.from_wire_dict(d) for d in kept if d["session"] not in held], folded

    def _fold_one_by_one(self, payloads: list[bytes]) -> tuple[list[dict[str, Any]], int]:
        """Retry a failed batch entry by entry (ids already folded count once).

        Returns the comment stage's decoded events among the readable entries, and how many events those hold.
        """
        kept: list[dict[str, Any]] = []
        readable = 0
        for payload in payloads:
            try:
                kept += self.engine.apply_wire([payload], comment_stage.KINDS)
                readable += wire_entries.count_of(payload)
            except (ValueError, TypeError, KeyError):
                log.exception("skipping an unreadable entry in %s", self.stream)
        return kept, readable

    def hold_out_comment_faults(self) -> None:
        """Hold out of the engine the sessions whose comment analysis raised (monitor/comment_stage.py)."""
        comments = self.answering.comments
        for sid, fault in comments.faults.items():
            self.engine.hold_out(sid, fault)
        comments.faults.clear()

    async def isolate_faults(self, client: aioredis.Redis, now: float) -> None:
        """Quarantine the sessions whose code raised since the last call; keep counts of the others."""
        for sid, fault in self.engine.faults.items():
            held = self.quarantine.get(sid)
            if held is None:
                log.error("partition %d: session %s held out after an error, its figures frozen:\n%s",
                          self.number, sid, fault.trace)
                held = self.quarantine[sid] = await isolate(client, self.number, sid, fault, now)
                self.answering.comments.trackers.pop(sid, None)  # frozen too, at the checkpoint (`held.comments`)
            held.skipped = fault.skipped

    async def recover(self, client: aioredis.Redis, config: EngineConfig, stored_ids: dict[str, str],
                      now: float) -> None:
        """Refold each held-out session from its frozen checkpoint (livemon/quarantine.py); keep out those that fail."""
        for sid, held in list(self.quarantine.items()):
            result = await refold(client, self.stream, held, self.last_applied, config, stored_ids, now)
            if isinstance(result, SessionFault):
                held.error = result.error
                log.error("partition %d: session %s still fails after refolding, held out: %s",
                          self.number, sid, result.trace)
                continue
            self.engine.faults.pop(sid, None)
            self.engine.sessions[sid] = result.state
            if result.comments is not None:
                self.answering.comments.trackers[sid] = result.comments
            del self.quarantine[sid]
            log.warning("partition %d: session %s recovered: refolded from %s", self.number, sid, held.resume_from)

    def checkpoint_payload(self, checkpoint: Checkpoint) -> bytes:
        """The partition checkpoint (`restore` reads it back): the engine's `checkpoint` state and every stage's."""
        return orjson.dumps(
            {"last_id": self.last_applied, "state": checkpoint.state, "alerts": self.alerts.to_state(),
             "suggestions": self.suggestions.to_state() if self.suggestions else None,
             "comments": self.answering.to_state(),
             "quarantined": {sid: held.to_dict() for sid, held in self.quarantine.items()}},
            option=orjson.OPT_SERIALIZE_NUMPY,
        )
