"""Viewer presence and watch time, replayed in event-time order behind the watermark.

No platform sends reliable leave events (PLATFORMS.md §0), so a visit is: first
activity (join, comment, like, click…) → explicit `leave`, or, when none comes, last
activity + idle timeout (the figure is then *estimated*). Visits depend on the order
of a viewer's events, so activity is buffered and replayed sorted by time once the
watermark has passed it; within the allowed lateness this is exact whatever the
arrival order. Activity arriving behind the watermark is applied as it comes and never
moves a visit back in time (documented approximation for late data).

Expiry candidates are queued as (last activity, user) on every update; a tick pops
the queue while candidates are idle and skips stale ones, so expiring idle viewers
costs only the updates that have aged out, never a scan of all open visits.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from typing import Any

# Visit closure sink: (end_ms, duration_s, estimated)
Close = Callable[[int, float, bool], None]
# A viewer: the engine interns ids to ints per session; any sortable hashable works
User = Any


class Audience:
    """Open visits, pending activity and the watch-time distribution of one session."""

    __slots__ = (
        "closed",
        "closed_estimated",
        "expiry",
        "frontier_ms",
        "hist",
        "idle_ms",
        "open",
        "pending",
        "recent",
        "recent_hist",
        "total_s",
        "window_s",
    )

    def __init__(self, idle_timeout_s: float, window_s: int) -> None:
        self.idle_ms = round(idle_timeout_s * 1000)
        self.window_s = window_s
        self.pending: list[tuple[int, int, User]] = []  # (ts_ms, is_leave, user)
        self.open: dict[User, list[int]] = {}  # user -> [start_ms, last_ms]
        self.expiry: deque[tuple[int, User]] = deque()  # (last_ms, user), oldest first
        self.frontier_ms = 0
        self.recent: deque[tuple[int, int]] = deque()  # (end_s, whole seconds) inside the window
        self.recent_hist: Counter[int] = Counter()  # the same durations, counted, for the median
        self.hist: Counter[int] = Counter()  # whole-second durations, whole session
        self.total_s = 0.0
        self.closed = 0
        self.closed_estimated = 0

    def advance(self, watermark_ms: int, close: Close) -> None:
        """Replay activity older than the watermark in time order, then expire idle visits."""
        pending = self.pending
        open_visits, expiry, idle = self.open, self.expiry, self.idle_ms
        if pending:
            pending.sort()
            cut = len(pending)
            # One loop, locals only: it runs once per viewer action, the engine's hottest loop.
            for index, (ts, is_leave, user) in enumerate(pending):
                if ts >= watermark_ms:
                    cut = index
                    break
                visit = open_visits.get(user)
                if visit is not None and ts >= visit[1] + idle:  # gone idle before this event
                    del open_visits[user]
                    self._close(visit[1] + idle, visit[0], True, close)
                    visit = None
                if is_leave:
                    if visit is not None and ts >= visit[1]:
                        del open_visits[user]
                        self._close(ts, visit[0], False, close)
                elif visit is None:
                    open_visits[user] = [ts, ts]
                    expiry.append((ts, user))
                elif ts > visit[1]:
                    visit[1] = ts
                    expiry.append((ts, user))
            del pending[:cut]
        self.frontier_ms = max(self.frontier_ms, watermark_ms)
        while expiry and expiry[0][0] + idle <= watermark_ms:
            last, user = expiry.popleft()
            visit = open_visits.get(user)
            if visit is not None and visit[1] == last:  # else a stale candidate: the visit moved on
                del open_visits[user]
                self._close(last + idle, visit[0], True, close)

    def _close(self, end_ms: int, start_ms: int, estimated: bool, close: Close) -> None:
        duration = (end_ms - start_ms) / 1000.0
        self.total_s += duration
        self.closed += 1
        self.closed_estimated += estimated
        whole = int(duration)
        self.hist[whole] += 1
        self.recent.append((end_ms // 1000, whole))
        self.recent_hist[whole] += 1
        close(end_ms, duration, estimated)

    def expire_recent(self, clock_s: int) -> None:
        """Forget visits that ended before the rolling watch-time window."""
        recent, hist = self.recent, self.recent_hist
        while recent and recent[0][0] <= clock_s - self.window_s:
            duration = recent.popleft()[1]
            hist[duration] -= 1
            if not hist[duration]:
                del hist[duration]

    def median_recent(self) -> float | None:
        """Lower median whole-second duration of visits ended in the rolling window."""
        return _lower_median(self.recent_hist, len(self.recent))

    def median_session(self) -> float | None:
        """Lower median whole-second duration of all closed visits."""
        return _lower_median(self.hist, self.closed)

    def to_state(self) -> dict[str, Any]:
        """Return JSON-ready state."""
        return {
            "pending": self.pending,
            "open": [[user, start, last] for user, (start, last) in self.open.items()],  # int keys: a list
            "expiry": list(self.expiry),
            "frontier_ms": self.frontier_ms,
            "recent": list(self.recent),
            "hist": [[k, v] for k, v in self.hist.items()],
            "total_s": self.total_s,
            "closed": self.closed,
            "closed_estimated": self.closed_estimated,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load `to_state` output."""
        self.pending = [(int(t), int(k), u) for t, k, u in data["pending"]]
        self.open = {u: [start, last] for u, start, last in data["open"]}
        self.expiry = deque((int(t), u) for t, u in data["expiry"])
        self.frontier_ms = data["frontier_ms"]
        self.recent = deque((int(e), int(d)) for e, d in data["recent"])
        self.recent_hist = Counter(d for _, d in self.recent)
        self.hist = Counter({int(k): int(v) for k, v in data["hist"]})
        self.total_s = data["total_s"]
        self.closed = data["closed"]
        self.closed_estimated = data["closed_estimated"]


def _lower_median(hist: Counter[int], count: int) -> float | None:
    """Lower median of `count` values given as value -> multiplicity."""
    if not count:
        return None
    rank = (count - 1) // 2
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen > rank:
            return float(value)
    raise AssertionError("histogram and count disagree")
