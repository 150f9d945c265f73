"""Alert settings: `config/alerts.toml` read once into validated frozen dataclasses.

Every threshold, timer, receiver and route lives in that versioned file; this module
turns it into `DetectorConfig`, `LifecycleConfig` and delivery settings, and explains
precisely what is wrong when it cannot ("[detectors.storm] h: expected > 0, got -1").

Exceptions::

    ValueError
     └── ConfigError     a bad key or value, with its table
"""

from __future__ import annotations

import dataclasses
import enum
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.alert_lifecycle import InhibitRule, LifecycleConfig, RuleConfig
from monitor.detectors import DetectorConfig, Severity

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "alerts.toml"


class ConfigError(ValueError):
    """The alert configuration is invalid; the message names the table and key."""


class ReceiverKind(enum.StrEnum):
    """Payload format a receiver expects."""

    WEBHOOK = "webhook"
    WECOM = "wecom"
    DINGTALK = "dingtalk"
    FEISHU = "feishu"
    SLACK = "slack"


@dataclass(frozen=True, slots=True)
class Receiver:
    """Where notifications go and in which format."""

    name: str
    kind: ReceiverKind
    url: str
    send_resolved: bool = True

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: expected an http(s) URL, got {self.url!r}")


@dataclass(frozen=True, slots=True)
class Route:
    """Send transitions of at least `min_severity` (and of the listed sessions/rules, if any) to `receiver`."""

    receiver: str
    min_severity: Severity = Severity.WARNING
    sessions: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()

    def matches(self, session: str, rule: str, severity: Severity) -> bool:
        """True when a transition of this session, rule and severity takes this route."""
        return (severity.rank >= self.min_severity.rank and (not self.sessions or session in self.sessions)
                and (not self.rules or rule in self.rules))


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Retry policy of the notifier: exponential backoff from `backoff_initial_s` up to `backoff_max_s`."""

    max_attempts: int = 6
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    timeout_s: float = 5.0
    queue_size: int = 1000

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.queue_size < 1:
            raise ValueError("max_attempts and queue_size: expected >= 1")
        if not 0 < self.backoff_initial_s <= self.backoff_max_s or self.timeout_s <= 0:
            raise ValueError("expected 0 < backoff_initial_s <= backoff_max_s and timeout_s > 0")

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based)."""
        return float(min(self.backoff_max_s, self.backoff_initial_s * 2 ** (attempt - 1)))


@dataclass(frozen=True, slots=True)
class AlertConfig:
    """Everything `config/alerts.toml` says.

    The audit trail's retention is a deployment setting (`LIVEMON_AUDIT_RETENTION_S`,
    default 3 years), not an alerting one, so it lives in `livemon.settings`.
    """

    detectors: DetectorConfig = field(default_factory=DetectorConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    receivers: tuple[Receiver, ...] = ()
    routes: tuple[Route, ...] = ()

    def __post_init__(self) -> None:
        names = [r.name for r in self.receivers]
        if len(set(names)) != len(names):
            raise ConfigError(f"[[receivers]] name: expected unique names, got {names}")
        for route in self.routes:
            if route.receiver not in names:
                raise ConfigError(f"[[routes]] receiver: expected one of {names}, got {route.receiver!r}")

    def receivers_for(self, session: str, rule: str, severity: Severity) -> list[Receiver]:
        """Return the receivers (each once, in config order) that routes send this alert to."""
        wanted = {r.receiver for r in self.routes if r.matches(session, rule, severity)}
        return [r for r in self.receivers if r.name in wanted]


def load_alert_config(path: Path = DEFAULT_PATH) -> AlertConfig:
    """Read and validate an alerts TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_alert_config(data)


def parse_alert_config(data: dict[str, Any]) -> AlertConfig:
    """Validate already-parsed TOML data into an `AlertConfig`."""
    _only(data, {"lifecycle", "rules", "inhibit", "detectors", "delivery", "receivers", "routes"}, "top level")
    detector_tables = data.get("detectors", {})
    _only(detector_tables, {f.name for f in dataclasses.fields(DetectorConfig)}, "[detectors]")
    kinds = typing.get_type_hints(DetectorConfig)
    detectors = DetectorConfig(**{
        name: _build(kinds[name], table, f"[detectors.{name}]") for name, table in detector_tables.items()
    })
    lifecycle_table = dict(data.get("lifecycle", {}))
    default_rule = _build(RuleConfig, lifecycle_table.pop("default_rule", {}), "[lifecycle.default_rule]")
    rules = {name: _build(RuleConfig, table, f"[rules.{name}]") for name, table in data.get("rules", {}).items()}
    inhibit = tuple(_build(InhibitRule, t, f"[[inhibit]] #{i + 1}") for i, t in enumerate(data.get("inhibit", [])))
    lifecycle = _build(LifecycleConfig, {**lifecycle_table, "rules": rules, "default_rule": default_rule,
                                         "inhibit": inhibit}, "[lifecycle]")
    receivers = tuple(_build(Receiver, t, f"[[receivers]] #{i + 1}") for i, t in enumerate(data.get("receivers", [])))
    routes = tuple(_build(Route, t, f"[[routes]] #{i + 1}") for i, t in enumerate(data.get("routes", [])))
    return AlertConfig(detectors=detectors, lifecycle=lifecycle,
                       delivery=_build(DeliveryConfig, data.get("delivery", {}), "[delivery]"),
                       receivers=receivers, routes=routes)


def _build(cls: Any, table: dict[str, Any], where: str) -> Any:
    """Construct a settings dataclass from a TOML table, naming the table in every error."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {table!r}")
    kinds = typing.get_type_hints(cls)
    _only(table, {f.name for f in dataclasses.fields(cls)}, where)
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = kinds[key]
        if isinstance(value, list):
            value = tuple(value)
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            try:
                value = kind(value)
            except ValueError:
                raise ConfigError(f"{where} {key}: expected one of {[m.value for m in kind]}, got {value!r}") from None
        elif kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where} {key}: expected a number, got {value!r}")
            value = float(value)
        elif kind in (int, bool, str) and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise ConfigError(f"{where} {key}: expected {kind.__name__}, got {value!r}")
        values[key] = value
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{where} {exc}") from None


def _only(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected one of {sorted(allowed)})")
