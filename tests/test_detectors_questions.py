"""Unanswered-question detector."""

from __future__ import annotations

from monitor.bins import Bin
from monitor.detectors.questions import QuestionsConfig, QuestionsDetector

T0 = 1_700_000_000


def q_bin(i: int, groups: int, age: float) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, open_question_groups=groups,
               oldest_question_age_s=age, events=10)


# The age rule alone: one group older than min_age_s and still open, no level of open groups to beat.
AGE_ONLY = QuestionsConfig(window_bins=1, min_history_bins=0, ratio=0.0, min_excess=1.0)
# Judging from the first bins, against the level of the bins 20 s before (hand-built series are short).
SHORT = QuestionsConfig(window_bins=1, baseline_lag_bins=1, min_history_bins=1, ratio=1.0, min_excess=2.0)


def test_questions_fire_once_a_group_is_older_than_15_s_and_still_open() -> None:
    det = QuestionsDetector(AGE_ONLY)
    assert det.observe(q_bin(0, 1, 8)) == []
    [c] = det.observe(q_bin(1, 2, 18))
    assert c.rule == "unanswered_questions" and c.value == 18


def test_questions_quiet_when_the_host_answers() -> None:
    det = QuestionsDetector(QuestionsConfig())
    det.observe(q_bin(0, 2, 12))
    # the oldest group was answered: the oldest is now a younger one and fewer groups are open
    assert det.observe(q_bin(1, 1, 16)) == []
    assert det.observe(q_bin(2, 0, 0)) == []


def test_questions_warning_after_a_minute() -> None:
    det = QuestionsDetector(AGE_ONLY)
    det.observe(q_bin(0, 1, 55))
    assert det.observe(q_bin(1, 1, 65))[0].severity.value == "warning"


def test_questions_quiet_on_one_question_left_for_its_next_pitch() -> None:
    det = QuestionsDetector(QuestionsConfig())
    # one or two groups stay open for minutes while others come and go: ordinary show
    assert not any(det.observe(q_bin(i, 1 + i % 2, 30.0 + 10 * i)) for i in range(60))


def test_questions_fire_when_many_new_groups_stay_unanswered() -> None:
    det = QuestionsDetector(SHORT)
    for i in range(10):
        det.observe(q_bin(i, 1, 30.0 + 10 * i))
    # a surge: groups 1 -> 2 -> 4 within 20 s, the oldest still open
    assert det.observe(q_bin(10, 2, 140.0)) == []
    [c] = det.observe(q_bin(11, 4, 150.0))
    assert c.rule == "unanswered_questions"


def test_questions_checkpoint_round_trip() -> None:
    det = QuestionsDetector(SHORT)
    for i in range(5):
        det.observe(q_bin(i, 1, 20.0 + 10 * i))
    restored = QuestionsDetector.from_state(det.config, det.to_state())
    b = q_bin(5, 4, 80.0)
    assert restored.observe(b) == det.observe(b) != []


def test_questions_quiet_on_a_stale_group_and_the_usual_bounce_of_answers() -> None:
    det = QuestionsDetector(QuestionsConfig())
    # a group asked before the first pin never closes (the oldest age grows all show), while
    # ordinary groups open and close: 3-9 open, bin to bin
    counts = [3, 7, 5, 9, 4, 6, 8, 3, 5, 7]
    assert not any(det.observe(q_bin(i, counts[i % 10], 300.0 + 10 * i)) for i in range(200))


def test_questions_fire_when_open_groups_pile_up_above_the_room_usual_level() -> None:
    det = QuestionsDetector(QuestionsConfig())
    counts = [3, 7, 5, 9, 4, 6, 8, 3, 5, 7]  # usual level 5.7
    for i in range(100):
        det.observe(q_bin(i, counts[i % 10], 300.0 + 10 * i))
    # a surge nobody answers: four more groups stay open on top of the usual bounce
    fired = [det.observe(q_bin(i, counts[i % 10] + 4, 300.0 + 10 * i)) for i in range(100, 112)]
    assert not any(fired[:3])  # the 2-min level needs a few bins to rise by 2
    [c] = fired[-1]
    assert c.rule == "unanswered_questions" and c.evidence[0]["usual"] < c.evidence[0]["level"]


def test_questions_restore_an_earlier_checkpoint() -> None:
    det = QuestionsDetector.from_state(QuestionsConfig(), {"previous": [2, 40.0], "recent_groups": [1, 2]})
    assert det.previous_age == 40.0 and det.seen == 0
