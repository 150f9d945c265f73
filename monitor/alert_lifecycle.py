"""The alert lifecycle, modelled on Prometheus rules + Alertmanager: states, records, identity.

Detectors say what holds now (`Condition`); the `AlertBook` (`monitor.alerts`) turns that
into alerts with identity and history, moving each through these states::

                cond true          held `for`             cond false ≥ keep_firing_for
    inactive ──────────► pending ───────────► firing ─────────────────────────────► resolved
        ▲  cond false before `for` │             │  manual resolve (held until the
        └──────────────────────────┘             │  condition clears once)
                                                 └──► ack / repeat / (un)mute: same state

Identity is the `fingerprint` session + rule + labels, so every evaluation of the same
condition is an upsert. Every change is a `Transition` whose `to_dict()` is the audit
record the runner appends to the alerts stream; `notify` says whether it should go to
receivers. The timers of each rule and the inhibition rules are a `LifecycleConfig`.

Exceptions::

    ValueError
     └── AlertError
          ├── UnknownAlert        no alert or silence with that id
          └── IllegalTransition   e.g. acknowledging a resolved alert
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any

from monitor.detectors.condition import Severity


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


# The states each state may move to; `AlertBook` raises `IllegalTransition` for any other move.
ALLOWED: dict[AlertState, frozenset[AlertState]] = {
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
