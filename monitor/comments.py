"""Per-session comment intelligence: sentiment rates, complaint topics, open questions, spam.

The engine feeds each session's comment events to one `CommentTracker` and reads
`summary(now)` into the snapshot's `comments` key and `bin_counts` into each closed bin.
Counts are kept per event-time second for `keep_s` seconds only, evidence and flagged lists
are capped, and the spam and phrase windows slide, so a 6-hour session holds a bounded state.

A comment flagged as spam leaves the sentiment counts, even after the fact: the fifth
account posting 骗子 turns the first four into a raid too, and their negative counts are
moved to the spam column of the seconds they arrived in.

The tracker keeps the sentiment and topic counts itself; question groups are a
`monitor.question_groups.QuestionBook`, phrase counts a `monitor.phrase_trends.PhraseTrends`
and the spam windows a `monitor.spam.SpamDetector`.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

from monitor.events import Event, EventType
from monitor.phrase_trends import PhraseTrends
from monitor.question_groups import QuestionBook
from monitor.questions import detect_question
from monitor.sentiment import Label, score, score_batch
from monitor.spam import RAID, SpamConfig, SpamDetector
from monitor.text_fingerprint import is_call_answer
from monitor.topics import classify_topic, phrases

MAX_NEGATIVES = 2_000


def is_scored(event: Event) -> bool:
    """Whether `CommentTracker.add_comments` scores this event: a comment with text."""
    return event.type is EventType.COMMENT and bool(event.text)


# Per-second counter slots.
_N, _NEG, _POS, _SPAM, _RAID = range(5)


@dataclass(frozen=True, slots=True)
class CommentConfig:
    """Windows and caps of the comment summary, validated once."""

    window_s: int = 300
    rate_window_s: int = 60
    rising_window_s: int = 60
    keep_s: int = 900
    evidence_per_topic: int = 3
    flagged_shown: int = 20
    max_question_groups: int = 100
    question_examples: int = 3
    max_baseline_phrases: int = 20_000
    spam: SpamConfig = field(default_factory=SpamConfig)

    def __post_init__(self) -> None:
        for name in ("window_s", "rate_window_s", "rising_window_s"):
            value = getattr(self, name)
            if not 10 <= value <= self.keep_s:
                raise ValueError(f"{name}: expected between 10 and keep_s ({self.keep_s}), got {value}")
        for name in ("evidence_per_topic", "flagged_shown", "max_question_groups", "question_examples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: expected >= 1, got {getattr(self, name)}")


class CommentTracker:
    """Comment intelligence for one session; all times are event time (epoch seconds)."""

    def __init__(self, config: CommentConfig | None = None) -> None:
        self.config = config or CommentConfig()
        self.spam = SpamDetector(self.config.spam)
        self.seconds: dict[int, list[int]] = {}
        self.topics: dict[int, Counter[str]] = {}
        self.phrases = PhraseTrends(self.config.rising_window_s, self.config.max_baseline_phrases)
        self.first_s: int | None = None
        self.latest_s = 0
        # id -> (second, label, topic, text): what to undo when a comment is flagged after it was
        # counted; kept for the comments in the spam windows only (not questions or call answers).
        # Tuples here and below: the garbage collector stops visiting them, as it never does a list.
        self.records: dict[str, tuple[int, str, str | None, str]] = {}
        # (second, id, text, topic); only the newest few per topic are shown, so the deque is capped.
        self.negatives: deque[tuple[int, str, str, str]] = deque(maxlen=MAX_NEGATIVES)
        self.flagged: deque[dict[str, Any]] = deque(maxlen=self.config.flagged_shown)
        self.questions = QuestionBook(self.config.question_examples, self.config.max_question_groups)
        # (text, label) of the last raid text scored: a raid lasts many publishes (10 a second),
        # and one `score` call costs about 0.3 ms however short the text
        self._raid_label: tuple[str, str] | None = None

    # ------------------------------------------------------------------ input

    def add_comments(self, events: Sequence[Event], labels: Sequence[Label] | None = None) -> None:
        """Fold a batch of events: comments are scored in one batch; a session start's planned
        products give "3号链接" its product id; other event types are ignored.

        `labels`: the sentiment label of each scored comment (`is_scored`) among `events`, in
        order, when the caller scored them in a larger batch (`monitor.comment_stage` scores a
        whole read at once: `score_batch` costs about as much for one text as for a hundred).
        """
        comments = []
        for event in events:
            if is_scored(event):
                comments.append(event)
            elif event.type is EventType.SESSION_START and event.products:
                self.questions.products = [p.id for p in event.products]
        if not comments:
            return
        if labels is None:
            labels = [v.label for v in score_batch([e.text or "" for e in comments])]
        counted: list[tuple[int, frozenset[str]]] = []
        for event, label in zip(comments, labels, strict=True):
            self._add(event, label, counted)
        self.phrases.count(counted)
        self._prune()

    def _add(self, event: Event, label: str, counted: list[tuple[int, frozenset[str]]]) -> None:
        """Count one scored comment; its phrases go to `counted` for `PhraseTrends.count`."""
        text = event.text or ""
        now = event.ts / 1000.0
        second = event.ts // 1000
        self.latest_s = max(self.latest_s, second)
        self.first_s = second if self.first_s is None else min(self.first_s, second)
        question = detect_question(text)
        flags = [] if question is not None else self.spam.check(event.id, event.user, text, now)
        own = next((reason for cid, reason in flags if cid == event.id), None) if flags else None
        counts = self.seconds.get(second)  # get, not setdefault: most comments share their second
        if counts is None:
            counts = self.seconds[second] = [0, 0, 0, 0, 0]
        if own is not None:
            counts[_SPAM] += 1
            counts[_RAID] += own == RAID
            self._note_flag(event.id, text, own, now)
        else:
            counts[_N] += 1
            topic = None
            if label == "negative":
                counts[_NEG] += 1
                topic = classify_topic(text)
                topics = self.topics.get(second)
                if topics is None:
                    topics = self.topics[second] = Counter()
                topics[topic] += 1
                self.negatives.append((second, event.id, text, topic))
            elif label == "positive":
                counts[_POS] += 1
            counted.append((second, phrases(text)))
            if question is not None:
                self.questions.ask(event.id, event.user or event.id, text, question.intent, question.product, now)
            elif not is_call_answer(text):  # questions and call answers never enter the spam windows
                self.records[event.id] = (second, label, topic, text)
        for comment_id, reason in flags:
            if comment_id != event.id:
                self._unrate(comment_id, reason, now)

    def _unrate(self, comment_id: str, reason: str, now: float) -> None:
        """Move an already counted comment from the sentiment counts to the spam counts."""
        record = self.records.pop(comment_id, None)
        if record is None:
            return
        second, label, topic, text = record
        counts = self.seconds.get(second)
        if counts is not None:
            counts[_N] -= 1
            counts[_NEG] -= label == "negative"
            counts[_POS] -= label == "positive"
            counts[_SPAM] += 1
            counts[_RAID] += reason == RAID
        if topic is not None and second in self.topics:
            self.topics[second][topic] -= 1
            self.negatives = deque((n for n in self.negatives if n[1] != comment_id), maxlen=MAX_NEGATIVES)
        self._note_flag(comment_id, text, reason, now)

    def _note_flag(self, comment_id: str, text: str, reason: str, now: float) -> None:
        self.flagged.append({"id": comment_id, "text": text, "reason": reason, "ts": now})

    def on_pin(self, product: str, now: float) -> None:
        """The host pinned `product`: its question groups are answered (`QuestionBook.on_pin`)."""
        self.questions.on_pin(product, now)

    def mark_answered(self, group: str, now: float) -> bool:
        """Mark one open question group answered (from the wallboard); False if there is no such open group."""
        return self.questions.mark_answered(group, now)

    # ------------------------------------------------------------------ output

    def _sum(self, start: int, end: int) -> list[int]:
        rows = [counts for second, counts in self.seconds.items() if start <= second < end]
        return [sum(column) for column in zip(*rows, strict=True)] if rows else [0, 0, 0, 0, 0]

    def _topics(self, start: int, end: int) -> Counter[str]:
        total: Counter[str] = Counter()
        for second, counts in self.topics.items():
            if start <= second < end:
                total.update(counts)
        return +total

    def bin_counts(self, start: int, end: int) -> tuple[int, int, int, int, str | None]:
        """Return (comments, negative, spam, raid, top_topic) for event-time seconds [start, end).

        `comments` and `negative` exclude flagged comments; `spam` counts all flagged ones and
        `raid` those of them flagged as part of a raid.
        """
        total = self._sum(start, end)
        topics = self._topics(start, end)
        top = min(topics.items(), key=lambda kv: (-kv[1], kv[0]))[0] if topics else None
        return total[_N], total[_NEG], total[_SPAM], total[_RAID], top

    def most_waiting(self, now: float) -> tuple[int, float]:
        """Return (distinct askers, oldest age in s) of the product with the most viewers waiting."""
        return self.questions.most_waiting(now)

    def summary(self, now: float) -> dict[str, Any]:
        """The snapshot's `comments` object (keys as in docs/architecture.md)."""
        cfg = self.config
        end = int(now) + 1
        start = end - cfg.window_s
        total = self._sum(start, end)
        negative_recent = self._sum(end - cfg.rate_window_s, end)[_NEG]
        topics = self._topics(start, end)
        negatives_total = sum(topics.values())
        evidence: dict[str, list[dict[str, str]]] = {}
        wanted = len(topics) * cfg.evidence_per_topic
        for second, comment_id, text, topic in reversed(self.negatives):
            if wanted == 0 or second < start:
                break
            if len(evidence.setdefault(topic, [])) < cfg.evidence_per_topic:
                evidence[topic].append({"id": comment_id, "text": text})
                wanted -= 1
        baseline_s = float(end - (self.first_s if self.first_s is not None else end))
        raids = self.spam.active_raids(now)
        raid = None
        if raids:
            top_raid = raids[0]
            raid = {
                "text": top_raid.text,
                "accounts": top_raid.accounts,
                "since_ts": top_raid.since,
                "label": self._label_of_raid(top_raid.text),
            }
        return {
            "sentiment_index": round((total[_POS] - total[_NEG]) / total[_N], 3) if total[_N] else 0.0,
            "negative_share": round(total[_NEG] / total[_N], 4) if total[_N] else 0.0,
            "negative_per_min": round(negative_recent * 60.0 / cfg.rate_window_s, 2),
            "topics": [
                {
                    "topic": topic,
                    "count": count,
                    "share": round(count / negatives_total, 4),
                    "evidence": evidence.get(topic, []),
                }
                for topic, count in sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "rising_phrases": self.phrases.rising(baseline_s),
            "open_questions": self.questions.open_questions(now),
            "spam": {"flagged": [dict(f) for f in self.flagged if f["ts"] >= start], "raid": raid},
        }

    def _label_of_raid(self, text: str) -> str:
        if self._raid_label is None or self._raid_label[0] != text:
            self._raid_label = (text, score(text).label)
        return self._raid_label[1]

    # ------------------------------------------------------------------ memory and checkpoints

    def _prune(self) -> None:
        cfg = self.config
        horizon = self.latest_s - cfg.keep_s
        for table in (self.seconds, self.topics):
            for second in [s for s in table if s < horizon]:
                del table[second]
        self.phrases.prune(self.latest_s)
        while self.negatives and self.negatives[0][0] < self.latest_s - cfg.window_s:
            self.negatives.popleft()
        record_horizon = self.latest_s - max(cfg.spam.raid_window_s, cfg.spam.repeat_window_s) - 1
        # Records arrive roughly in time order, so the oldest sit at the front of the dict. One
        # walk per prune: a fresh iter() per record rescans the slots of those deleted before it.
        for comment_id in [k for k, _ in takewhile(lambda item: item[1][0] < record_horizon, self.records.items())]:
            del self.records[comment_id]
        self.questions.prune()

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state (orjson) for checkpoints."""
        return {
            "spam": self.spam.to_state(),
            "seconds": [[s, c] for s, c in self.seconds.items()],
            # Counters as they are: orjson writes a dict subclass as a dict, and from_state copies
            "topics": [[s, c] for s, c in self.topics.items()],
            **self.phrases.to_state(),  # "recent_phrases", "baseline_phrases"
            "first_s": self.first_s,
            "latest_s": self.latest_s,
            "records": self.records,
            "negatives": list(self.negatives),
            "flagged": list(self.flagged),
            **self.questions.to_state(),  # "groups", "products", "pinned"
        }

    @classmethod
    def from_state(cls, config: CommentConfig | None, data: dict[str, Any]) -> CommentTracker:
        """Rebuild a tracker from `to_state` output."""
        tracker = cls(config)
        cfg = tracker.config
        tracker.spam = SpamDetector.from_state(tracker.config.spam, data["spam"])
        tracker.seconds = {int(s): list(c) for s, c in data["seconds"]}
        tracker.topics = {int(s): Counter(c) for s, c in data["topics"]}
        tracker.phrases = PhraseTrends.from_state(cfg.rising_window_s, cfg.max_baseline_phrases, data)
        tracker.first_s = data["first_s"]
        tracker.latest_s = int(data["latest_s"])
        tracker.records = {k: (int(v[0]), v[1], v[2], v[3]) for k, v in data["records"].items()}
        tracker.negatives = deque(((int(n[0]), n[1], n[2], n[3]) for n in data["negatives"]), maxlen=MAX_NEGATIVES)
        tracker.flagged.extend(dict(f) for f in data["flagged"])
        tracker.questions = QuestionBook.from_state(cfg.question_examples, cfg.max_question_groups, data)
        return tracker
