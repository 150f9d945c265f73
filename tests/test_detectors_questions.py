"""Unanswered-question detector."""

from __future__ import annotations

from monitor.bins import Bin
from monitor.detectors.questions import QuestionsConfig, QuestionsDetector

T0 = 1_700_000_000


def q_bin(i: int, groups: int, age: float) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, open_question_groups=groups,
               oldest_question_age_s=age, events=10)


def test_questions_fire_once_a_group_is_older_than_15_s_and_still_open() -> None:
    det = QuestionsDetector(QuestionsConfig())
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
    det = QuestionsDetector(QuestionsConfig())
    det.observe(q_bin(0, 1, 55))
    assert det.observe(q_bin(1, 1, 65))[0].severity.value == "warning"
