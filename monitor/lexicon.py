"""The curated live-commerce lexicon: sentiment words, negators, degree words, shields and chatter.

Short danmaku carry too few characters for a statistical model alone, so the words that
matter in live rooms (踩雷, 智商税, yyds, 😡, [比心] …) are listed by hand in
`monitor/data/lexicon_*.tsv`. One compiled regular expression finds every entry; the
alternation is ordered longest-first so that a longer neutral phrase (退出直播间, a
"shield") wins over the sentiment-looking word inside it (退).

The data files ship inside the package and are read once at import; this is static
configuration, not I/O at run time.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from importlib import resources


class Kind(enum.StrEnum):
    """What a lexicon entry does to the score of the comment it appears in."""

    POSITIVE = "pos"
    NEGATIVE = "neg"
    NEGATOR = "not"
    DEGREE = "deg"
    SHIELD = "neu"
    CHATTER = "chat"


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon term: its kind and weight (signed valence, negator strength or degree factor)."""

    term: str
    kind: Kind
    weight: float

    @property
    def latin(self) -> bool:
        """True for word-like terms that must match whole words (English)."""
        return self.term[:1].isascii() and self.term[:1].isalpha()


LEXICON_FILES = ("lexicon_zh.tsv", "lexicon_en.tsv", "lexicon_emoji.tsv")


def parse_lexicon(text: str, source: str = "<string>") -> list[Entry]:
    """Parse one TSV lexicon (term, kind, weight; `#` starts a comment line).

    Raises:
        ValueError: naming the source and line of a malformed row.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise ValueError(f"{source}:{number}: expected 'term<TAB>kind<TAB>weight', got {line!r}")
        try:
            kind = Kind(parts[1])
            weight = float(parts[2])
        except ValueError:
            raise ValueError(f"{source}:{number}: bad kind or weight in {line!r}") from None
        entries.append(Entry(parts[0].lower(), kind, weight))
    return entries


class Lexicon:
    """All entries by term plus one regex that finds them in lower-cased, repeat-collapsed text."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries: dict[str, Entry] = {e.term: e for e in entries}
        cjk = sorted((t for t, e in self.entries.items() if not e.latin), key=len, reverse=True)
        latin = sorted((t for t, e in self.entries.items() if e.latin), key=len, reverse=True)
        # Latin terms must not match inside a longer word ("bad" in "badge"); CJK has no word breaks.
        parts = []
        if latin:
            parts.append(r"(?<![a-z'])(?:" + "|".join(re.escape(t) for t in latin) + r")(?![a-z'])")
        parts.extend(re.escape(t) for t in cjk)
        # With no entries at all, match nothing rather than the empty string everywhere.
        self.pattern = re.compile("|".join(parts) or r"(?!)")

    @classmethod
    def default(cls) -> Lexicon:
        """Load the lexicon files shipped in `monitor/data/`."""
        entries: list[Entry] = []
        folder = resources.files("monitor") / "data"
        for name in LEXICON_FILES:
            entries.extend(parse_lexicon((folder / name).read_text(encoding="utf-8"), name))
        return cls(entries)
