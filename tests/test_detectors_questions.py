"""Unanswered-question detector: a growing crowd of distinct askers on one product, above the room's usual."""

from __future__ import annotations

import numpy as np

from monitor.bins import Bin
from monitor.detectors.questions import QuestionsConfig, QuestionsDetector

T0 = 1_700_000_000


def q_bin(i: int, askers: int, age: float) -> Bin:
    return Bin(session="s1", start=T0 + 10 * i, viewers=500, viewers_estimated=False, question_askers=askers,
               question_askers_age_s=age if askers else 0.0, open_question_groups=min(askers, 3), events=10)


def ordinary(rng: np.random.Generator, det: QuestionsDetector, bins: int, crowd: float = 1.5) -> list[int]:
    """A room where the host answers within seconds: a small crowd, a few seconds old. Returns firing bins."""
    fired = []
    for i in range(bins):
        askers = int(rng.poisson(crowd))
        if det.observe(q_bin(i, askers, float(rng.uniform(1, 12)))):
            fired.append(i)
    return fired


def test_questions_quiet_while_the_host_answers_within_seconds() -> None:
    rng = np.random.default_rng(1)
    assert ordinary(rng, QuestionsDetector(QuestionsConfig()), 360) == []
    # a busy room: a crowd of ~6 on the pitched product is its usual, not a surge
    assert ordinary(rng, QuestionsDetector(QuestionsConfig()), 360, crowd=6.0) == []


def test_questions_fire_when_a_crowd_keeps_growing_unanswered() -> None:
    rng = np.random.default_rng(2)
    det = QuestionsDetector(QuestionsConfig())
    ordinary(rng, det, 60)
    # a surge: 4 more viewers ask about #3 every 10 s and nobody pins it
    fired = [k for k in range(12) if det.observe(q_bin(60 + k, 4 * (k + 1), 10.0 * (k + 1)))]
    assert fired and fired[0] <= 4
    (c,) = det.observe(q_bin(72, 60, 130.0))
    assert c.rule == "unanswered_questions" and c.value == 60 and c.severity.value == "warning"


def test_questions_quiet_on_a_big_crowd_that_stopped_growing_or_is_young() -> None:
    det = QuestionsDetector(QuestionsConfig(min_history_bins=0))
    assert det.observe(q_bin(0, 40, 10.0)) == []  # 40 asked within 10 s: not yet waiting 15 s
    assert det.observe(q_bin(1, 40, 20.0)) == []  # no new asker: the rule waits for growth
    assert det.observe(q_bin(2, 45, 30.0)) != []


def test_questions_quiet_until_the_room_has_a_usual_level() -> None:
    det = QuestionsDetector(QuestionsConfig())
    assert not any(det.observe(q_bin(i, 5 * (i + 1), 10.0 * (i + 1))) for i in range(30))


def test_questions_checkpoint_round_trip() -> None:
    rng = np.random.default_rng(3)
    det = QuestionsDetector(QuestionsConfig())
    ordinary(rng, det, 40)
    restored = QuestionsDetector.from_state(det.config, det.to_state())
    b = q_bin(40, 30, 40.0)
    assert restored.observe(b) == det.observe(b) != []
    assert QuestionsDetector.from_state(det.config, {"previous_age": 3.0, "seen": 5, "groups": [1]}).seen == 0
