"""Every alert rule has a name for people in both languages, from one table."""

from __future__ import annotations

import tomllib
from pathlib import Path

from monitor.rule_names import RULE_NAMES, rule_name

CONFIG = Path(__file__).resolve().parent.parent / "config" / "alerts.toml"


def test_every_configured_rule_is_named_in_english_and_chinese() -> None:
    rules = set(tomllib.loads(CONFIG.read_text())["rules"])
    assert rules <= set(RULE_NAMES)
    for rule in rules:
        assert rule_name(rule, "en") != rule and rule_name(rule, "zh") != rule_name(rule, "en")


def test_an_unknown_rule_is_shown_as_its_id() -> None:
    assert rule_name("custom_rule", "zh") == "custom_rule"
