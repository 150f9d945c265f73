"""Engine settings: the shipped file loads, mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import DEFAULT_PATH, ConfigError, EngineConfig, load_engine_config


def test_config_shipped_file_loads_and_matches_defaults() -> None:
    assert load_engine_config(DEFAULT_PATH) == EngineConfig()


def test_config_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "engine.toml"
    path.write_text("[engine]\nlatenes_s = 3\n")
    with pytest.raises(ConfigError, match="'latenes_s': no such setting"):
        load_engine_config(path)


def test_config_wrong_type_is_named() -> None:
    with pytest.raises(ConfigError, match="'ring_seconds': expected an integer"):
        EngineConfig.from_mapping({"ring_seconds": 2048.5})


def test_config_ring_must_hold_the_longest_window() -> None:
    with pytest.raises(ConfigError, match="ring_seconds"):
        EngineConfig(trend_window_s=900, ring_seconds=1024)


def test_config_product_window_must_be_whole_bins() -> None:
    with pytest.raises(ConfigError, match="recent_window_s"):
        EngineConfig(recent_window_s=305)
