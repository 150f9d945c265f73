"""The alert lifecycle as a spec: states, timers, mutes and operator actions.

Time is a manual clock: each `evaluate` call passes `now` explicitly.
"""

from __future__ import annotations

import orjson
import pytest

from monitor.alert_lifecycle import (
    AlertError,
    AlertState,
    IllegalTransition,
    InhibitRule,
    LifecycleConfig,
    RuleConfig,
    Transition,
    UnknownAlert,
    fingerprint,
)
from monitor.alerts import AlertBook
from monitor.detectors.condition import Condition, Severity, labels

T0 = 1_700_000_000.0


def cond(rule: str = "negative_storm", session: str = "s1", severity: Severity = Severity.WARNING,
         value: float = 0.3, **label_values: str) -> Condition:
    return Condition(rule=rule, session=session, severity=severity, value=value, threshold=0.2,
                     summary=f"{rule} holds", labels=labels(**label_values), evidence=({"n": 1},))


def book(**kwargs: object) -> AlertBook:
    rules = {"negative_storm": RuleConfig(for_s=20, keep_firing_for_s=30), "viewer_crash": RuleConfig(for_s=0),
             "ingest_silence": RuleConfig(for_s=0, keep_firing_for_s=0)}
    return AlertBook(LifecycleConfig(rules=rules, inhibit=(InhibitRule("ingest_silence", ("viewer_crash",)),),
                                     **kwargs))  # type: ignore[arg-type]


def events(transitions: list[Transition]) -> list[tuple[str, str, str]]:
    return [(t.event, t.from_state.value, t.state.value) for t in transitions]


def test_alerts_pending_then_firing_then_resolved_after_keep_firing_for() -> None:
    b = book()
    # t:     0      10      20        30..50         60
    # cond:  yes    yes     yes       no ...          no
    # state: pend   pend    FIRING    firing (keep)   resolved (≥30 s since last met at 20)
    assert events(b.evaluate([cond()], {"s1"}, T0)) == [("pending", "inactive", "pending")]
    assert b.evaluate([cond()], {"s1"}, T0 + 10) == []
    fired = b.evaluate([cond()], {"s1"}, T0 + 20)
    assert events(fired) == [("firing", "pending", "firing")] and fired[0].notify
    assert b.evaluate([], {"s1"}, T0 + 40) == []
    resolved = b.evaluate([], {"s1"}, T0 + 50)
    assert events(resolved) == [("resolved", "firing", "resolved")] and resolved[0].notify
    assert b.active() == []


def test_alerts_pending_that_clears_never_fires() -> None:
    b = book()
    b.evaluate([cond()], {"s1"}, T0)
    assert events(b.evaluate([], {"s1"}, T0 + 10)) == [("cleared", "pending", "inactive")]
    assert b.evaluate([cond()], {"s1"}, T0 + 20)[0].state is AlertState.PENDING  # a fresh episode


def test_alerts_unevaluated_session_keeps_its_alerts() -> None:
    b = book()
    b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)
    assert b.evaluate([], {"s2"}, T0 + 600) == []
    assert [a["state"] for a in b.active()] == ["firing"]


def test_alerts_fingerprint_is_session_rule_and_labels() -> None:
    b = book()
    out = b.evaluate([cond(rule="viewer_crash", product="p1"), cond(rule="viewer_crash", product="p2"),
                      cond(rule="viewer_crash", session="s2", product="p1")], {"s1", "s2"}, T0)
    assert len({t.fingerprint for t in out}) == 3
    assert fingerprint("s1", "r", labels(a="1", b="2")) == fingerprint("s1", "r", (("b", "2"), ("a", "1")))


def test_alerts_repeat_interval_renotifies_unchanged_firing_alert() -> None:
    b = book(repeat_interval_s=300)
    b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)
    assert b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 290) == []
    repeat = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 300)
    assert events(repeat) == [("repeat", "firing", "firing")] and repeat[0].notify


def test_alerts_ack_records_responder_and_stops_repeats() -> None:
    b = book(repeat_interval_s=300)
    fp = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)[0].fingerprint
    ack = b.ack(fp, "mei", "host is on it", T0 + 5)
    assert ack.to_dict()["actor"] == "mei" and ack.note == "host is on it" and ack.event == "acknowledged"
    assert ack.state is AlertState.FIRING and not ack.notify
    assert b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 900) == []
    assert b.active()[0]["acked_by"] == "mei"


def test_alerts_ack_of_unknown_or_resolved_alert_raises() -> None:
    b = book()
    with pytest.raises(UnknownAlert):
        b.ack("nope", "mei", "", T0)
    fp = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)[0].fingerprint
    b.resolve(fp, "mei", "fixed", T0 + 1)
    with pytest.raises(IllegalTransition):
        b.ack(fp, "mei", "", T0 + 2)


def test_alerts_manual_resolve_holds_until_condition_clears_once() -> None:
    b = book()
    fp = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)[0].fingerprint
    resolved = b.resolve(fp, "mei", "known: host moved studio", T0 + 10)
    assert (resolved.event, resolved.actor, resolved.state) == ("resolved", "mei", AlertState.RESOLVED)
    assert b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 20) == []  # still holding: not re-opened
    assert b.evaluate([], {"s1"}, T0 + 30) == []
    again = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 40)
    assert events(again) == [("firing", "inactive", "firing")]


