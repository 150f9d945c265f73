"""Alert rules' names for people, in English and Chinese: one table for the pages and the report.

The table is data (`monitor/data/rule_names.json`) so the web pages receive the very same
names the post-live report prints; English names are lower case to sit inside a sentence.
"""

from __future__ import annotations

from pathlib import Path

import orjson

RULE_NAMES: dict[str, dict[str, str]] = orjson.loads((Path(__file__).parent / "data" / "rule_names.json").read_bytes())


def rule_name(rule: str, lang: str) -> str:
    """A rule's name in `lang` (English if missing); an unknown rule is shown as its id."""
    names = RULE_NAMES.get(rule)
    return rule if names is None else names.get(lang, names["en"])
