"""Publish and checkpoint schedule of the engine's partitions (livemon/cadence.py), on a manual clock."""

from __future__ import annotations

import itertools
import math

import pytest

from livemon.cadence import Cadence


def test_cadence_publishes_a_change_at_once_when_idle_then_at_most_once_per_interval() -> None:
    #  t:      0.00      0.03      0.10     0.12
    #  change  x         x                  x
    #  publish x (lead)            x (trail)
    cadence = Cadence(publish_s=0.1, checkpoint_s=5.0)
    cadence.add(3, now=0.0)
    assert cadence.publish_due(0.0) == []  # nothing folded yet
    cadence.changed(3)
    assert cadence.publish_due(0.0) == [3]  # leading edge: nothing published before
    cadence.published({3: 0.002}, 0.0)
    cadence.changed(3)
    assert cadence.publish_due(0.03) == []  # within the interval: wait
    assert math.isclose(cadence.next_deadline(), min(0.1, cadence._clocks[3].checkpoint_at))
    assert cadence.publish_due(0.1) == [3]  # trailing edge
    cadence.published({3: 0.002}, 0.1)
    assert cadence.publish_due(0.12) == []  # published, nothing new


def test_cadence_checkpoints_each_partition_once_per_interval_at_spread_offsets() -> None:
    cadence = Cadence(publish_s=0.1, checkpoint_s=5.0)
    for number in range(8):
        cadence.add(number, now=100.0)
    first = sorted(cadence._clocks[n].checkpoint_at for n in range(8))
    assert all(100.0 <= t < 105.0 for t in first)
    assert min(b - a for a, b in itertools.pairwise(first)) > 0.1  # no two partitions serialise in the same pass
    assert cadence.checkpoint_due(100.0) == []  # none at the moment of acquiring
    assert sorted(cadence.checkpoint_due(105.0)) == list(range(8))
    cadence.checkpointed(2, 105.0)
    assert 2 not in cadence.checkpoint_due(109.9)
    assert 2 in cadence.checkpoint_due(110.0)


def test_cadence_forgets_partitions_and_has_no_deadline_without_any() -> None:
    cadence = Cadence(publish_s=0.1, checkpoint_s=5.0)
    cadence.add(1, now=0.0)
    cadence.changed(1)
    cadence.forget(1)
    cadence.changed(1)  # a fold racing a drop must not resurrect the partition
    assert cadence.publish_due(10.0) == [] and cadence.checkpoint_due(10.0) == []
    assert cadence.next_deadline() == math.inf
    cadence.add(2, now=0.0)
    cadence.clear()
    assert cadence.next_deadline() == math.inf


@pytest.mark.parametrize("budget", [0.5, 0.25])
def test_cadence_stretches_the_publish_interval_when_publishing_would_take_over_the_budget(budget: float) -> None:
    cadence = Cadence(publish_s=0.1, checkpoint_s=20.0, publish_budget=budget)
    for number in range(8):
        cadence.add(number, now=0.0)
        cadence.changed(number)
    cadence.published({n: 0.002 for n in range(8)}, 0.0)  # 16 ms per round: within either budget
    assert cadence.publish_interval() == 0.1
    for number in range(8):
        cadence.changed(number)
    cadence.published({n: 0.016 for n in range(8)}, 0.1)  # 128 ms per round (200 busy rooms)
    stretched = 8 * 0.016 / budget
    assert math.isclose(cadence.publish_interval(), stretched)
    for number in range(8):
        cadence.changed(number)
    assert cadence.publish_due(0.1 + 0.1) == []  # the usual interval is not enough now
    assert math.isclose(cadence.next_deadline(), 0.1 + stretched)  # checkpoints come later (1.8 s and on)
    assert sorted(cadence.publish_due(0.1 + stretched)) == list(range(8))
    # publishing over the stretched interval takes at most the budget of the engine's time
    assert 8 * 0.016 / cadence.publish_interval() <= budget + 1e-9
    cadence.published({n: 0.001 for n in range(8)}, 0.5)  # the rooms went quiet: back to publish_s
    assert cadence.publish_interval() == 0.1
