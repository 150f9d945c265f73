"""Loading and validating config/alerts.toml."""

from __future__ import annotations

import tomllib

import pytest

from monitor.alert_config import DEFAULT_PATH, ConfigError, ReceiverKind, load_alert_config, parse_alert_config
from monitor.detectors import DetectorConfig, Severity


def test_alert_config_shipped_file_matches_code_defaults() -> None:
    config = load_alert_config()
    assert config.detectors == DetectorConfig()
    assert config.lifecycle.rule("negative_storm").for_s == 0
    assert config.lifecycle.rule("dwell_drop").for_s == 30
    assert config.lifecycle.inhibit[0].source == "ingest_silence"


def test_alert_config_names_table_and_key_of_a_bad_value() -> None:
    data = tomllib.loads(DEFAULT_PATH.read_text())
    data["detectors"]["storm"]["h"] = -1
    with pytest.raises(ConfigError, match=r"\[detectors.storm\] h: expected > 0, got -1"):
        parse_alert_config(data)
    with pytest.raises(ConfigError, match=r"\[detectors.storm\] h: expected a number, got 'x'"):
        parse_alert_config({"detectors": {"storm": {"h": "x"}}})
    with pytest.raises(ConfigError, match=r"unknown key 'hh'"):
        parse_alert_config({"detectors": {"storm": {"hh": 1}}})
    with pytest.raises(ConfigError, match=r"\[rules.raid\]"):
        parse_alert_config({"rules": {"raid": {"for_s": -5}}})


def test_alert_config_routes_by_severity_and_session() -> None:
    config = parse_alert_config({
        "receivers": [{"name": "all", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
                      {"name": "vip", "kind": "feishu", "url": "https://open.feishu.cn/x"}],
        "routes": [{"receiver": "all", "min_severity": "critical"},
                   {"receiver": "vip", "min_severity": "info", "sessions": ["s-vip"]}],
    })
    assert config.receivers[1].kind is ReceiverKind.FEISHU
    assert [r.name for r in config.receivers_for("s-vip", "raid", Severity.WARNING)] == ["vip"]
    assert [r.name for r in config.receivers_for("s1", "raid", Severity.CRITICAL)] == ["all"]
    assert config.receivers_for("s1", "raid", Severity.WARNING) == []


def test_alert_config_rejects_routes_to_unknown_receivers_and_bad_kinds() -> None:
    with pytest.raises(ConfigError, match="receiver"):
        parse_alert_config({"routes": [{"receiver": "nobody"}]})
    with pytest.raises(ConfigError, match="kind: expected one of"):
        parse_alert_config({"receivers": [{"name": "x", "kind": "pager", "url": "http://x"}]})


def test_alert_config_backoff_doubles_up_to_the_cap() -> None:
    delivery = load_alert_config().delivery
    assert [delivery.backoff(a) for a in (1, 2, 3, 8)] == [1.0, 2.0, 4.0, 60.0]
