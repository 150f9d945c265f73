"""Ground-truth incidents the simulator injects, written beside the events as labels.

A label says what was injected, when and where, so detector benchmarks can score
themselves: `{"kind", "session", "start", "end", "product", "topic"}` with times in epoch
milliseconds like the events. Sell-outs are labelled when the stock actually reaches 0.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypedDict

import numpy as np


class IncidentKind(enum.StrEnum):
    """What goes wrong in a simulated room."""

    NEGATIVE_STORM = "negative_storm"
    RAID = "raid"
    VIEWER_CRASH = "viewer_crash"
    CONVERSION_DROP = "conversion_drop"
    SELL_OUT = "sell_out"
    DWELL_DROP = "dwell_drop"
    QUESTION_SURGE = "question_surge"
    INGEST_SILENCE = "ingest_silence"


class IncidentLabel(TypedDict):
    """An incident as a JSON label: times in epoch milliseconds, like the events."""

    kind: str
    session: str
    start: int
    end: int
    product: str | None
    topic: str | None


@dataclass(frozen=True, slots=True)
class Incident:
    """One injected incident; `start`/`end` in epoch seconds of simulated time."""

    kind: IncidentKind
    session: str
    start: float
    end: float
    product: str | None = None
    topic: str | None = None

    def active(self, t: float) -> bool:
        """True while the incident lasts."""
        return self.start <= t < self.end

    def to_label(self) -> IncidentLabel:
        """JSON label (times in epoch ms, like events)."""
        return {"kind": self.kind.value, "session": self.session, "start": int(self.start * 1000),
                "end": int(self.end * 1000), "product": self.product, "topic": self.topic}


def parse_kinds(text: str) -> tuple[IncidentKind, ...]:
    """Read `all`, `none` or a comma list of kinds.

    Raises:
        ValueError: naming the unknown kind and the choices.
    """
    text = text.strip()
    if text == "all":
        return tuple(IncidentKind)
    if text in ("", "none"):
        return ()
    kinds = []
    for name in text.split(","):
        try:
            kinds.append(IncidentKind(name.strip()))
        except ValueError:
            raise ValueError(f"incident kind: expected all, none or some of {', '.join(IncidentKind)}, "
                             f"got {name.strip()!r}") from None
    return tuple(kinds)


def plan(session: str, kinds: tuple[IncidentKind, ...], rng: np.random.Generator, start: float, horizon_s: float,
         topics: tuple[str, ...]) -> list[Incident]:
    """Spread the incidents over the session, one per slot, after a quiet warm-up.

    Each incident lasts 1-3 minutes (silence 30-90 s) and slots never overlap, so a label
    maps to one cause. Products of product incidents are filled in by the simulator,
    which knows the run of show.
    """
    if not kinds:
        return []
    order = [kinds[i] for i in rng.permutation(len(kinds))]
    warmup = min(600.0, 0.15 * horizon_s)
    slot = (horizon_s - warmup) / len(order)
    out = []
    for i, kind in enumerate(order):
        length = float(rng.uniform(30, 90) if kind is IncidentKind.INGEST_SILENCE else rng.uniform(60, 180))
        length = min(length, 0.6 * slot)
        begin = start + warmup + i * slot + float(rng.uniform(0.1, 0.3)) * slot
        topic = topics[int(rng.integers(len(topics)))] if kind is IncidentKind.NEGATIVE_STORM else None
        out.append(Incident(kind, session, round(begin, 3), round(begin + length, 3), topic=topic))
    return out
