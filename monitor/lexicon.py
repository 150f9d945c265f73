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
from collections.abc import Iterable
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
        # A trie-shaped regex: at each position the engine follows one branch per character instead
        # of trying every term, and greedy optional tails make the longest term win. Latin terms
        # must not end inside a longer word ("bad" in "badge"); `starts_word` checks the other side.
        # Latin branches come first and are few; the many CJK/emoji branches sit behind a lookahead
        # per chunk of first characters, so a position is checked against a handful of classes
        # instead of hundreds of alternatives (English-only batches ran twice as slow before).
        branches = _root_branches(_trie(t for t, e in self.entries.items() if e.latin), "(?![a-z'])")
        others = _root_branches(_trie(t for t, e in self.entries.items() if not e.latin), "")
        for i in range(0, len(others), _CHUNK):
            chunk = others[i : i + _CHUNK]
            # Each branch starts with one (escaped) character: the chunk's lookahead class lists them.
            first = "".join(_first_char(b) for b in chunk)
            branches.append(f"(?=[{first}])(?:{'|'.join(chunk)})")
        # With no entries at all, match nothing rather than the empty string everywhere.
        self.pattern = re.compile("|".join(branches) or r"(?!)")

    def starts_word(self, text: str, start: int, term: str) -> bool:
        """False when a Latin term found at `start` is the tail of a longer word ("bad" in "abad")."""
        if not self.entries[term].latin or start == 0:
            return True
        before = text[start - 1]
        return not (before.isascii() and before.isalpha() or before == "'")

    @classmethod
    def default(cls) -> Lexicon:
        """Load the lexicon files shipped in `monitor/data/`."""
        entries: list[Entry] = []
        folder = resources.files("monitor") / "data"
        for name in LEXICON_FILES:
            entries.extend(parse_lexicon((folder / name).read_text(encoding="utf-8"), name))
        return cls(entries)


_CHUNK = 128
_Trie = dict[str, "_Trie"]
_END = ""


def _trie(terms: Iterable[str]) -> _Trie:
    root: _Trie = {}
    for term in terms:
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[_END] = {}
    return root


def _root_branches(root: _Trie, suffix: str) -> list[str]:
    """One regex branch per first character; `suffix` is appended to each (a word-end check)."""
    out = []
    for char, child in sorted(root.items()):
        out.append(re.escape(char) + _trie_regex(child) + suffix)
    return out


def _first_char(branch: str) -> str:
    """The escaped first character of a branch built by `_root_branches`."""
    return branch[:2] if branch.startswith("\\") else branch[0]


def _trie_regex(node: _Trie) -> str:
    """Regex for all terms below `node`; empty when there are none."""
    branches = [re.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char != _END]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 and len(branches[0]) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if _END in node else body
