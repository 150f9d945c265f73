"""Were suggestions followed, and did following them pay?

A pitch *followed* a suggestion when the host accepted a suggestion of that product at most
`follow_window_s` before the pitch began. A pitch earns the GMV its product was paid for
during it; comparing GMV per pitch-minute (not totals) keeps long pitches from winning by
length alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monitor.metrics import ratio
from monitor.review.facts import Facts
from monitor.review.model import SuggestionChoice, SuggestionSummary


def pitch_gmv(facts: Facts) -> list[float]:
    """GMV of each pitch's own product paid during that pitch, in pitch order."""
    pitches = facts.pitches
    if not pitches or not facts.gmv:
        return [0.0] * len(pitches)
    starts = np.array([p.start_ms for p in pitches], dtype=np.int64)
    ts = np.fromiter((r[0] for r in facts.gmv), np.int64, len(facts.gmv))
    slot = np.searchsorted(starts, ts, "right") - 1
    out = [0.0] * len(pitches)
    for (t, product, amount), i in zip(facts.gmv, slot.tolist()):
        if i >= 0 and t < pitches[i].end_ms and pitches[i].product == product:
            out[i] += amount
    return out


def summarise(choices: Sequence[SuggestionChoice], facts: Facts, follow_window_s: float) -> SuggestionSummary | None:
    """Summarise the host's choices; None when none were recorded."""
    if not choices:
        return None
    accepted = [c for c in choices if c.accepted]
    gmv = pitch_gmv(facts)
    window_ms = follow_window_s * 1000
    followed = [0.0, 0.0, 0]  # gmv, minutes, pitches
    other = [0.0, 0.0, 0]
    for pitch, earned in zip(facts.pitches, gmv):
        hit = any(c.product == pitch.product and 0 <= pitch.start_ms - c.at * 1000 <= window_ms for c in accepted)
        bucket = followed if hit else other
        bucket[0] += earned
        bucket[1] += (pitch.end_ms - pitch.start_ms) / 60_000
        bucket[2] += 1
    return SuggestionSummary(
        accepted=len(accepted),
        skipped=len(choices) - len(accepted),
        followed_share=ratio(len(accepted), len(choices)),
        followed_pitches=int(followed[2]),
        other_pitches=int(other[2]),
        gmv_followed=round(followed[0], 2),
        gmv_other=round(other[0], 2),
        gmv_per_min_followed=ratio(followed[0], followed[1], 2),
        gmv_per_min_other=ratio(other[0], other[1], 2),
    )
