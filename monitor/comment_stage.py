"""Comment intelligence per partition: one `CommentTracker` per session, joined to the engine's output.

The engine counts comments; this stage reads them. It sees the same event batches as the
engine, adds each session's comment summary to its snapshot (`comments`) and fills the
comment fields of every closed bin (non-spam comments and negatives, spam, raid, top topic,
open questions), so the detectors see sentiment and questions without the engine's hot
path knowing about language.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.comments import CommentConfig, CommentTracker, is_scored
from monitor.engine import TickResult
from monitor.events import Event, EventType
from monitor.sentiment import Label, score_batch

_RELEVANT = frozenset({EventType.COMMENT, EventType.SESSION_START, EventType.PRODUCT_PIN})
# Labels of the texts scored last, least recently seen first. Chat repeats itself (扣1, 好看,
# 几号链接) and scoring costs 10-20 µs a text; a label depends on the text alone, so a
# remembered one is the one `score_batch` would give. Bound: 2,048 texts of at most 500
# characters (ingest's limit), about 4 MB if every text were that long; ~0.3 MB for danmaku.
LABEL_CACHE = 2048
_labels: OrderedDict[str, Label] = OrderedDict()


class CommentStage:
    """The comment trackers of one partition's sessions."""

    def __init__(self, config: CommentConfig | None = None) -> None:
        self.config = config or CommentConfig()
        self.trackers: dict[str, CommentTracker] = {}

    def _tracker(self, session: str) -> CommentTracker:
        tracker = self.trackers.get(session)
        if tracker is None:
            tracker = self.trackers[session] = CommentTracker(self.config)
        return tracker

    def observe(self, events: Iterable[Event]) -> None:
        """Feed a batch: comments are scored together; a pin answers its questions."""
        observe_stages([(self, events)])

    def mark_answered(self, session: str, group: str, now: float) -> bool:
        """A field controller marked a question group answered; False if unknown or already answered."""
        tracker = self.trackers.get(session)
        return tracker is not None and tracker.mark_answered(group, now)

    def enrich(self, result: TickResult, now: float) -> TickResult:
        """Return the tick's output with `snapshot["comments"]` and comment fields of each bin filled."""
        summaries: dict[str, dict[str, Any]] = {}
        for snapshot in result.snapshots:
            session = snapshot["session"]
            summaries[session] = summary = self._tracker(session).summary(now)
            snapshot["comments"] = summary
        bins = [self._fill(b, summaries.get(b.session), now) for b in result.bins]
        return TickResult(snapshots=result.snapshots, bins=bins)

    def _fill(self, closed: Bin, summary: dict[str, Any] | None, now: float) -> Bin:
        tracker = self.trackers.get(closed.session)
        if tracker is None:
            return closed
        comments, negative, spam, raid, top_topic = tracker.bin_counts(closed.start, closed.start + BIN_SECONDS)
        questions = (summary or {}).get("open_questions", [])
        askers, askers_age = tracker.most_waiting(now)
        return replace(
            closed,
            comments=comments,
            negative=negative,
            spam=spam,
            raid=raid,
            top_topic=top_topic,
            open_question_groups=len(questions),
            oldest_question_age_s=max((q["oldest_age_s"] for q in questions), default=0.0),
            question_askers=askers,
            question_askers_age_s=askers_age,
        )

    def retain(self, sessions: set[str]) -> None:
        """Drop trackers of sessions the engine no longer holds (expired or purged)."""
        for session in set(self.trackers) - sessions:
            del self.trackers[session]

    def to_state(self) -> dict[str, Any]:
        """JSON-ready checkpoint of every tracker."""
        return {session: tracker.to_state() for session, tracker in self.trackers.items()}

    @classmethod
    def from_state(cls, config: CommentConfig | None, data: dict[str, Any] | None) -> CommentStage:
        """Rebuild from `to_state` output (None: a checkpoint from before this stage existed)."""
        stage = cls(config)
        for session, raw in (data or {}).items():
            stage.trackers[session] = CommentTracker.from_state(stage.config, raw)
        return stage


def observe_stages(batches: Iterable[tuple[CommentStage, Iterable[Event]]]) -> None:
    """Feed each stage its batch, scoring every comment of every batch in one `score_batch` call.

    The engine folds a read of a few dozen events per partition; scoring costs about the same
    for one comment as for a hundred (numpy's per-call overhead), so the runner hands all
    partitions of one read here at once. Scoring is per text, so the labels are the same as
    scoring each session's comments on their own. Within a stage, sessions take their comments
    first and pins after, so a question and its answering pin may share a batch.
    """
    plan: list[tuple[CommentStage, dict[str, list[Event]], list[Event]]] = []
    texts: list[str] = []
    for stage, events in batches:
        sessions: dict[str, list[Event]] = defaultdict(list)
        pins: list[Event] = []
        for event in events:
            if event.type not in _RELEVANT:
                continue
            if event.type is EventType.PRODUCT_PIN:
                pins.append(event)
            else:
                sessions[event.session].append(event)
        for batch in sessions.values():  # the order labels are taken back in below
            texts += [e.text or "" for e in batch if is_scored(e)]
        plan.append((stage, sessions, pins))
    labels = iter(label_texts(texts))
    for stage, sessions, pins in plan:
        for session, batch in sessions.items():
            scored = sum(1 for e in batch if is_scored(e))
            stage._tracker(session).add_comments(batch, list(islice(labels, scored)))
        for pin in pins:
            stage._tracker(pin.session).on_pin(pin.product or "", pin.ts / 1000)


def label_texts(texts: Sequence[str]) -> list[Label]:
    """Return the sentiment label of each text: remembered ones reused, each other distinct text scored once."""
    missing = list(dict.fromkeys(t for t in texts if t not in _labels))
    if missing:
        _labels.update(zip(missing, [v.label for v in score_batch(missing)], strict=True))
    out = []
    for text in texts:
        _labels.move_to_end(text)
        out.append(_labels[text])
    while len(_labels) > LABEL_CACHE:
        _labels.popitem(last=False)
    return out
