"""Decide which live session a shop order or cart belongs to, by configurable rules.

A shop (Shopify, TikTok Shop, Doudian) knows orders, not live rooms. Three rules connect
them, tried in the configured order until one matches:

    note    the order/cart carries a note attribute (default `livemon_session`) naming the session,
            e.g. set by a "bought in the live" checkout link
    utm     the landing URL carries `utm_campaign=<prefix><session>` (default prefix `live-`)
    window  the order time falls inside a configured broadcast window and, when that window
            lists products, at least one line item is one of them (time window + product mapping)

Shop product ids (product, variant or SKU) are mapped to livemon product ids by the
window's `products` table, then the global one, else kept as they are.

Configuration is TOML (`LIVEMON_ATTRIBUTION_CONFIG`, see docs/ingest.md); it is validated
once at load and then immutable.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from monitor.event_parsing import EventError, parse_timestamp

RULES = ("note", "utm", "window")


class AttributionConfigError(ValueError):
    """The attribution file is invalid; the message names the key."""


@dataclass(frozen=True, slots=True)
class LiveWindow:
    """A broadcast: orders between `start_ms` and `end_ms` may belong to `session`."""

    session: str
    start_ms: int
    end_ms: int
    products: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attribution:
    """The session an order belongs to and the rule that decided it (kept for audits)."""

    session: str
    rule: str


@dataclass(frozen=True, slots=True)
class AttributionRules:
    """Validated attribution settings; the defaults attribute by note attribute and UTM only."""

    rules: tuple[str, ...] = RULES
    note_attribute: str = "livemon_session"
    utm_parameter: str = "utm_campaign"
    utm_prefix: str = "live-"
    windows: tuple[LiveWindow, ...] = ()
    products: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule not in RULES:
                raise AttributionConfigError(f"rules: expected some of {', '.join(RULES)}, got {rule!r}")

    def attribute(self, ts_ms: int, notes: Mapping[str, str], landing_url: str | None,
                  shop_products: Sequence[str]) -> Attribution | None:
        """Return the session of an order placed at `ts_ms`, or None when no rule matches.

        `shop_products` empty means the message names no products, so a window's product
        list cannot be checked and the time window alone decides.
        """
        for rule in self.rules:
            if rule == "note" and notes.get(self.note_attribute):
                return Attribution(notes[self.note_attribute].strip(), "note")
            if rule == "utm" and landing_url:
                values = parse_qs(urlsplit(landing_url).query).get(self.utm_parameter, [])
                for value in values:
                    if value.startswith(self.utm_prefix) and len(value) > len(self.utm_prefix):
                        return Attribution(value[len(self.utm_prefix):], "utm")
            if rule == "window":
                for window in self.windows:
                    if not window.start_ms <= ts_ms < window.end_ms:
                        continue
                    # No line items known (status-only webhooks): the time window alone decides.
                    if not window.products or not shop_products or any(p in window.products for p in shop_products):
                        return Attribution(window.session, "window")
        return None

    def product_id(self, session: str, shop_product: str) -> str:
        """Map a shop product/variant/SKU id to the livemon product id used in the session."""
        for window in self.windows:
            if window.session == session and shop_product in window.products:
                return window.products[shop_product]
        return self.products.get(shop_product, shop_product)


def _table(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise AttributionConfigError(f"{where}: expected a table of shop id = \"livemon product id\"")
    return {str(k): v for k, v in value.items()}


def _time(value: object, where: str) -> int:
    try:
        return parse_timestamp(value.isoformat() if hasattr(value, "isoformat") else value)
    except EventError:
        raise AttributionConfigError(f"{where}: expected an RFC 3339 time with offset or epoch ms, got {value!r}")


def parse_rules(data: Mapping[str, object]) -> AttributionRules:
    """Validate the parsed TOML document.

    Raises:
        AttributionConfigError: naming the key that is wrong.
    """
    top = data.get("attribution", {})
    if not isinstance(top, dict):
        raise AttributionConfigError("[attribution]: expected a table")
    windows = []
    raw_windows = data.get("window", [])
    if not isinstance(raw_windows, list):
        raise AttributionConfigError("[[window]]: expected an array of tables")
    for i, raw in enumerate(raw_windows):
        where = f"window[{i}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("session"), str) or not raw["session"]:
            raise AttributionConfigError(f"{where}.session: expected a session id")
        start, end = _time(raw.get("start"), f"{where}.start"), _time(raw.get("end"), f"{where}.end")
        if end <= start:
            raise AttributionConfigError(f"{where}.end: expected after start")
        windows.append(LiveWindow(raw["session"], start, end, _table(raw.get("products", {}), f"{where}.products")))
    rules = top.get("rules", list(RULES))
    if not isinstance(rules, list):
        raise AttributionConfigError("attribution.rules: expected a list such as [\"note\", \"utm\", \"window\"]")
    return AttributionRules(
        rules=tuple(str(r) for r in rules),
        note_attribute=str(top.get("note_attribute", "livemon_session")),
        utm_parameter=str(top.get("utm_parameter", "utm_campaign")),
        utm_prefix=str(top.get("utm_prefix", "live-")),
        windows=tuple(windows),
        products=_table(data.get("products", {}), "products"),
    )


def load_rules(path: Path | None) -> AttributionRules:
    """Read the attribution TOML file; no file means the default rules (note, then UTM)."""
    if path is None:
        return AttributionRules()
    try:
        with path.open("rb") as handle:
            return parse_rules(tomllib.load(handle))
    except tomllib.TOMLDecodeError as exc:
        raise AttributionConfigError(f"{path}: {exc}") from None
