"""The alert book: every alert and silence of the sessions one engine owns, with no I/O.

`AlertBook.evaluate` folds each evaluation's conditions into alerts following the
lifecycle of `monitor.alert_lifecycle` (states, timers, records, errors) and returns every
`Transition`. Silenced and inhibited alerts are tracked and audited but not notified;
acknowledged alerts are not re-notified by the repeat interval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from monitor.alert_lifecycle import (
    ALLOWED,
    Alert,
    AlertError,
    AlertState,
    IllegalTransition,
    LifecycleConfig,
    Transition,
    UnknownAlert,
    fingerprint,
)
from monitor.detectors.condition import Condition


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
        if target not in ALLOWED[alert.state]:
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
