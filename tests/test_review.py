"""The post-live review on constructed sessions whose right answers are known (tests/review_session.py)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from monitor.dwell import Audience
from monitor.events import Event, EventType, OrderStatus
from monitor.review import Review, ReviewConfig, SuggestionChoice, build_review, build_review_wire, text
from monitor.review.build import pitch_markers
from monitor.review.facts import Pitch
from monitor.review.visits import replay
from tests.review_session import MIN, SESSION, T0, session_events, storm_alerts


@pytest.fixture(scope="module")
def troubled() -> Review:
    return build_review(session_events(problems=True), storm_alerts())


@pytest.fixture(scope="module")
def calm() -> Review:
    return build_review(session_events(problems=False))


def test_review_without_problems_has_no_finding(calm: Review) -> None:
    assert calm.findings == ()
    assert calm.incidents == ()


def test_review_names_the_under_pitched_product_with_its_numbers(troubled: Review) -> None:
    found = [f for f in troubled.findings if f.code == "under_pitched"]
    assert [f.subject for f in found] == ["D"]
    numbers = found[0].numbers
    assert numbers["pitch_s"] == 40.0
    assert numbers["median_pitch_s"] == 720.0  # B and C 12 min each, A 15 min 20 s, D 40 s
    assert numbers["purchase_rate_in_pitch"] == 0.25  # clicks at 5, 15, 25, 35 s; the 3rd clicker paid
    assert "Product D" in found[0].text["en"] and "40 s" in found[0].text["en"]
    assert "40秒" in found[0].text["zh"]


def test_review_finds_viewer_loss_window_and_the_product_pitched(troubled: Review) -> None:
    # online: 1000 until minute 20, linear to 600 at minute 25, then 600; B is pitched 12-24, C 24-36
    (loss,) = [f for f in troubled.findings if f.code == "viewer_loss"]
    assert loss.subject == "B"
    assert loss.numbers["start_ts"] == T0 + 20 * MIN
    assert loss.numbers["online_after"] == 600.0
    assert "20:20" in loss.text["en"] and "20:25" in loss.text["en"]


def test_review_flags_unpaid_orders_of_the_product(troubled: Review) -> None:
    (unpaid,) = [f for f in troubled.findings if f.code == "unpaid"]
    assert unpaid.subject == "C"
    assert unpaid.numbers == {"unpaid": 15, "orders": 39}
    assert "压单" in unpaid.text["zh"]


def test_review_measures_question_wait_until_the_named_product_is_pitched(troubled: Review) -> None:
    # "2号" is B; asked at 1:00, 1:15, 1:30, 1:45; B pitched at 12:00 → waits 660, 645, 630, 615 s
    (wait,) = [f for f in troubled.findings if f.code == "question_wait"]
    assert wait.subject == "size"
    assert wait.numbers == {"count": 4, "avg_wait_s": 637.5, "unanswered": 0}
    (group,) = troubled.questions
    assert (group.intent, group.count, group.avg_wait_s) == ("size", 4, 637.5)


def test_review_reports_storm_acknowledged_late(troubled: Review) -> None:
    (late,) = [f for f in troubled.findings if f.code == "slow_ack"]
    assert late.numbers["time_to_ack_s"] == 240.0
    assert "20:30" in late.text["en"] and "4 min" in late.text["en"]
    (incident,) = troubled.incidents
    assert incident.rule == "negative_storm"
    assert incident.acked_by == "duty-1"
    assert [t["event"] for t in incident.transitions] == ["firing", "acknowledged", "resolved"]
    assert incident.evidence[0]["text"].startswith("<img")


def test_review_headline_matches_the_constructed_session(troubled: Review) -> None:
    h = troubled.headline
    assert h.duration_s == 2400.0
    assert h.peak_online == 1000
    assert h.views == 5000
    # A: 92 in-pitch clicks → 30 paid (+1 from its second pitch); B 24, C 24, D 1 → sum of price × paid
    assert h.paid == 80 and h.unpaid == 15 and h.orders == 95
    assert h.gmv == 31 * 100 + 24 * 50 + 24 * 80 + 1 * 200
    assert h.gpm == round(1000 * h.gmv / 5000, 2)


def test_review_product_table_uplift_and_gmv_per_pitch_minute(calm: Review) -> None:
    a = calm.products[0]
    # A pitched 0-10 min: 60 clicks (6/min); outside, one background click a minute for 30 min (1/min)
    assert (a.product, a.pitch_count, a.pitch_s, a.clicks, a.paid) == ("A", 1, 600.0, 90, 20)
    assert a.uplift == 5.0
    assert a.gmv_per_pitch_min == 200.0
    assert a.purchase_rate_in_pitch == round(20 / 60, 4)
    assert a.click_to_purchase == round(20 / 90, 4)


def test_review_ties_complaint_to_product_pitched_at_the_time(troubled: Review) -> None:
    by_id = {p.product: p for p in troubled.products}
    assert by_id["C"].complaints == 1  # the hostile comment at 20:30, during C's pitch
    assert by_id["B"].questions == 4
    assert dict(troubled.complaint_topics).get("quality_fake") == 1


def test_review_timeline_minutes_and_markers(troubled: Review) -> None:
    tl = troubled.timeline
    assert len(tl.series["online"]) == 41
    assert tl.series["online"][0] == 1000.0 and tl.series["online"][30] == 600.0
    assert tl.series["gmv_per_min"][0] == 200.0  # 6 clicks a minute on A, 2 of them pay ¥100
    kinds = [m.kind for m in tl.markers]
    assert kinds.count("pin") == 5
    assert {"alert_firing", "alert_acknowledged", "alert_resolved"} <= set(kinds)


def test_review_timeline_draws_no_marker_for_a_card_popped_to_answer_a_question() -> None:
    pitches = [Pitch("A", T0, T0 + 5 * MIN), Pitch("B", T0 + 5 * MIN, T0 + 5 * MIN + 500),  # B shown for 0.5 s
               Pitch("A", T0 + 5 * MIN + 500, T0 + 9 * MIN), Pitch("C", T0 + 9 * MIN, T0 + 12 * MIN),
               Pitch("A", T0 + 20 * MIN, T0 + 25 * MIN)]  # A again after a break: a pitch of its own
    markers = pitch_markers(pitches, {"A": "Serum"})
    assert [(m.ts, m.label) for m in markers] == [(T0, "Serum"), (T0 + 9 * MIN, "C"), (T0 + 20 * MIN, "Serum")]


def test_review_suggestions_followed_vs_not() -> None:
    # B accepted 60 s before its pitch at minute 10 (followed); D skipped; other pitches are "not followed"
    choices = [SuggestionChoice((T0 + 9 * MIN) / 1000, "B", True), SuggestionChoice((T0 + 30 * MIN) / 1000, "D", False)]
    review = build_review(session_events(problems=False), suggestions_log=choices)
    s = review.suggestions
    assert s is not None
    assert (s.accepted, s.skipped, s.followed_share) == (1, 1, 0.5)
    assert (s.followed_pitches, s.other_pitches) == (1, 3)
    assert s.gmv_followed == 20 * 50 and s.gmv_per_min_followed == 100.0
    assert s.gmv_other == 20 * 100 + 20 * 80 + 20 * 200  # A, C and D, 10 min each
    assert s.gmv_per_min_other == round(7600 / 30, 2)


def test_review_compares_headline_with_previous_sessions(calm: Review) -> None:
    previous = [calm.headline, replace(calm.headline, gmv=calm.headline.gmv * 3)]
    review = build_review(session_events(problems=False), previous_sessions=previous)
    gmv = next(c for c in review.comparisons if c.metric == "gmv")
    assert gmv.previous_mean == calm.headline.gmv * 2
    assert gmv.change == -0.5
    assert review.previous_sessions == 2


def test_review_counts_repeated_events_once() -> None:
    events = session_events(problems=False)
    assert build_review(events + events[:500]).headline == build_review(events).headline


def test_review_sellout_from_reported_stock() -> None:
    events = session_events(problems=False)
    events.append(Event("s1", SESSION, EventType.STOCK, T0 + 7 * MIN, product="A", stock=0))
    review = build_review(events)
    assert review.products[0].sellout_s == 420.0


def test_review_refunds_counted_without_reducing_gmv() -> None:
    events = session_events(problems=False)
    events.append(Event("r1", SESSION, EventType.ORDER, T0 + 39 * MIN, product="A", amount=100.0,
                        status=OrderStatus.REFUNDED, order_id="o3"))
    base = build_review(session_events(problems=False)).headline
    h = build_review(events).headline
    assert (h.refunds, h.refund_amount, h.gmv) == (1, 100.0, base.gmv)


def test_review_config_explains_a_bad_threshold() -> None:
    with pytest.raises(ValueError, match="under_pitch_ratio"):
        ReviewConfig(under_pitch_ratio=1.5)


def test_review_online_is_estimated_without_viewer_counts() -> None:
    events = [e for e in session_events(problems=False) if e.type is not EventType.VIEWER_COUNT]
    review = build_review(events)
    assert review.timeline.online_estimated
    assert not math.isnan(review.headline.avg_online or math.nan)


def test_review_visit_replay_matches_the_live_audience_replay() -> None:
    # random activity and leaves of 40 viewers over an hour, with ties and idle gaps; the
    # numpy replay must close exactly the visits the engine's Audience closes
    rng = np.random.default_rng(7)
    n, idle_ms = 3_000, 300_000
    ts = rng.integers(0, 3_600_000, n) // 1000 * 1000  # whole seconds: many equal times
    users = rng.integers(0, 40, n)
    leaves = rng.random(n) < 0.1
    audience = Audience(idle_ms / 1000, 900)
    audience.pending.extend((int(t), int(leave), f"u{u}") for t, u, leave in zip(ts, users, leaves))
    live: list[tuple[int, int]] = []
    audience.advance(4_000_000_000, lambda end, duration, _: live.append((end - round(duration * 1000), end)))
    visits = replay(ts.astype(np.int64), leaves, users.astype(np.int64), idle_ms)
    assert sorted(zip(visits.starts.tolist(), visits.ends.tolist())) == sorted(live)
    assert visits.watch_total_s == pytest.approx(audience.total_s)


def test_review_from_wire_payloads_equals_review_from_events(troubled: Review) -> None:
    payloads = [e.to_wire() for e in session_events(problems=True)]
    assert build_review_wire(payloads, storm_alerts()) == troubled


def test_review_counts_an_alert_transition_written_twice_once() -> None:
    # an engine that restarts before its checkpoint writes the same transitions again
    alerts = storm_alerts()
    review = build_review(session_events(problems=True), alerts + alerts[:2])
    [incident] = review.incidents
    assert [t["event"] for t in incident.transitions] == [r["event"] for r in alerts]


def test_review_names_the_zone_of_its_clock_times() -> None:
    assert [text.zone(s) for s in (8 * 3600, 0, -5 * 3600, 19_800)] == ["UTC+8", "UTC+0", "UTC−5", "UTC+5:30"]
