"""Engine settings: one frozen record, validated once, loadable from `config/engine.toml`.

Every window length, timeout and memory bound the engine uses lives here, so a control
room can tune lateness for a slow platform adapter without touching code, and a typo in
the file fails at start-up with a message naming the key instead of skewing numbers.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from monitor.bins import BIN_SECONDS

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "engine.toml"


class ConfigError(ValueError):
    """A setting is missing, unknown or out of range; the message names it."""


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Window, lateness, estimation and memory settings of the engine core.

    Attributes:
        lateness_s: allowed out-of-orderness; watermark = newest event time − lateness.
        idle_timeout_s: a viewer without activity for this long is counted as gone.
        rate_window_s: window of the "per minute" rates and distinct-user rates.
        recent_window_s: window of the "last 5 min" product and GMV figures.
        dwell_window_s: rolling window of average/median watch time (Compass: 15 min).
        trend_window_s: N of "last N min vs the N min before".
        trend_flat_ratio: relative change below which a trend reads "flat".
        dedup_horizon_s: event-time span over which duplicate ids are remembered.
        ring_seconds: length of the 1-s bucket ring; must hold the longest window.
        series_minutes: minute curves kept for charts.
        series_interval_s: send `series` and `markers` in a snapshot at most this often.
        max_markers: pin/unpin markers kept per session (oldest dropped first).
        marker_min_s: a pin or unpin superseded within this many seconds is not a pitch (a
            host pops a product's card to answer a question and returns), so it gets no marker.
        order_horizon_s: paid or cancelled orders older than this are forgotten.
        ended_keep_s: an ended show's state is held this long after its `session_end` (late
            payments still count), then released; its last snapshot stays in Redis.
        released_ttl_s: for this long after the release, events of a released show are
            dropped (counted) instead of starting a new history under its id.
    """

    lateness_s: float = 5.0
    idle_timeout_s: float = 300.0
    rate_window_s: int = 60
    recent_window_s: int = 300
    dwell_window_s: int = 900
    trend_window_s: int = 300
    trend_flat_ratio: float = 0.05
    dedup_horizon_s: int = 1800
    ring_seconds: int = 2048
    series_minutes: int = 60
    series_interval_s: float = 10.0
    max_markers: int = 200
    marker_min_s: float = 15.0
    order_horizon_s: int = 3600
    ended_keep_s: int = 1800
    released_ttl_s: int = 86400

    def __post_init__(self) -> None:
        def need(ok: bool, name: str, expected: str) -> None:
            if not ok:
                raise ConfigError(f"engine setting '{name}': expected {expected}, got {getattr(self, name)!r}")

        need(0 <= self.lateness_s <= 600, "lateness_s", "seconds between 0 and 600")
        need(self.idle_timeout_s > 0, "idle_timeout_s", "seconds > 0")
        need(self.rate_window_s >= 1, "rate_window_s", "seconds >= 1")
        need(
            self.recent_window_s % BIN_SECONDS == 0 and self.recent_window_s > 0,
            "recent_window_s",
            f"a positive multiple of {BIN_SECONDS} s (product windows use 10-s buckets)",
        )
        need(self.dwell_window_s >= 1, "dwell_window_s", "seconds >= 1")
        need(self.trend_window_s >= 1, "trend_window_s", "seconds >= 1")
        need(0 <= self.trend_flat_ratio < 1, "trend_flat_ratio", "a ratio in [0, 1)")
        need(self.dedup_horizon_s >= self.lateness_s, "dedup_horizon_s", "seconds >= lateness_s")
        need(self.ended_keep_s >= self.lateness_s, "ended_keep_s", "seconds >= lateness_s")
        need(self.released_ttl_s >= 0, "released_ttl_s", "seconds >= 0")
        longest = max(self.rate_window_s, self.recent_window_s, self.dwell_window_s, 2 * self.trend_window_s)
        need(
            self.ring_seconds >= longest + self.lateness_s + BIN_SECONDS,
            "ring_seconds",
            f"at least {longest + self.lateness_s + BIN_SECONDS:.0f} (longest window + lateness + one bin)",
        )
        need(1 <= self.series_minutes <= 24 * 60, "series_minutes", "1 to 1440 minutes")
        need(self.series_interval_s >= 0, "series_interval_s", "seconds >= 0")
        need(self.max_markers >= 1, "max_markers", "an integer >= 1")
        need(self.marker_min_s >= 0, "marker_min_s", "seconds >= 0")
        need(self.order_horizon_s >= self.lateness_s, "order_horizon_s", "seconds >= lateness_s")

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> EngineConfig:
        """Build settings from a parsed mapping, rejecting unknown keys by name."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(f"engine setting '{unknown[0]}': no such setting (known: {', '.join(known)})")
        values: dict[str, Any] = {}
        for name, value in data.items():
            kind = type(getattr(cls(), name))
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"engine setting '{name}': expected a number, got {value!r}")
            if kind is int and not isinstance(value, int):
                raise ConfigError(f"engine setting '{name}': expected an integer, got {value!r}")
            values[name] = kind(value)
        return cls(**values)


def load_engine_config(path: Path | str = DEFAULT_PATH) -> EngineConfig:
    """Read the `[engine]` table of a TOML file (defaults for keys it leaves out)."""
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    return EngineConfig.from_mapping(data.get("engine", {}))
