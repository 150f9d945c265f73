"""The alert lifecycle, modelled on Prometheus rules + Alertmanager, with no I/O.

Detectors say what holds now (`Condition`); the `AlertBook` turns that into alerts
with identity and history::

                cond true          held `for`             cond false ≥ keep_firing_for
    inactive ──────────► pending ───────────► firing ─────────────────────────────► resolved
        ▲  cond false before `for` │             │  manual resolve (held until the
        └──────────────────────────┘             │  condition clears once)
                                                 └──► ack / repeat / (un)mute: same state

Identity is the fingerprint session + rule + labels, so every evaluation of the same
condition is an upsert. Every change is returned as a `Transition` whose `to_dict()` is
the audit record the runner appends to the alerts stream; `notify` says whether it
should go to receivers (silenced and inhibited alerts are tracked and audited but not
notified; acknowledged alerts are not re-notified by the repeat interval).

Exceptions::

    ValueError
     └── AlertError
          ├── UnknownAlert        no alert or silence with that id
          └── IllegalTransition   e.g. acknowledging a resolved alert
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from monitor.detectors.condition import Condition, Severity


class AlertError(ValueError):
    """Base of the alert lifecycle errors."""


class UnknownAlert(AlertError):
    """No alert (or silence) has that id."""


class IllegalTransition(AlertError):
    """The requested change is not allowed from the alert's current state."""


class AlertState(enum.StrEnum):
    """Where an alert is in its lifecycle."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


_ALLOWED: dict[AlertState, frozenset[AlertState]] = {
    AlertState.INACTIVE: frozenset({AlertState.PENDING, AlertState.FIRING}),
    AlertState.PENDING: frozenset({AlertState.FIRING, AlertState.INACTIVE, AlertState.RESOLVED}),
    AlertState.FIRING: frozenset({AlertState.FIRING, AlertState.RESOLVED}),
    AlertState.RESOLVED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Per-rule timers: hold `for_s` before firing; keep firing `keep_firing_for_s` after it clears."""

    for_s: float = 0.0
    keep_firing_for_s: float = 60.0

    def __post_init__(self) -> None:
        if self.for_s < 0 or self.keep_firing_for_s < 0:
            raise ValueError(f"for_s/keep_firing_for_s: expected >= 0, got {self.for_s}, {self.keep_firing_for_s}")


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """While `source` fires for a session, alerts of `targets` for that session are muted."""

    source: str
    targets: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.source in self.targets:
            raise ValueError(f"inhibit rule '{self.source}': an alert cannot inhibit itself")


@dataclass(frozen=True, slots=True)
class LifecycleConfig:
    """Timers and inhibition for the whole book."""

    rules: dict[str, RuleConfig] = field(default_factory=dict)
    default_rule: RuleConfig = field(default_factory=RuleConfig)
    repeat_interval_s: float = 1800.0
    resolved_visible_s: float = 300.0
    inhibit: tuple[InhibitRule, ...] = ()

    def __post_init__(self) -> None:
        if self.repeat_interval_s <= 0:
            raise ValueError(f"repeat_interval_s: expected > 0, got {self.repeat_interval_s}")
        if self.resolved_visible_s < 0:
            raise ValueError(f"resolved_visible_s: expected >= 0, got {self.resolved_visible_s}")

    def rule(self, name: str) -> RuleConfig:
        """Timers for one rule (the default when it has none of its own)."""
        return self.rules.get(name, self.default_rule)


