"""Dwell-drop detector: viewers' stay by flow balance (entries and the online gauge), last minute vs before."""

from __future__ import annotations

import numpy as np

from monitor.bins import Bin
from monitor.detectors.dwell import DwellConfig, DwellDetector, flow_dwell

T0 = 1_700_000_000


def audience(rng: np.random.Generator, bins: int, arrivals: list[float], stay: list[float]) -> list[Bin]:
    """A room whose audience is a flow: per 10-s bin Poisson(arrivals·10) join, online·10/stay leave."""
    online, out = arrivals[0] * stay[0], []
    for i in range(bins):
        joins = int(rng.poisson(arrivals[i] * 10))
        online += joins - online * 10 / stay[i]
        gauge = int(online * (1 + rng.normal(0, 0.03)))
        out.append(Bin(session="s1", start=T0 + 10 * i, viewers=gauge, viewers_estimated=False, joins=joins,
                       events=joins + 10))
    return out


def fired(bins: list[Bin]) -> list[int]:
    det = DwellDetector(DwellConfig())
    return [i for i, b in enumerate(bins) if det.observe(b)]


def test_dwell_flow_balance_recovers_the_mean_stay() -> None:
    #   online 100 → 110 over two bins, 30 joined: 20 left in 20 s, mean audience 105 → 105 s
    assert flow_dwell([(105, 15), (110, 15)], 100) == (105.0, 20.0)
    assert flow_dwell([(130, 15), (160, 15)], 100) is None  # nobody left: no estimate


def test_dwell_quiet_on_a_steady_room_and_through_an_arrival_burst() -> None:
    rng = np.random.default_rng(8)
    steady = audience(rng, 360, [5.0] * 360, [90.0] * 360)
    assert fired(steady) == []
    # paid traffic (投流): three times the arrivals for 90 s, the same stay; online ÷ joins would halve
    burst = [15.0 if 120 <= i < 129 or 240 <= i < 249 else 5.0 for i in range(360)]
    assert fired(audience(rng, 360, burst, [90.0] * 360)) == []


def test_dwell_fires_within_a_minute_when_viewers_stay_half_as_long() -> None:
    rng = np.random.default_rng(9)
    stay = [90.0 if i < 60 else 45.0 for i in range(80)]
    hits = fired(audience(rng, 80, [5.0] * 80, stay))
    assert hits and 60 <= hits[0] <= 66


def test_dwell_quiet_while_the_reference_is_short_or_a_tiny_room_has_few_departures() -> None:
    rng = np.random.default_rng(10)
    stay = [90.0 if i < 20 else 30.0 for i in range(35)]
    assert fired(audience(rng, 35, [5.0] * 35, stay)) == []  # under 6 min of history is not a reference
    tiny = [90.0 if i < 60 else 30.0 for i in range(80)]
    assert fired(audience(rng, 80, [0.1] * 80, tiny)) == []  # ~12 leave in its worst minute: below min_departures
