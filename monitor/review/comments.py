"""What viewers said: sentiment per minute, complaints and questions tied to products.

A comment is tied to the product it names ("3号链接" is the third product of the run of
show) or, when it names none, to the product being pitched when it was written. The
comment-intelligence modules are optional: without `monitor.sentiment` there is no
sentiment curve and no complaint count, without `monitor.questions` no question table,
without `monitor.topics` no complaint topics; the rest of the review is unaffected.
"""

from __future__ import annotations

import bisect
import importlib
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from monitor.review.facts import Facts, Pitch
from monitor.review.timeline import FloatArray, minute_count, per_minute


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


sentiment = _optional("monitor.sentiment")
questions = _optional("monitor.questions")
topics = _optional("monitor.topics")


@dataclass(frozen=True, slots=True)
class QuestionWait:
    """One buyer question that named a product: how long until that product was pitched."""

    ts: int
    intent: str
    product: str
    wait_s: float | None  # None: the product was not pitched again before the end


@dataclass(slots=True)
class CommentFacts:
    """Comment-derived columns of one session."""

    sentiment_index: FloatArray  # per minute: mean score × 100 in [-100, 100], NaN without comments
    negative: list[tuple[int, str, str]] = field(default_factory=list)  # (ts, product, text)
    complaints: Counter[str] = field(default_factory=Counter)
    questions: Counter[str] = field(default_factory=Counter)  # by product
    intents: Counter[str] = field(default_factory=Counter)
    waits: list[QuestionWait] = field(default_factory=list)
    topics: Counter[str] = field(default_factory=Counter)


class PitchIndex:
    """Which product was pitched at a time, and when a product is next pitched."""

    def __init__(self, pitches: list[Pitch]) -> None:
        self.pitches = pitches
        self.starts = [p.start_ms for p in pitches]
        self.by_product: dict[str, list[Pitch]] = {}
        for p in pitches:
            self.by_product.setdefault(p.product, []).append(p)

    def at(self, ts: int) -> str:
        """Product pitched at `ts`, or "" between pitches."""
        i = bisect.bisect_right(self.starts, ts) - 1
        if i >= 0 and ts < self.pitches[i].end_ms:
            return self.pitches[i].product
        return ""

    def wait_s(self, product: str, ts: int) -> float | None:
        """Seconds from `ts` until `product` is pitched (0 while it is), None if never again."""
        for p in self.by_product.get(product, ()):
            if p.end_ms > ts:
                return max(0.0, (p.start_ms - ts) / 1000)
        return None


def analyse(facts: Facts, index: PitchIndex) -> CommentFacts:
    """Score, classify and tie every comment of the session."""
    n = minute_count(facts)
    out = CommentFacts(np.full(n, np.nan))
    comments = facts.comments
    if not comments:
        return out
    texts = [text for _, _, text in comments]
    labels: list[str] = []
    if sentiment is not None:
        unique = list(dict.fromkeys(texts))  # live chat repeats itself (扣1, 好看): score each text once
        verdicts = dict(zip(unique, sentiment.score_batch(unique)))
        scores = [verdicts[t].score for t in texts]
        labels = [verdicts[t].label for t in texts]
        ts = [t for t, _, _ in comments]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.sentiment_index = 100.0 * per_minute(ts, facts, scores) / per_minute(ts, facts)
    # Regexes run once per distinct text: live chat repeats itself, so this is most of the saving.
    named_of: dict[str, str] = {}
    asked_of: dict[str, Any] = {}
    for i, (ts_ms, _, text) in enumerate(comments):
        named = named_of.get(text)
        if named is None:
            named = named_of[text] = _named_product(text, facts)
        product = named or index.at(ts_ms)
        if labels and labels[i] == "negative":
            out.negative.append((ts_ms, product, text))
            if product:
                out.complaints[product] += 1
            if topics is not None:
                out.topics[topics.classify_topic(text)] += 1
        if questions is not None:
            if text not in asked_of:
                asked_of[text] = questions.detect_question(text)
            asked = asked_of[text]
            if asked is None:
                continue
            out.intents[asked.intent] += 1
            if product:
                out.questions[product] += 1
            if named:
                out.waits.append(QuestionWait(ts_ms, asked.intent, named, index.wait_s(named, ts_ms)))
    return out


def _named_product(text: str, facts: Facts) -> str:
    """The planned product a comment names by its number ("3号"), or ""."""
    if questions is None or not facts.planned:
        return ""
    ref = questions.product_reference(text)
    if ref is None:
        return ""
    number = int(ref)
    return facts.planned[number - 1] if 1 <= number <= len(facts.planned) else ""