@dataclass(frozen=True, slots=True)
class Silence:
    """Mute alerts whose session/rule/severity/labels equal every matcher, for [starts_at, ends_at)."""

    id: str
    matchers: tuple[tuple[str, str], ...]
    starts_at: float
    ends_at: float
    creator: str
    reason: str

    def active(self, now: float) -> bool:
        """True while the silence applies."""
        return self.starts_at <= now < self.ends_at

    def matches(self, alert: Alert) -> bool:
        """True when every matcher equals the alert's field or label of that name."""
        fields = {"session": alert.session, "rule": alert.rule, "severity": alert.severity.value, **dict(alert.labels)}
        return all(fields.get(name) == value for name, value in self.matchers)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (API and audit)."""
        return {"id": self.id, "matchers": dict(self.matchers), "starts_at": self.starts_at,
                "ends_at": self.ends_at, "creator": self.creator, "reason": self.reason}


@dataclass(slots=True)
class Alert:
    """One alert instance (mutable inside the book; callers get dicts or transitions)."""

    fingerprint: str
    session: str
    rule: str
    labels: tuple[tuple[str, str], ...]
    severity: Severity
    state: AlertState
    started_at: float
    last_met: float
    value: float
    threshold: float
    summary: str
    evidence: tuple[dict[str, Any], ...]
    fired_at: float | None = None
    resolved_at: float | None = None
    last_notified_at: float | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    ack_note: str | None = None
    hold: bool = False  # manually resolved while the condition still held

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view."""
        return {
            "fingerprint": self.fingerprint, "session": self.session, "rule": self.rule,
            "labels": dict(self.labels), "severity": self.severity.value, "state": self.state.value,
            "started_at": self.started_at, "fired_at": self.fired_at, "resolved_at": self.resolved_at,
            "last_met": self.last_met, "value": self.value, "threshold": self.threshold, "summary": self.summary,
            "evidence": list(self.evidence), "last_notified_at": self.last_notified_at, "acked_by": self.acked_by,
            "acked_at": self.acked_at, "ack_note": self.ack_note, "hold": self.hold,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Alert:
        """Inverse of `to_dict`."""
        return cls(
            fingerprint=d["fingerprint"], session=d["session"], rule=d["rule"],
            labels=tuple(sorted(d["labels"].items())), severity=Severity(d["severity"]),
            state=AlertState(d["state"]), started_at=d["started_at"], last_met=d["last_met"], value=d["value"],
            threshold=d["threshold"], summary=d["summary"], evidence=tuple(d["evidence"]), fired_at=d["fired_at"],
            resolved_at=d["resolved_at"], last_notified_at=d["last_notified_at"], acked_by=d["acked_by"],
            acked_at=d["acked_at"], ack_note=d["ack_note"], hold=d["hold"],
        )


@dataclass(frozen=True, slots=True)
class Transition:
    """One audited change of one alert. `event` names what happened; `notify` whether to send it."""

    fingerprint: str
    session: str
    rule: str
    labels: tuple[tuple[str, str], ...]
    severity: Severity
    state: AlertState
    from_state: AlertState
    at: float
    value: float
    threshold: float
    summary: str
    evidence: tuple[dict[str, Any], ...]
    event: str
    notify: bool
    actor: str | None = None
    note: str | None = None
    muted: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready audit record."""
        return {
            "fingerprint": self.fingerprint, "session": self.session, "rule": self.rule,
            "labels": dict(self.labels), "severity": self.severity.value, "state": self.state.value,
            "from_state": self.from_state.value, "at": self.at, "value": self.value, "threshold": self.threshold,
            "summary": self.summary, "evidence": list(self.evidence), "actor": self.actor, "note": self.note,
            "event": self.event, "notify": self.notify, "muted": self.muted,
        }


def fingerprint(session: str, rule: str, labels: tuple[tuple[str, str], ...]) -> str:
    """Return the stable identity of an alert: a hash of session, rule and sorted labels."""
    raw = "\x1f".join([session, rule, *(f"{k}={v}" for k, v in sorted(labels))])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


class AlertBook:
    """All alerts and silences of the sessions one engine owns."""

    def __init__(self, config: LifecycleConfig | None = None) -> None:
        self.config = config or LifecycleConfig()
        self.alerts: dict[str, Alert] = {}
        self.silences: dict[str, Silence] = {}
        self.silence_seq = 0

    # ------------------------------------------------------------ evaluation

    def evaluate(self, conditions: list[Condition], evaluated_sessions: set[str], now: float) -> list[Transition]:
        """Fold one evaluation's conditions into the book and return every transition.

        Args:
            conditions: what holds now, from the detectors.
            evaluated_sessions: sessions whose detectors ran this time; alerts of other
                sessions are left alone (no data is not the same as "condition false").
            now: evaluation time, epoch seconds.
        """
        holding: dict[str, Condition] = {}
        for c in conditions:
            fp = fingerprint(c.session, c.rule, c.labels)
            if fp not in holding or c.severity.rank > holding[fp].severity.rank:
                holding[fp] = c
        out: list[Transition] = []
        for fp, c in holding.items():
            alert = self.alerts.get(fp)
            if alert is not None and alert.hold:
                continue
            if alert is None or alert.state is AlertState.RESOLVED:
                alert = self.alerts[fp] = Alert(
                    fingerprint=fp, session=c.session, rule=c.rule, labels=c.labels, severity=c.severity,
                    state=AlertState.INACTIVE, started_at=now, last_met=now, value=c.value, threshold=c.threshold,
                    summary=c.summary, evidence=c.evidence,
                )
            else:
                alert.severity, alert.value, alert.threshold = c.severity, c.value, c.threshold
                alert.summary, alert.evidence, alert.last_met = c.summary, c.evidence, now
            rule = self.config.rule(c.rule)
            if alert.state is AlertState.INACTIVE:
                target = AlertState.FIRING if rule.for_s == 0 else AlertState.PENDING
                out.append(self._move(alert, target, now, "firing" if rule.for_s == 0 else "pending"))
            elif alert.state is AlertState.PENDING and now - alert.started_at >= rule.for_s:
                out.append(self._move(alert, AlertState.FIRING, now, "firing"))
        sessions = evaluated_sessions | {c.session for c in conditions}
        for fp, alert in list(self.alerts.items()):
            if fp in holding or alert.session not in sessions:
                continue
            if alert.hold:
                alert.hold = False  # the condition cleared once: a new episode may open
            elif alert.state is AlertState.PENDING:
                out.append(self._move(alert, AlertState.INACTIVE, now, "cleared"))
                del self.alerts[fp]
            elif (alert.state is AlertState.FIRING
                  and now - alert.last_met >= self.config.rule(alert.rule).keep_firing_for_s):
                out.append(self._move(alert, AlertState.RESOLVED, now, "resolved"))
        out.extend(self._notify_due(now))
        self._prune(now)
        return out

    def _notify_due(self, now: float) -> list[Transition]:
        """Emit notifications owed: first after a mute ends, and the repeat interval."""
        out = []
        for alert in self.alerts.values():
            if alert.state is not AlertState.FIRING or alert.acked_by is not None or self._muted(alert, now):
                continue
            if alert.last_notified_at is None:
                out.append(self._move(alert, AlertState.FIRING, now, "unmuted"))
            elif now - alert.last_notified_at >= self.config.repeat_interval_s:
                out.append(self._move(alert, AlertState.FIRING, now, "repeat"))
        return out

    def _move(self, alert: Alert, target: AlertState, now: float, event: str, actor: str | None = None,
              note: str | None = None) -> Transition:
        if target not in _ALLOWED[alert.state]:
            raise IllegalTransition(f"alert {alert.fingerprint}: cannot go from {alert.state} to {target}")
        muted = self._muted(alert, now)
        if target is AlertState.FIRING:
            notify = muted is None
            if alert.fired_at is None:
                alert.fired_at = now
        elif target is AlertState.RESOLVED:
            notify = alert.last_notified_at is not None and muted is None
            alert.resolved_at = now
        else:
            notify = False
        if notify:
            alert.last_notified_at = now
        previous, alert.state = alert.state, target
        return self._record(alert, previous, now, event, notify, actor, note, muted)

    def _record(self, alert: Alert, previous: AlertState, now: float, event: str, notify: bool,
                actor: str | None, note: str | None, muted: str | None) -> Transition:
        return Transition(
            fingerprint=alert.fingerprint, session=alert.session, rule=alert.rule, labels=alert.labels,
            severity=alert.severity, state=alert.state, from_state=previous, at=now, value=alert.value,
            threshold=alert.threshold, summary=alert.summary, evidence=alert.evidence, event=event, notify=notify,
            actor=actor, note=note, muted=muted,
        )

    def _muted(self, alert: Alert, now: float) -> str | None:
        """Return why notifications for this alert are muted ("silenced"/"inhibited"), or None."""
        if any(s.active(now) and s.matches(alert) for s in self.silences.values()):
            return "silenced"
        for rule in self.config.inhibit:
            if alert.rule in rule.targets and any(
                a.session == alert.session and a.rule == rule.source and a.state is AlertState.FIRING
                for a in self.alerts.values()
            ):
                return "inhibited"
        return None

    def _prune(self, now: float) -> None:
        for fp in [fp for fp, a in self.alerts.items() if a.state is AlertState.RESOLVED and not a.hold
                   and now - (a.resolved_at or now) >= self.config.resolved_visible_s]:
            del self.alerts[fp]
        for sid in [sid for sid, s in self.silences.items() if s.ends_at <= now]:
            del self.silences[sid]

    # ------------------------------------------------------------ operators

    def ack(self, fp: str, who: str, note: str, now: float) -> Transition:
        """Acknowledge a pending or firing alert: someone is on it; stop repeat notifications."""
        alert = self._get(fp)
        if alert.state not in (AlertState.PENDING, AlertState.FIRING):
            raise IllegalTransition(f"alert {fp}: cannot acknowledge a {alert.state} alert")
        alert.acked_by, alert.acked_at, alert.ack_note = who, now, note
        return self._record(alert, alert.state, now, "acknowledged", False, who, note, None)

    def resolve(self, fp: str, who: str, note: str, now: float) -> Transition:
        """Resolve by hand; while the condition keeps holding, the alert is not re-opened."""
        alert = self._get(fp)
        if alert.state not in (AlertState.PENDING, AlertState.FIRING):
            raise IllegalTransition(f"alert {fp}: cannot resolve a {alert.state} alert")
        alert.hold = True
        return self._move(alert, AlertState.RESOLVED, now, "resolved", who, note)

    def close_session(self, session: str, now: float) -> list[Transition]:
        """Resolve every open alert of a session that ended."""
        return [
            self._move(a, AlertState.RESOLVED, now, "resolved", "system", "session ended")
            for a in list(self.alerts.values())
            if a.session == session and a.state in (AlertState.PENDING, AlertState.FIRING)
        ]

    def add_silence(self, matchers: dict[str, str], starts_at: float, ends_at: float, creator: str,
                    reason: str, silence_id: str | None = None) -> Silence:
        """Create a silence; raises AlertError when it has no matcher or ends before it starts.

        `silence_id` lets the edge use one id for the same silence in every engine's book
        (the id of the command that created it); by default ids are local `sil-N`.
        """
        if not matchers:
            raise AlertError("silence: expected at least one matcher (an empty silence would mute everything)")
        if ends_at <= starts_at:
            raise AlertError(f"silence: expected ends_at after starts_at, got {starts_at} .. {ends_at}")
        self.silence_seq += 1
        silence = Silence(silence_id or f"sil-{self.silence_seq}", tuple(sorted(matchers.items())), starts_at,
                          ends_at, creator, reason)
        self.silences[silence.id] = silence
        return silence

    def expire_silence(self, silence_id: str, now: float) -> Silence:
        """End a silence now."""
        silence = self.silences.pop(silence_id, None)
        if silence is None:
            raise UnknownAlert(f"no silence {silence_id!r}")
        return replace(silence, ends_at=min(silence.ends_at, now))

    # ------------------------------------------------------------ views and checkpoints

    def active(self, session: str | None = None) -> list[dict[str, Any]]:
        """Return pending and firing alerts, most severe and oldest first, with mute status."""
        alerts = [a for a in self.alerts.values() if a.state in (AlertState.PENDING, AlertState.FIRING)
                  and (session is None or a.session == session)]
        alerts.sort(key=lambda a: (-a.severity.rank, a.started_at))
        return [a.to_dict() for a in alerts]

    def groups(self) -> dict[str, list[dict[str, Any]]]:
        """Return active alerts grouped per session (the notification and wallboard unit)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for a in self.active():
            out.setdefault(a["session"], []).append(a)
        return out

    def muted_reason(self, fp: str, now: float) -> str | None:
        """Why an alert is currently muted, for views."""
        return self._muted(self._get(fp), now)

    def _get(self, fp: str) -> Alert:
        alert = self.alerts.get(fp)
        if alert is None:
            raise UnknownAlert(f"no alert {fp!r}")
        return alert

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint of alerts and silences."""
        return {"alerts": [a.to_dict() for a in self.alerts.values()],
                "silences": [s.to_dict() for s in self.silences.values()], "silence_seq": self.silence_seq}

    @classmethod
    def from_state(cls, config: LifecycleConfig, data: dict[str, Any]) -> AlertBook:
        """Rebuild a book from `to_state` output."""
        book = cls(config)
        for raw in data["alerts"]:
            alert = Alert.from_dict(raw)
            book.alerts[alert.fingerprint] = alert
        for raw in data["silences"]:
            book.silences[raw["id"]] = Silence(raw["id"], tuple(sorted(raw["matchers"].items())), raw["starts_at"],
                                               raw["ends_at"], raw["creator"], raw["reason"])
        book.silence_seq = int(data["silence_seq"])
        return book
