"""The records a post-live review is made of: plain frozen data, ready for HTML, JSON and CSV.

`build_review` produces them; the edges (`livemon.report`) only render or export them, so
every number on the page comes from here and can be tested without a browser.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Headline:
    """Whole-session figures, defined as the live snapshot defines them (docs/report.md)."""

    session: str
    title: str
    host: str
    platform: str
    start_ms: int
    end_ms: int
    duration_s: float
    peak_online: int
    avg_online: float | None
    avg_watch_s: float | None
    views: int
    unique_viewers: int
    comments: int
    clicks: int
    orders: int
    paid: int
    unpaid: int
    gmv: float
    gpm: float | None
    conversion: float | None
    refunds: int
    refund_amount: float


COMPARED = ("duration_s", "peak_online", "avg_online", "avg_watch_s", "gmv", "gpm", "conversion", "orders", "refunds")


@dataclass(frozen=True, slots=True)
class Comparison:
    """One headline figure against the mean of the room's previous sessions."""

    metric: str
    value: float | None
    previous_mean: float | None
    change: float | None  # (value - previous_mean) / previous_mean; None without a usable baseline


@dataclass(frozen=True, slots=True)
class Marker:
    """Something that happened at one instant, drawn on the timelines."""

    ts: int
    kind: str  # pin, unpin, alert_pending, alert_firing, alert_acknowledged, alert_resolved, suggestion_accepted, …
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """Minute curves from the first minute of the session; None where a minute has no data."""

    start_ms: int
    step_s: int
    series: dict[str, tuple[float | None, ...]]
    markers: tuple[Marker, ...]
    online_estimated: bool  # no platform viewer counts: online is open visits (idle timeout)


@dataclass(frozen=True, slots=True)
class ProductRow:
    """One product over the whole session."""

    product: str
    name: str
    price: float | None
    pitch_count: int
    pitch_s: float
    clicks: int
    carts: int
    orders: int
    paid: int
    unpaid: int
    gmv: float
    gmv_per_pitch_min: float | None
    click_to_purchase: float | None
    purchase_rate_in_pitch: float | None  # paid during its own pitches ÷ clicks during them
    uplift: float | None  # clicks per minute while pitched ÷ while not pitched − 1
    sellout_s: float | None  # seconds from session start until stock reached 0
    complaints: int
    questions: int


@dataclass(frozen=True, slots=True)
class Finding:
    """One plain-language lesson with the numbers behind it, in Chinese and English."""

    code: str  # under_pitched, never_pitched, viewer_loss, unpaid, question_wait, slow_ack, never_acked
    severity: str  # warning or info
    subject: str  # product id, intent or alert fingerprint the finding is about ("" for the session)
    numbers: dict[str, Any]
    text: dict[str, str]  # language → sentence


@dataclass(frozen=True, slots=True)
class Incident:
    """One alert's life during the session, from the alerts audit trail."""

    fingerprint: str
    rule: str
    severity: str
    summary: str
    labels: dict[str, str]
    pending_at: float | None
    fired_at: float | None
    acked_at: float | None
    acked_by: str | None
    resolved_at: float | None
    time_to_ack_s: float | None
    evidence: tuple[dict[str, Any], ...]
    transitions: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class SuggestionChoice:
    """The host's answer to one suggestion: pitch `product` next (accepted) or not."""

    at: float
    product: str
    accepted: bool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuggestionChoice:
        """Read a logged choice (`{"at", "product", "accepted"}`)."""
        return cls(float(data["at"]), str(data["product"]), bool(data["accepted"]))


@dataclass(frozen=True, slots=True)
class SuggestionSummary:
    """How often suggestions were followed, and what followed and other pitches earned."""

    accepted: int
    skipped: int
    followed_share: float | None
    followed_pitches: int
    other_pitches: int
    gmv_followed: float
    gmv_other: float
    gmv_per_min_followed: float | None
    gmv_per_min_other: float | None


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Buyer questions of one intent, and how long those naming a product waited for its pitch."""

    intent: str
    count: int
    timed: int
    avg_wait_s: float | None
    unanswered: int


@dataclass(frozen=True, slots=True)
class Review:
    """Everything the report shows."""

    headline: Headline
    comparisons: tuple[Comparison, ...]
    previous_sessions: int
    timeline: Timeline
    products: tuple[ProductRow, ...]
    findings: tuple[Finding, ...]
    incidents: tuple[Incident, ...]
    suggestions: SuggestionSummary | None
    questions: tuple[QuestionGroup, ...]
    complaint_topics: tuple[tuple[str, int], ...]
    utc_offset_s: int = field(default=8 * 3600)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `report.json` export)."""
        return asdict(self)
