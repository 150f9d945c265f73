"""Environment settings: defaults and the messages for values livemon cannot use (livemon/settings.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from livemon.settings import SettingsError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"LIVEMON_DATA_DIR": str(tmp_path), "LIVEMON_PSEUDONYM_SECRET": "s", **values}


def test_settings_engine_cadence_defaults(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    assert (settings.tick_s, settings.publish_s, settings.checkpoint_s) == (1.0, 0.1, 5.0)
    assert settings.publish_budget == 0.5


def test_settings_engine_cadence_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, LIVEMON_PUBLISH_S="0.05", LIVEMON_CHECKPOINT_S="30",
                                 LIVEMON_PUBLISH_BUDGET="0.25"))
    assert (settings.publish_s, settings.checkpoint_s, settings.publish_budget) == (0.05, 30.0, 0.25)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LIVEMON_PUBLISH_S", "0", "LIVEMON_PUBLISH_S: expected 0.01-60 seconds, got 0.0"),
    ("LIVEMON_PUBLISH_BUDGET", "2", "LIVEMON_PUBLISH_BUDGET: expected a share of 0.05-1, got 2.0"),
    ("LIVEMON_CHECKPOINT_S", "601", "LIVEMON_CHECKPOINT_S: expected 0.05-600 seconds, got 601.0"),
    ("LIVEMON_CHECKPOINT_S", "often", "LIVEMON_CHECKPOINT_S: expected a number, got 'often'"),
])
def test_settings_engine_cadence_out_of_range_is_named(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env(tmp_path, **{name: value}))
    assert str(raised.value) == message
