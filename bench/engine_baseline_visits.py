"""Viewer visits of the per-event baseline, replayed behind the watermark (docs/metrics.md, dwell).

The plain-Python way: activity waits in a list until the watermark passes it, is replayed
sorted by time against a dict of open visits, and a heap of deadlines finds idle visits.
Shares no code with `monitor.dwell`.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque

Closed = tuple[int, float, bool]  # (end_ms, duration_s, estimated)


class Visits:
    """Viewer visits replayed in event-time order behind the watermark (docs/metrics.md, dwell).

    A visit opens on activity, goes on while gaps stay under the idle timeout, and ends at
    an explicit leave or, estimated, at last activity + timeout. Activity waits in
    `pending` until the watermark passes it; a heap of deadlines finds idle visits.
    """

    def __init__(self, idle_timeout_s: float, window_s: int) -> None:
        self.idle_ms = round(idle_timeout_s * 1000)
        self.window_s = window_s
        self.pending: list[tuple[int, bool, str]] = []  # (ts_ms, is_leave, user)
        self.open: dict[str, tuple[int, int]] = {}  # user -> (start_ms, last_ms)
        self.deadlines: list[tuple[int, str]] = []  # (last_ms + idle, user), stale entries skipped
        self.recent: deque[tuple[int, int]] = deque()  # (end_s, whole seconds) inside the window
        self.recent_hist: Counter[int] = Counter()
        self.hist: Counter[int] = Counter()
        self.total_s = 0.0
        self.closed = 0
        self.closed_estimated = 0

    def advance(self, watermark_ms: int) -> list[Closed]:
        """Replay the activity older than the watermark, close idle visits; return closures by end."""
        due = [p for p in self.pending if p[0] < watermark_ms]
        if due:
            self.pending = [p for p in self.pending if p[0] >= watermark_ms]
            due.sort()  # by time, activity before a leave at the same instant
        out: list[Closed] = []
        idle = self.idle_ms
        for ts, leave, user in due:
            visit = self.open.get(user)
            if visit is not None:
                start, last = visit
                if ts < last or (ts == last and not leave):
                    continue  # late activity never moves a visit back in time
                if ts - last < idle:
                    if leave:
                        del self.open[user]
                        out.append((ts, (ts - start) / 1000.0, False))
                    else:
                        self.open[user] = (start, ts)
                        heapq.heappush(self.deadlines, (ts + idle, user))
                    continue
                del self.open[user]
                out.append((last + idle, (last + idle - start) / 1000.0, True))
            if not leave:
                self.open[user] = (ts, ts)
                heapq.heappush(self.deadlines, (ts + idle, user))
        while self.deadlines and self.deadlines[0][0] <= watermark_ms:
            deadline, user = heapq.heappop(self.deadlines)
            visit = self.open.get(user)
            if visit is not None and visit[1] + idle == deadline:
                del self.open[user]
                out.append((deadline, (deadline - visit[0]) / 1000.0, True))
        out.sort(key=lambda c: c[0])
        for end, duration, estimated in out:
            whole = int(duration)
            self.total_s += duration
            self.closed += 1
            self.closed_estimated += estimated
            self.hist[whole] += 1
            self.recent.append((end // 1000, whole))
            self.recent_hist[whole] += 1
        return out

    def expire_recent(self, clock_s: int) -> None:
        """Forget visits that ended before the rolling watch-time window."""
        while self.recent and self.recent[0][0] <= clock_s - self.window_s:
            self.recent_hist[self.recent.popleft()[1]] -= 1

    def median_session(self) -> float | None:
        """Lower median whole-second duration of every closed visit."""
        return lower_median(self.hist)

    def median_recent(self) -> float | None:
        """Lower median whole-second duration of visits ended in the rolling window."""
        return lower_median(self.recent_hist)


def lower_median(hist: Counter[int]) -> float | None:
    """Lower median of values given as value -> count."""
    count = sum(hist.values())
    if not count:
        return None
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen > (count - 1) // 2:
            return float(value)
    return None