def test_alerts_silence_mutes_until_expiry_then_notifies() -> None:
    b = book()
    b.add_silence({"session": "s1", "rule": "viewer_crash"}, T0, T0 + 60, "mei", "planned break")
    fired = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 10)
    assert fired[0].state is AlertState.FIRING and not fired[0].notify and fired[0].muted == "silenced"
    assert b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 50) == []
    after = b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 60)
    assert events(after) == [("unmuted", "firing", "firing")] and after[0].notify


def test_alerts_silence_matches_labels_and_leaves_others_alone() -> None:
    b = book()
    b.add_silence({"product": "p1"}, T0, T0 + 600, "mei", "restock underway")
    out = {dict(t.labels)["product"]: t.notify for t in
           b.evaluate([cond(rule="viewer_crash", product="p1"), cond(rule="viewer_crash", product="p2")], {"s1"}, T0)}
    assert out == {"p1": False, "p2": True}


def test_alerts_silence_expired_by_hand_and_invalid_silences_rejected() -> None:
    b = book()
    s = b.add_silence({"session": "s1"}, T0, T0 + 600, "mei", "x")
    assert b.expire_silence(s.id, T0 + 5).ends_at == T0 + 5
    assert b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0 + 6)[0].notify
    with pytest.raises(AlertError):
        b.add_silence({}, T0, T0 + 5, "mei", "everything")
    with pytest.raises(AlertError):
        b.add_silence({"session": "s1"}, T0, T0, "mei", "empty range")


def test_alerts_ingest_silence_inhibits_viewer_crash_of_same_session_only() -> None:
    b = book()
    out = b.evaluate([cond(rule="ingest_silence", severity=Severity.CRITICAL), cond(rule="viewer_crash"),
                      cond(rule="viewer_crash", session="s2")], {"s1", "s2"}, T0)
    muted = {(t.rule, t.session): t.muted for t in out}
    assert muted == {("ingest_silence", "s1"): None, ("viewer_crash", "s1"): "inhibited", ("viewer_crash", "s2"): None}
    # the adapter comes back: the crash, if it still holds, is notified now
    back = b.evaluate([cond(rule="viewer_crash"), cond(rule="viewer_crash", session="s2")], {"s1", "s2"}, T0 + 10)
    assert [(t.event, t.rule, t.notify) for t in back] == [("resolved", "ingest_silence", True),
                                                           ("unmuted", "viewer_crash", True)]


def test_alerts_resolve_of_never_notified_alert_is_not_notified() -> None:
    b = book()
    b.add_silence({"session": "s1"}, T0, T0 + 30, "mei", "x")
    b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)
    out = b.evaluate([], {"s1"}, T0 + 100)
    assert events(out) == [("resolved", "firing", "resolved")] and not out[0].notify


def test_alerts_severity_escalation_updates_the_same_alert() -> None:
    b = book()
    b.evaluate([cond(rule="viewer_crash")], {"s1"}, T0)
    b.evaluate([cond(rule="viewer_crash", severity=Severity.CRITICAL, value=0.6)], {"s1"}, T0 + 10)
    [alert] = b.active()
    assert (alert["severity"], alert["value"]) == ("critical", 0.6)


def test_alerts_close_session_resolves_open_alerts() -> None:
    b = book()
    b.evaluate([cond(rule="viewer_crash"), cond()], {"s1"}, T0)
    out = b.close_session("s1", T0 + 5)
    assert sorted(t.from_state.value for t in out) == ["firing", "pending"]
    assert all(t.actor == "system" for t in out) and b.active() == []


def test_alerts_transition_record_is_json_with_every_audit_field() -> None:
    b = book()
    [t] = b.evaluate([cond(rule="viewer_crash", product="p1")], {"s1"}, T0)
    record = orjson.loads(orjson.dumps(t.to_dict()))
    assert {"fingerprint", "session", "rule", "labels", "severity", "state", "from_state", "at", "value",
            "threshold", "summary", "evidence", "actor", "note"} <= record.keys()
    assert record["labels"] == {"product": "p1"} and record["at"] == T0 and record["evidence"] == [{"n": 1}]


def test_alerts_checkpoint_round_trip_keeps_timers_and_silences() -> None:
    b = book(repeat_interval_s=300)
    b.evaluate([cond()], {"s1"}, T0)
    b.add_silence({"rule": "raid"}, T0, T0 + 900, "mei", "x")
    restored = AlertBook.from_state(b.config, orjson.loads(orjson.dumps(b.to_state())))
    assert events(restored.evaluate([cond()], {"s1"}, T0 + 20)) == [("firing", "pending", "firing")]
    assert list(restored.silences) == ["sil-1"]
    assert restored.add_silence({"rule": "x"}, T0, T0 + 1, "a", "b").id == "sil-2"


def test_alerts_groups_active_alerts_per_session_most_severe_first() -> None:
    b = book()
    b.evaluate([cond(rule="viewer_crash"), cond(rule="ingest_silence", severity=Severity.CRITICAL),
                cond(rule="viewer_crash", session="s2")], {"s1", "s2"}, T0)
    groups = b.groups()
    assert [a["rule"] for a in groups["s1"]] == ["ingest_silence", "viewer_crash"] and len(groups["s2"]) == 1


def test_alerts_inhibit_rule_cannot_inhibit_itself() -> None:
    with pytest.raises(ValueError):
        InhibitRule("ingest_silence", ("ingest_silence",))
