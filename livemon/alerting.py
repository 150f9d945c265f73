"""The engine's alert stage: closed bins → detectors → alert book → audit stream.

One `AlertStage` per partition, checkpointed with that partition's engine state, so
after a restart detectors and alert timers continue where they were. Each tick the
runner hands it the tick's closed bins and the responder commands written by the web
API (`lm:alerts:cmd`); it appends every transition to the `lm:alerts` audit stream
(trimmed by MINID to the audit retention) and mirrors the alerts it holds into
`lm:alerts:active`, which the API and new screens read.

Delivery is at-least-once: transitions written after the last checkpoint are written
again when a crashed engine replays; consumers de-duplicate on (fingerprint, event, at).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from livemon import keys
from livemon.command_streams import read_commands_since, stream_order
from monitor.alert_config import AlertConfig
from monitor.alert_lifecycle import AlertError, AlertState, Transition
from monitor.alerts import AlertBook
from monitor.bins import Bin
from monitor.detectors import Condition, DetectorSuite

log = logging.getLogger(__name__)

COMMAND_FIELD = "c"
COMMANDS_PER_TICK = 500
class AlertStage:
    """Detectors and alert book of one partition, plus its position in the command stream."""

    def __init__(self, config: AlertConfig, retention_s: int) -> None:
        self.config = config
        self.retention_s = retention_s
        self.suite = DetectorSuite(config.detectors)
        self.book = AlertBook(config.lifecycle)
        self.command_id = "0-0"
        self.published: dict[str, bytes] = {}  # fingerprint -> record last written to lm:alerts:active
        self.groups: dict[str, list[dict[str, Any]]] = {}  # open alerts per session, as of the last step
        self.ended: set[str] = set()  # sessions whose snapshot said live = false, closed on the next step

    def step(self, pipe: Any, bins: list[Bin], commands: list[tuple[str, dict[str, Any]]], now: float,
             held: list[Condition] | None = None) -> int:
        """Apply new commands, evaluate the bins, queue the writes on `pipe`; return transitions written.

        `held` are conditions of sessions that produce no bins, evaluated at `now`: the
        engine faults of held-out sessions (livemon/quarantine.py).
        """
        transitions: list[Transition] = []
        done = stream_order(self.command_id)
        for command_id, command in commands:
            if stream_order(command_id) <= done:
                continue
            transitions.extend(self.apply(command_id, command, now))
            self.command_id = command_id
        # one evaluation per bin end: the bins a tick closes mostly share one end time, and the
        # book's per-evaluation work (repeats, mutes, pruning) need not run once per session
        by_end: dict[int, list[Bin]] = {}
        for b in bins:
            by_end.setdefault(b.end, []).append(b)
        for end in sorted(by_end):
            conditions: list[Condition] = []
            for b in by_end[end]:
                try:
                    conditions.extend(self.suite.observe(b))
                except Exception:  # one detector's bug must not stop alerting for every session
                    log.exception("detectors failed on bin %s@%d", b.session, b.start)
            transitions.extend(self.book.evaluate(conditions, {b.session for b in by_end[end]}, float(end)))
        if held:
            transitions.extend(self.book.evaluate(held, {c.session for c in held}, now))
        for session in sorted(self.ended):  # an ended show's alerts resolve; its detector state goes
            transitions.extend(self.book.close_session(session, now))
            self.suite.forget(session)
        self.ended.clear()
        self._write(pipe, transitions, now)
        return len(transitions)

    def apply(self, command_id: str, command: dict[str, Any], now: float) -> list[Transition]:
        """Apply one responder command; commands for alerts this partition does not hold are ignored."""
        op = command.get("op")
        at = float(command.get("at", now))
        try:
            if op in ("ack", "resolve"):
                fingerprint = str(command.get("fingerprint"))
                if fingerprint not in self.book.alerts:
                    return []
                action = self.book.ack if op == "ack" else self.book.resolve
                return [action(fingerprint, str(command.get("actor", "")), str(command.get("note", "")), at)]
            if op == "silence":
                self.book.add_silence(dict(command["matchers"]), float(command["starts_at"]),
                                      float(command["ends_at"]), str(command.get("actor", "")),
                                      str(command.get("reason", "")), silence_id=command_id)
            elif op == "expire_silence":
                if command.get("silence_id") in self.book.silences:
                    self.book.expire_silence(str(command["silence_id"]), at)
            else:
                log.warning("unknown alert command %s: %r", command_id, op)
        except (AlertError, KeyError, TypeError, ValueError) as exc:
            log.info("alert command %s not applied: %s", command_id, exc)
        return []

    def annotate(self, snapshot: dict[str, Any]) -> None:
        """Put the session's open alerts into its snapshot (`alerts` key of the snapshot contract).

        A snapshot that says the session is no longer live marks it for closing on the next
        step: its open alerts resolve ("session ended") and its detector state is dropped.
        """
        session = snapshot.get("session")
        if snapshot.get("live") is False:
            self.ended.add(str(session))
        snapshot["alerts"] = [
            {k: a[k] for k in ("fingerprint", "rule", "severity", "state", "summary", "labels", "acked_by")}
            for a in self.groups.get(str(session), [])
        ]
        snapshot["comparisons"] = [c.to_dict() for c in self.suite.comparisons(str(session))]

    def _write(self, pipe: Any, transitions: list[Transition], now: float) -> None:
        min_id = max(0, int((now - self.retention_s) * 1000))
        for t in transitions:
            pipe.xadd(keys.ALERTS, {keys.ALERT_SESSION_FIELD: t.session,
                                    keys.ALERT_RECORD_FIELD: orjson.dumps(t.to_dict())},
                      minid=min_id, approximate=True)
        current: dict[str, bytes] = {}
        for fp, alert in self.book.alerts.items():
            if alert.state is AlertState.INACTIVE:
                continue
            record = alert.to_dict()
            record["muted"] = self.book.muted_reason(fp, now)
            current[fp] = orjson.dumps(record)
            if self.published.get(fp) != current[fp]:  # write only what changed since the last tick
                pipe.hset(keys.ALERTS_ACTIVE, fp, current[fp])
        gone = self.published.keys() - current.keys()
        if gone:
            pipe.hdel(keys.ALERTS_ACTIVE, *gone)
        self.published = current
        self.groups = self.book.groups()

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint part."""
        return {"detectors": self.suite.to_state(), "book": self.book.to_state(), "command_id": self.command_id,
                "published": sorted(self.published)}  # names only: a restored stage rewrites each once

    @classmethod
    def from_state(cls, config: AlertConfig, retention_s: int, data: dict[str, Any] | None) -> AlertStage:
        """Rebuild from `to_state` output (a fresh stage when the checkpoint predates alerting)."""
        stage = cls(config, retention_s)
        if data:
            stage.suite = DetectorSuite.from_state(config.detectors, data["detectors"])
            stage.book = AlertBook.from_state(config.lifecycle, data["book"])
            stage.command_id = data["command_id"]
            stage.published = dict.fromkeys(data["published"], b"")
        return stage


async def read_commands(client: Any, stages: list[AlertStage]) -> list[tuple[str, dict[str, Any]]]:
    """Read responder commands newer than the oldest stage position (each stage skips what it applied)."""
    # an unreadable entry is consumed (and logged) like an unknown command
    return await read_commands_since(client, keys.ALERT_COMMANDS, COMMAND_FIELD, (s.command_id for s in stages),
                                     COMMANDS_PER_TICK, malformed={"op": None})
