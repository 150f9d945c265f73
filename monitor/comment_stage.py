"""Comment intelligence per partition: one `CommentTracker` per session, joined to the engine's output.

The engine counts comments; this stage reads them. It sees the same event batches as the
engine, adds each session's comment summary to its snapshot (`comments`) and fills the
comment fields of every closed bin (non-spam comments and negatives, spam, raid, top topic,
open questions), so the detectors see sentiment and questions without the engine's hot
path knowing about language.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from monitor.bins import BIN_SECONDS, Bin
from monitor.comments import CommentConfig, CommentTracker
from monitor.engine import TickResult
from monitor.events import Event, EventType

_RELEVANT = frozenset({EventType.COMMENT, EventType.SESSION_START, EventType.PRODUCT_PIN})


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
        """Feed a batch: comments are scored together per session; a pin answers its questions."""
        batches: dict[str, list[Event]] = defaultdict(list)
        pins: list[Event] = []
        for event in events:
            if event.type not in _RELEVANT:
                continue
            if event.type is EventType.PRODUCT_PIN:
                pins.append(event)
            else:
                batches[event.session].append(event)
        for session, batch in batches.items():
            self._tracker(session).add_comments(batch)
        for pin in pins:  # after the batch's questions, so a question and its answering pin may share a batch
            self._tracker(pin.session).on_pin(pin.product or "", pin.ts / 1000)

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
