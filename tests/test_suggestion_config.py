"""Suggestion settings: the versioned file matches the defaults; bad values are named."""

from __future__ import annotations

import pytest

from monitor.suggestion_config import (
    DEFAULT_CONFIG_PATH,
    SuggestionConfig,
    SuggestionConfigError,
    parse_suggestion_config,
)


def test_suggestion_config_file_matches_the_documented_defaults() -> None:
    assert parse_suggestion_config(DEFAULT_CONFIG_PATH.read_text()) == SuggestionConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[stability]\nhysteresis = 1.5\n", "setting 'stability.hysteresis': expected a number between 0 and 1"),
        ("[pitch]\nslot_s = 0\n", "setting 'pitch.slot_s': expected a number > 0"),
        ("[pitch]\nslot = 3\n", "setting 'pitch.slot': expected a known setting"),
        ("[colours]\nred = 1\n", "setting 'colours'"),
        ("[attribution]\ntop_k = 2.5\n", "setting 'attribution.top_k': expected an integer"),
        ("[signals]\nstrong_ratio = 'big'\n", "setting 'signals.strong_ratio': expected a number"),
        ("[signals]\nstrong_ratio = 1.0\n", "setting 'signals.strong_ratio': expected a ratio > 1"),
        ("[signals\n", "setting '(file)': expected valid TOML"),
        ("[posterior]\nspread_prior = -0.1\n", "setting 'posterior.spread_prior': expected a number >= 0"),
        ("[posterior]\nslope_prior_sd = 0\n", "setting 'posterior.slope_prior_sd': expected a number > 0"),
    ],
)
def test_suggestion_config_errors_name_the_setting(text: str, message: str) -> None:
    with pytest.raises(SuggestionConfigError) as info:
        parse_suggestion_config(text)
    assert message in str(info.value)
