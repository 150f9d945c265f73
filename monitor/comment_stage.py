"""Comment intelligence per partition: one `CommentTracker` per session, joined to the engine's output.

The engine counts comments; this stage reads them. It sees the same event batches as the
engine, adds each session's comment summary to its snapshot (`comments`) and fills the
comment fields of every closed bin (non-spam comments and negatives, spam, raid, top topic,
open questions), so the detectors see sentiment and questions without the engine's hot
path knowing about language.

A session whose comment analysis raises is held out like an engine fault (`faults`, the
same `monitor.session_fault.SessionFault`): its tracker is dropped and it takes no more events
here; the runner holds the whole session out and freezes it (livemon/quarantine.py).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from monitor.bins import BIN_SECONDS, Bin
from monitor.comments import CommentConfig, CommentTracker, is_scored
from monitor.engine import TickResult
from monitor.events import Event, EventType
from monitor.sentiment import Label, score_batch
from monitor.session_fault import SessionFault, guarded

_RELEVANT = frozenset({EventType.COMMENT, EventType.SESSION_START, EventType.PRODUCT_PIN})
KINDS = frozenset(kind.value for kind in _RELEVANT)  # the wire `type`s this stage reads (`Engine.apply_wire`)
# Labels of the texts scored last, least recently seen first. Chat repeats itself (扣1, 好看,
# 几号链接) and scoring costs 10-20 µs a text; a label depends on the text alone, so a
# remembered one is the one `score_batch` would give. Bound: 2,048 texts of at most 500
# characters (ingest's limit), about 4 MB if every text were that long; ~0.3 MB for danmaku.
LABEL_CACHE = 2048
_labels: OrderedDict[str, Label] = OrderedDict()
T = TypeVar("T")


class CommentStage:
    """The comment trackers of one partition's sessions."""

    def __init__(self, config: CommentConfig | None = None) -> None:
        self.config = config or CommentConfig()
        self.trackers: dict[str, CommentTracker] = {}
        self.faults: dict[str, SessionFault] = {}  # sessions whose analysis raised; the runner takes them

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

    def guard(self, session: str, step: Callable[[], T]) -> T | None:
        """Run one session's step; if it raises, drop its tracker, record the fault and return None."""
        return guarded(step, session, self.trackers, self.faults)

    def enrich(self, result: TickResult, now: float) -> TickResult:
        """Return the tick's output with `snapshot["comments"]` and comment fields of each bin filled.

        A frozen snapshot (`fault`: its session is held out) keeps the comments it was frozen
        with; a session whose analysis raises here loses its snapshot and bins (`faults`).
        """
        summaries: dict[str, dict[str, Any]] = {}
        for snapshot in result.snapshots:
            session = snapshot["session"]
            if "fault" not in snapshot and session not in self.faults:
                summary = self.guard(session, partial(self._summary, session, now))
                if summary is not None:
                    summaries[session] = snapshot["comments"] = summary
        bins = [filled for b in result.bins
                if (filled := self.guard(b.session, partial(self._fill, b, summaries.get(b.session), now))) is not None]
        faulted = self.faults.keys()  # a faulted session's bins (its tracker gone: `_fill` passes them through) go here
        return TickResult(snapshots=[s for s in result.snapshots if s["session"] not in faulted],
                          bins=[b for b in bins if b.session not in faulted])

    def _summary(self, session: str, now: float) -> dict[str, Any]:
        return self._tracker(session).summary(now)

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
    first and pins after, so a question and its answering pin may share a batch. Sessions in
    a stage's `faults` are skipped; if the joint scoring raises, each session's texts are
    scored on their own, under that session's guard.
    """
    plan: list[tuple[CommentStage, dict[str, list[Event]], list[Event]]] = []
    texts: list[str] = []
    for stage, events in batches:
        sessions: dict[str, list[Event]] = defaultdict(list)
        pins: list[Event] = []
        for event in events:
            if event.type not in _RELEVANT or event.session in stage.faults:
                continue
            if event.type is EventType.PRODUCT_PIN:
                pins.append(event)
            else:
                sessions[event.session].append(event)
        for batch in sessions.values():  # the order labels are taken back in below
            texts += [e.text or "" for e in batch if is_scored(e)]
        plan.append((stage, sessions, pins))
    try:
        labels = label_texts(texts)
    except Exception:  # noqa: BLE001 - one session's text must not stop the others' analysis
        labels = _label_each_session(plan)
    taken = iter(labels)
    for stage, sessions, pins in plan:
        for session, batch in sessions.items():
            scored = list(islice(taken, sum(1 for e in batch if is_scored(e))))
            if session not in stage.faults:
                stage.guard(session, partial(stage._tracker(session).add_comments, batch, scored))
        for pin in pins:
            if pin.session not in stage.faults:
                stage.guard(pin.session, partial(stage._tracker(pin.session).on_pin, pin.product or "", pin.ts / 1000))


def _label_each_session(plan: list[tuple[CommentStage, dict[str, list[Event]], list[Event]]]) -> list[Label]:
    """The labels `observe_stages` takes, scored session by session; a session whose scoring raises is held out.

    A held-out session's places are filled with "neutral" only to keep the others' in step; it takes none.
    """
    labels: list[Label] = []
    for stage, sessions, _ in plan:
        for session, batch in sessions.items():
            texts = [e.text or "" for e in batch if is_scored(e)]
            labels += stage.guard(session, partial(label_texts, texts)) or ["neutral"] * len(texts)
    return labels


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
