"""Phrase counts of one session's chat: per second over the rising window, and since the start.

`monitor.topics.rising_phrases` compares the two; this module keeps them bounded: the
recent counts slide by event-time second, and the baseline keeps its most common phrases
once it grows past `max_baseline`. Spam is counted too (a comment's phrases are counted when
it is, and not taken back if it is flagged later).
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import Any

from monitor.topics import rising_phrases


class PhraseTrends:
    """Recent and session-long phrase counts, for the summary's `rising_phrases`."""

    def __init__(self, rising_window_s: int, max_baseline: int) -> None:
        self.rising_window_s = rising_window_s
        self.max_baseline = max_baseline
        self.recent: dict[int, Counter[str]] = {}  # event-time second -> phrase counts
        self.recent_total: Counter[str] = Counter()  # sum of `recent`, kept so summaries stay cheap
        self.baseline: Counter[str] = Counter()

    def count(self, counted: list[tuple[int, frozenset[str]]]) -> None:
        """Add a batch's (second, phrases) to the counters, in comment order, one update per counter."""
        per_second: dict[int, list[frozenset[str]]] = {}
        for second, grams in counted:
            per_second.setdefault(second, []).append(grams)
        for second, sets in per_second.items():
            self.recent.setdefault(second, Counter()).update(chain.from_iterable(sets))
        every = list(chain.from_iterable(grams for _, grams in counted))
        self.recent_total.update(every)
        self.baseline.update(every)

    def rising(self, baseline_s: float) -> list[dict[str, float | str | int]]:
        """Phrases rising against the baseline of `baseline_s` seconds; none until it is longer than the window."""
        if baseline_s > self.rising_window_s:
            return rising_phrases(self.recent_total, self.baseline, self.rising_window_s, baseline_s)
        return []

    def prune(self, latest_s: int) -> None:
        """Slide the recent counts to end at `latest_s`; halve the baseline when it holds too many phrases."""
        horizon = latest_s - self.rising_window_s - 1
        for second in [s for s in self.recent if s < horizon]:
            self.recent_total -= self.recent.pop(second)  # also drops phrases that fell to zero
        if len(self.baseline) > self.max_baseline:
            self.baseline = Counter(dict(self.baseline.most_common(self.max_baseline // 2)))

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state; its keys are part of the comment tracker's checkpoint."""
        # Counters as they are: orjson writes a dict subclass as a dict, and from_state copies
        return {"recent_phrases": [[s, c] for s, c in self.recent.items()], "baseline_phrases": self.baseline}

    @classmethod
    def from_state(cls, rising_window_s: int, max_baseline: int, data: dict[str, Any]) -> PhraseTrends:
        """Rebuild from `to_state` output (or the comment tracker checkpoint holding its keys)."""
        trends = cls(rising_window_s, max_baseline)
        trends.recent = {int(s): Counter(c) for s, c in data["recent_phrases"]}
        trends.recent_total = sum(trends.recent.values(), Counter())
        trends.baseline = Counter(data["baseline_phrases"])
        return trends
