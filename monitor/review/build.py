"""Assemble the review of one finished session from its events, alerts and suggestion choices."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from monitor.config import EngineConfig
from monitor.events import Event
from monitor.metrics import gpm, ratio
from monitor.review import findings as F
from monitor.review.adoption import summarise
from monitor.review.comments import CommentFacts, PitchIndex, analyse
from monitor.review.config import ReviewConfig
from monitor.review.facts import Facts, Pitch, collect, collect_wire
from monitor.review.incidents import incidents as incidents_of
from monitor.review.model import (
    COMPARED,
    Comparison,
    Headline,
    Incident,
    Marker,
    QuestionGroup,
    Review,
    SuggestionChoice,
    Timeline,
)
from monitor.review.products import product_rows
from monitor.review.timeline import FloatArray, curve, online_per_minute, per_minute

PITCH_MARKER_MIN_MS = round(EngineConfig().marker_min_s * 1000)  # the live curves' default rule


def build_review(events: Iterable[Event], alerts: Sequence[dict[str, Any]] = (),
                 suggestions_log: Sequence[SuggestionChoice] = (), previous_sessions: Sequence[Headline] = (),
                 config: ReviewConfig | None = None) -> Review:
    """Review one session.

    Args:
        events: every event of the session, in any order (repeated ids count once).
        alerts: alert transition records (`Transition.to_dict()`) of the session, any order;
            a record repeated by an engine's replay counts once.
        suggestions_log: the host's accept/skip choices on suggestions.
        previous_sessions: headlines of the room's earlier sessions, for comparison.
        config: thresholds for findings; defaults when omitted.
    """
    return review_of(collect(events), alerts, suggestions_log, previous_sessions, config)


def build_review_wire(payloads: Iterable[bytes | str], alerts: Sequence[dict[str, Any]] = (),
                      suggestions_log: Sequence[SuggestionChoice] = (), previous_sessions: Sequence[Headline] = (),
                      config: ReviewConfig | None = None) -> Review:
    """Review one session from its `Event.to_wire` payloads, as stored in the event stream.

    The same review as `build_review` of the decoded events, without building an `Event`
    per payload (most of a long session's reading cost, docs/performance.md#report).
    """
    return review_of(collect_wire(payloads), alerts, suggestions_log, previous_sessions, config)


def review_of(facts: Facts, alerts: Sequence[dict[str, Any]], suggestions_log: Sequence[SuggestionChoice],
              previous_sessions: Sequence[Headline], config: ReviewConfig | None) -> Review:
    """Assemble the review from the session's columns."""
    cfg = config or ReviewConfig()
    index = PitchIndex(facts.pitches)
    said = analyse(facts, index)
    online, online_estimated = online_per_minute(facts)
    rows = product_rows(facts, said)
    headline = _headline(facts, online)
    alerts_of = incidents_of(alerts, facts.session)
    names = {r.product: r.name for r in rows}
    found = [
        *F.under_pitched(rows, facts, cfg),
        *F.viewer_loss(online, facts, index, names, cfg),
        *F.unpaid(rows, cfg),
        *F.question_waits(said, cfg),
        *F.acknowledgement(alerts_of, facts.end_ms / 1000, cfg),
    ]
    return Review(
        headline=headline,
        comparisons=tuple(_compare(headline, previous_sessions)),
        previous_sessions=len(previous_sessions),
        timeline=_timeline(facts, online, online_estimated, said.sentiment_index, names, alerts_of,
                           suggestions_log),
        products=tuple(rows),
        findings=tuple(found),
        incidents=tuple(alerts_of),
        suggestions=summarise(suggestions_log, facts, cfg.follow_window_s),
        questions=tuple(_questions(said)),
        complaint_topics=tuple(said.topics.most_common()),
        utc_offset_s=cfg.utc_offset_s,
    )


def _headline(facts: Facts, online: FloatArray) -> Headline:
    gmv = sum(r[2] for r in facts.gmv)
    views = facts.total_viewers or len(facts.joins)
    known = online[~np.isnan(online)]
    peak = max((v for _, v in facts.viewer_counts), default=int(known.max()) if len(known) else 0)
    return Headline(
        session=facts.session, title=facts.title, host=facts.host, platform=facts.platform,
        start_ms=facts.start_ms, end_ms=facts.end_ms, duration_s=(facts.end_ms - facts.start_ms) / 1000,
        peak_online=int(peak), avg_online=round(float(known.mean()), 1) if len(known) else None,
        avg_watch_s=ratio(facts.watch_total_s, len(facts.visit_starts), 1), views=int(views),
        unique_viewers=len(facts.viewers), comments=len(facts.comments), clicks=len(facts.clicks),
        orders=int(sum(r[2] for r in facts.orders)), paid=int(sum(r[2] for r in facts.paid)),
        unpaid=sum(facts.unpaid_by_product.values()), gmv=round(gmv, 2), gpm=gpm(gmv, views),
        conversion=ratio(facts.buyers, len(facts.viewers)), refunds=facts.refunds,
        refund_amount=round(facts.refund_amount, 2),
    )


def _compare(headline: Headline, previous: Sequence[Headline]) -> list[Comparison]:
    out = []
    for metric in COMPARED:
        value = getattr(headline, metric)
        past = [getattr(h, metric) for h in previous if getattr(h, metric) is not None]
        mean = sum(past) / len(past) if past else None
        change = (value - mean) / mean if value is not None and mean else None
        out.append(Comparison(metric, value, None if mean is None else round(mean, 4),
                              None if change is None else round(change, 4)))
    return out


def pitch_markers(pitches: Sequence[Pitch], names: dict[str, str]) -> list[Marker]:
    """One marker per pitch change, by the live curves' rule (engine `marker_min_s`).

    A pitch shorter than that is a card popped to answer a question, and the return to the
    pitch it interrupted continues that pitch: neither is drawn.
    """
    out: list[Marker] = []
    last: Pitch | None = None
    for p in pitches:
        if p.end_ms - p.start_ms < PITCH_MARKER_MIN_MS:
            continue
        if last is None or p.product != last.product or p.start_ms - last.end_ms >= PITCH_MARKER_MIN_MS:
            out.append(Marker(p.start_ms, "pin", names.get(p.product, p.product)))
        last = p
    return out


def _timeline(facts: Facts, online: FloatArray, online_estimated: bool, sentiment: FloatArray,
              names: dict[str, str], alerts: Sequence[Incident], choices: Sequence[SuggestionChoice]) -> Timeline:
    markers = pitch_markers(facts.pitches, names)
    for inc in alerts:
        for t in inc.transitions:
            if t["event"] in ("pending", "firing", "acknowledged", "resolved"):
                markers.append(Marker(int(t["at"] * 1000), f"alert_{t['event']}", inc.rule))
    for c in choices:
        kind = "suggestion_accepted" if c.accepted else "suggestion_skipped"
        markers.append(Marker(int(c.at * 1000), kind, names.get(c.product, c.product)))
    markers.sort(key=lambda m: (m.ts, m.kind))
    series = {
        "online": curve(online, 1),
        "entries": curve(per_minute(facts.visit_starts, facts), 0),
        "leaves": curve(per_minute(facts.leaves, facts), 0),
        "gmv_per_min": curve(per_minute([r[0] for r in facts.gmv], facts, [r[2] for r in facts.gmv])),
        "sentiment": curve(sentiment, 1),
        "comments_per_min": curve(per_minute([c[0] for c in facts.comments], facts), 0),
    }
    return Timeline(facts.start_ms, 60, series, tuple(markers), online_estimated)


def _questions(said: CommentFacts) -> list[QuestionGroup]:
    out = []
    for intent, count in said.intents.most_common():
        waits = [w for w in said.waits if w.intent == intent]
        timed = [w.wait_s for w in waits if w.wait_s is not None]
        out.append(QuestionGroup(intent, count, len(timed), round(sum(timed) / len(timed), 1) if timed else None,
                                 len(waits) - len(timed)))
    return out
