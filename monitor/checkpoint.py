"""A session's checkpoint: all of its state as JSON-ready data, and back.

The engine runner stores `Engine.to_state()` in Redis together with the stream
position (docs/architecture.md); the layout is versioned by `engine.STATE_VERSION`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from monitor.dedup import SeenIds
from monitor.orders import OrderBook
from monitor.windows import Ring

if TYPE_CHECKING:
    from monitor.session import SessionState


def to_state(self: SessionState, seen_inline: bool = True) -> dict[str, Any]:
    """Return a settled session's state as JSON-ready data (rings compressed, sets as lists).

    `seen_inline` false names the minutes of remembered ids without their digests
    (`SeenIds.to_state`): the caller stores those beside the state.
    """
    return {
        "meta": [
            self.platform,
            self.title,
            self.host,
            self.live,
            self.ended_ms,
            self.min_event_ms,
            self.next_bin,
            self.late_events,
            self.total_viewers,
            self.peak_online,
            self.online,
            self.online_estimated,
            self.last_series_s,
        ],
        "viewer_count": list(self.viewer_count) if self.viewer_count else None,
        "clock": self.clock.to_state(),
        "totals": self.totals,
        "ring": self.ring.to_state(),
        "minutes": self.minutes.to_state(),
        "seen": self.seen.to_state(seen_inline),  # digests as base64; `SeenIds.from_state` also reads the old id lists
        "users": list(self.user_index),
        "viewers": np.flatnonzero(self.viewer_flags).tolist(),
        "clickers": np.flatnonzero(self.clicker_flags).tolist(),
        "latest": self.latest[: 2 * len(self.user_index)].tolist(),
        "orders": self.orders.to_state(),
        "products": self.products.to_state(),
        "audience": self.audience.to_state(),
        "markers": self.markers,
        "recent_comments": self.recent_comments,
    }


def restore(state: SessionState, data: dict[str, Any], stored_ids: dict[int, str] | None = None) -> None:
    """Load `to_state` output into a new session (`stored_ids`: the digests stored beside it, by minute)."""
    (
        state.platform,
        state.title,
        state.host,
        state.live,
        state.ended_ms,
        state.min_event_ms,
        state.next_bin,
        state.late_events,
        state.total_viewers,
        state.peak_online,
        state.online,
        state.online_estimated,
        state.last_series_s,
    ) = data["meta"]
    vc = data["viewer_count"]
    state.viewer_count = (vc[0], vc[1], vc[2]) if vc else None
    state.clock.restore(data["clock"])
    state.totals = list(data["totals"])
    state.ring = Ring.from_state(data["ring"])
    state.minutes = Ring.from_state(data["minutes"])
    state.seen = SeenIds.from_state(data["seen"], stored_ids)
    state.user_index = {user: uid for uid, user in enumerate(data["users"])}
    state.grow_users(len(state.user_index))
    state.viewer_flags[data["viewers"]] = True
    state.clicker_flags[data["clickers"]] = True
    state.latest[: 2 * len(state.user_index)] = data["latest"]
    state.orders = OrderBook.from_state(data["orders"])
    state.products.restore(data["products"])
    state.audience.restore(data["audience"])
    state.markers = list(data["markers"])
    state.recent_comments = list(data.get("recent_comments", []))
