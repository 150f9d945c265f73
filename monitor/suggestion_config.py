"""Settings for product suggestions, parsed from TOML text and validated once.

The versioned defaults live in `config/suggestions.toml`. This module stays pure: the edge
(or the benchmark) reads the file and hands the text to `parse_suggestion_config`, so the
core never touches the file system.

Exceptions::

    ValueError
     └── SuggestionConfigError   one wrong or unknown setting (section.key, expected, got)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "suggestions.toml"


class SuggestionConfigError(ValueError):
    """A setting is missing its expected shape; the message names `section.key`."""

    def __init__(self, key: str, expected: str, got: object) -> None:
        self.key = key
        super().__init__(f"setting '{key}': expected {expected}, got {got!r}")


@dataclass(frozen=True, slots=True)
class SuggestionConfig:
    """All tunables of the Suggester; defaults equal `config/suggestions.toml`."""

    # posterior
    prior_strength: float = 1.0
    default_clicks_per_min: float = 20.0
    default_cart_share: float = 0.1
    default_order_share: float = 0.4
    price_elasticity: float = 0.5
    half_life_s: float = 3600.0
    background_share: float = 0.06
    funnel_prior_strength: float = 20.0
    earlier_session_weight: float = 0.5
    exploration: float = 0.1
    spread_prior: float = 0.6
    spread_weight: float = 3.0
    slope_prior_sd: float = 0.5
    # pitch
    slot_s: float = 180.0
    fatigue_scale_s: float = 900.0
    fatigue_half_life_s: float = 900.0
    within_pitch_decay_s: float = 300.0
    # stability
    resample_s: float = 60.0
    hysteresis: float = 0.2
    confirm_s: float = 15.0
    # constraints
    min_gap_s: float = 300.0
    must_pitch_lead_s: float = 600.0
    low_stock: int = 10
    # signals
    unpaid_recovery: float = 0.3
    question_penalty: float = 0.35
    complaint_penalty: float = 0.5
    skip_hold_s: float = 60.0
    skip_penalty: float = 0.5
    skip_cooldown_s: float = 300.0
    strong_ratio: float = 1.5
    margin_weight: float = 0.2
    # attribution
    window_s: float = 120.0
    top_k: int = 3

    def __post_init__(self) -> None:
        positive = ("prior_strength", "funnel_prior_strength", "default_clicks_per_min", "half_life_s", "slot_s",
                    "fatigue_scale_s", "fatigue_half_life_s", "within_pitch_decay_s", "resample_s", "skip_hold_s",
                    "skip_cooldown_s", "window_s", "spread_weight", "slope_prior_sd")
        for name in positive:
            if not getattr(self, name) > 0:
                raise SuggestionConfigError(_section_of(name), "a number > 0", getattr(self, name))
        fractions = ("background_share", "default_cart_share", "default_order_share", "earlier_session_weight",
                     "hysteresis", "unpaid_recovery", "exploration", "question_penalty", "complaint_penalty",
                     "skip_penalty", "margin_weight")
        for name in fractions:
            if not 0 <= getattr(self, name) <= 1:
                raise SuggestionConfigError(_section_of(name), "a number between 0 and 1", getattr(self, name))
        non_negative = ("price_elasticity", "spread_prior", "confirm_s", "min_gap_s", "must_pitch_lead_s", "low_stock")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise SuggestionConfigError(_section_of(name), "a number >= 0", getattr(self, name))
        if self.strong_ratio <= 1:
            raise SuggestionConfigError(_section_of("strong_ratio"), "a ratio > 1", self.strong_ratio)
        if self.top_k < 1:
            raise SuggestionConfigError(_section_of("top_k"), "an integer >= 1", self.top_k)


_SECTIONS: dict[str, tuple[str, ...]] = {
    "posterior": ("prior_strength", "default_clicks_per_min", "default_cart_share",
                  "default_order_share", "price_elasticity", "half_life_s",
                  "background_share", "funnel_prior_strength", "earlier_session_weight", "exploration",
                  "spread_prior", "spread_weight", "slope_prior_sd"),
    "pitch": ("slot_s", "fatigue_scale_s", "fatigue_half_life_s", "within_pitch_decay_s"),
    "stability": ("resample_s", "hysteresis", "confirm_s"),
    "constraints": ("min_gap_s", "must_pitch_lead_s", "low_stock"),
    "signals": ("unpaid_recovery", "question_penalty", "complaint_penalty", "skip_hold_s", "skip_penalty",
                "skip_cooldown_s",
                "strong_ratio", "margin_weight"),
    "attribution": ("window_s", "top_k"),
}
_INTEGERS = frozenset({"low_stock", "top_k"})
assert {n for keys in _SECTIONS.values() for n in keys} == {f.name for f in fields(SuggestionConfig)}


def _section_of(name: str) -> str:
    for section, keys in _SECTIONS.items():
        if name in keys:
            return f"{section}.{name}"
    return name


def parse_suggestion_config(text: str) -> SuggestionConfig:
    """Parse TOML text into a validated config; absent keys keep their defaults.

    Raises:
        SuggestionConfigError: for a malformed file, an unknown section or key, or a bad value.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SuggestionConfigError("(file)", "valid TOML", str(exc)) from None
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section not in _SECTIONS:
            raise SuggestionConfigError(section, "one of the sections " + ", ".join(_SECTIONS), "an unknown section")
        if not isinstance(table, dict):
            raise SuggestionConfigError(section, "a table", table)
        for key, value in table.items():
            if key not in _SECTIONS[section]:
                raise SuggestionConfigError(f"{section}.{key}", "a known setting", "an unknown key")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SuggestionConfigError(f"{section}.{key}", "a number", value)
            if key in _INTEGERS and not isinstance(value, int):
                raise SuggestionConfigError(f"{section}.{key}", "an integer", value)
            values[key] = value if key in _INTEGERS else float(value)
    return SuggestionConfig(**values)
