"""Viewer presence and watch time, replayed in event-time order behind the watermark.

No platform sends reliable leave events (PLATFORMS.md §0), so a visit is: first
activity (join, comment, like, click…) → explicit `leave`, or, when none comes, last
activity + idle timeout (the figure is then *estimated*). Visits depend on the order
of a viewer's events, so activity is buffered and replayed sorted by time once the
watermark has passed it; within the allowed lateness this is exact whatever the
arrival order. Activity arriving behind the watermark is applied as it comes and never
moves a visit back in time (documented approximation for late data).

The replay is vectorised: per viewer the rules only compare each event with the one
before it (as `monitor.review.visits` does for a finished session), so one numpy pass
over the due events, sorted by viewer and time, finds every visit that starts, goes on
or ends. A visit still open is carried in two arrays indexed by viewer (start, last
activity; −1 when none), and enters the next pass as a first row at its last activity.
Idle visits are found by one comparison over those arrays, on the ticks where one can be
due (`idle_after_ms`: the earliest last activity + timeout, kept as a lower bound). A pass
of at most `FEW_EVENTS` events (a busy room's tenth of a second) applies the same rules row
by row in Python instead: the vectorised pass is ~30 numpy calls whatever its size.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from monitor.windows import sort_order

# Visit closure sink: (end_ms, duration_s, estimated)
Close = Callable[[int, float, bool], None]
# A viewer in `pending` tuples: any hashable, interned to an int code on first sight
User = Any
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FEW_EVENTS = 64  # due events replayed row by row in Python rather than by the vectorised pass


class ClosedVisits:
    """Visits closed during one advance, gathered in parts: start and end (ms), estimated."""

    __slots__ = ("ends", "estimated", "starts")

    def __init__(self) -> None:
        self.starts: list[IntArray] = []
        self.ends: list[IntArray] = []
        self.estimated: list[BoolArray] = []

    def add(self, starts: IntArray, ends: IntArray, estimated: bool) -> None:
        self.starts.append(starts)
        self.ends.append(ends)
        self.estimated.append(np.full(len(ends), estimated))

    def by_end(self) -> tuple[IntArray, IntArray, BoolArray]:
        """Starts, ends and estimated flags of every part, ordered by end (stable)."""
        if not self.ends:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
        ends: IntArray = np.concatenate(self.ends)
        order = np.argsort(ends, kind="stable")
        starts: IntArray = np.concatenate(self.starts)
        estimated: BoolArray = np.concatenate(self.estimated)
        return starts[order], ends[order], estimated[order]


class Audience:
    """Open visits, pending activity and the watch-time distribution of one session.

    Activity comes in either as columns of integer viewer codes (`add_columns`, the
    engine, which interns viewers per session) or as `(ts_ms, is_leave, user)` tuples in
    `pending` (any hashable user, interned here); one audience uses one of the two.
    """

    __slots__ = (
        "_chunks",
        "closed",
        "closed_estimated",
        "codes",
        "frontier_ms",
        "hist",
        "idle_after_ms",
        "idle_ms",
        "last",
        "pending",
        "recent",
        "recent_hist",
        "start",
        "total_s",
        "window_s",
    )

    def __init__(self, idle_timeout_s: float, window_s: int) -> None:
        self.idle_ms = round(idle_timeout_s * 1000)
        self.window_s = window_s
        self.pending: list[tuple[int, int, User]] = []  # (ts_ms, is_leave, user)
        self.codes: dict[User, int] = {}  # users of `pending` tuples -> viewer code
        self._chunks: list[tuple[IntArray, BoolArray, IntArray]] = []  # (ts_ms, is_leave, viewer)
        self.start: IntArray = np.zeros(0, dtype=np.int64)  # open visit start per viewer, -1: none
        self.last: IntArray = np.zeros(0, dtype=np.int64)  # open visit last activity per viewer, -1: none
        self.frontier_ms = 0
        self.idle_after_ms: float = -math.inf  # no open visit can time out at a watermark below this
        self.recent: deque[tuple[int, int]] = deque()  # (end_s, whole seconds) inside the window
        self.recent_hist: Counter[int] = Counter()  # the same durations, counted, for the median
        self.hist: Counter[int] = Counter()  # whole-second durations, whole session
        self.total_s = 0.0
        self.closed = 0
        self.closed_estimated = 0

    def add_columns(self, ts_ms: IntArray, is_leave: BoolArray, viewers: IntArray) -> None:
        """Buffer activity (or leaves) of a batch: one row per event, viewers as int codes."""
        if len(ts_ms):
            self._chunks.append((ts_ms, is_leave, viewers))

    def open_count(self) -> int:
        """Number of visits open now (the estimated online figure)."""
        return int(np.count_nonzero(self.last >= 0))

    def advance(self, watermark_ms: int, close: Close) -> None:
        """Replay activity older than the watermark, expire idle visits, call `close` per visit."""
        ends, durations, estimated = self.advance_columns(watermark_ms)
        for end, duration, guess in zip(ends.tolist(), durations.tolist(), estimated.tolist()):
            close(end, duration, guess)

    def advance_columns(self, watermark_ms: int) -> tuple[IntArray, npt.NDArray[np.float64], BoolArray]:
        """Replay activity older than the watermark and expire idle visits.

        Returns the visits closed, ordered by end: end (ms), duration (s), estimated.
        """
        self._take_pending()
        closed = ClosedVisits()
        if self._chunks:
            if len(self._chunks) == 1:
                ts, leave, user = self._chunks[0]
            else:
                ts, leave, user = (np.concatenate([c[i] for c in self._chunks]) for i in range(3))
            self._chunks.clear()
            due = ts < watermark_ms
            if not due.all():
                self._chunks.append((ts[~due], leave[~due], user[~due]))
                ts, leave, user = ts[due], leave[due], user[due]
            if len(ts):
                self._grow(int(user.max()) + 1)
                replay = self._replay_few if len(ts) <= FEW_EVENTS else self._replay
                replay(ts, leave, user, closed)
        self.frontier_ms = max(self.frontier_ms, watermark_ms)
        if watermark_ms >= self.idle_after_ms:
            self._expire_idle(watermark_ms, closed)
        starts, ends, guesses = closed.by_end()
        if not len(ends):
            return ends, np.zeros(0), guesses
        durations = (ends - starts) / 1000.0
        self._record(ends, durations, guesses)
        return ends, durations, guesses

    def _expire_idle(self, watermark_ms: int, closed: ClosedVisits) -> None:
        """Close the visits idle for the timeout at `watermark_ms`; note when the next one can be."""
        is_open = self.last >= 0
        idle = np.flatnonzero(is_open & (self.last + self.idle_ms <= watermark_ms))
        if len(idle):
            closed.add(self.start[idle], self.last[idle] + self.idle_ms, estimated=True)
            self.start[idle] = -1
            self.last[idle] = -1
            is_open[idle] = False
        open_last = self.last[is_open]
        self.idle_after_ms = int(open_last.min()) + self.idle_ms if len(open_last) else math.inf

    def _replay_few(self, ts: IntArray, leave: BoolArray, user: IntArray, closed: ClosedVisits) -> None:
        """`_replay` row by row, for a few events: the same rules, visits closed in the same order."""
        idle = self.idle_ms
        carried_last, carried_start = self.last[user].tolist(), self.start[user].tolist()
        rows: list[tuple[int, int, bool, int]] = []  # (viewer, ts, is_leave, start if this row opens a visit)
        carried: dict[int, tuple[int, int]] = {}  # viewer -> (last activity, start) of its open visit
        for t, is_leave, viewer, last, start in zip(ts.tolist(), leave.tolist(), user.tolist(), carried_last,
                                                    carried_start):
            if last >= 0:
                if t < last or (t == last and not is_leave):
                    continue  # with a visit open, an earlier event (late) changes nothing
                carried[viewer] = (last, start)
            rows.append((viewer, t, is_leave, t))
        rows += [(viewer, last, False, start) for viewer, (last, start) in carried.items()]
        rows.sort()  # per viewer by time, activity before leave (the open visit's row first)
        timed_out: list[tuple[int, int]] = []  # (start, end) of visits that went idle before a row
        left: list[tuple[int, int]] = []  # (start, end) of visits a leave closed
        viewer_now, visit_open, visit_start, previous_t = -1, False, -1, -1
        for viewer, t, is_leave, row_start in rows:
            if viewer != viewer_now:
                if viewer_now >= 0:
                    self._carry(viewer_now, visit_open, visit_start, previous_t)
                viewer_now, visit_open = viewer, False
            if visit_open and t - previous_t < idle:
                if is_leave:
                    left.append((visit_start, t))
                    visit_open = False
            else:
                if visit_open:
                    timed_out.append((visit_start, previous_t + idle))
                visit_open, visit_start = not is_leave, row_start
            previous_t = t
        self._carry(viewer_now, visit_open, visit_start, previous_t)
        for visits, estimated in ((timed_out, True), (left, False)):
            if visits:
                closed.add(np.array([start for start, _ in visits], dtype=np.int64),
                           np.array([end for _, end in visits], dtype=np.int64), estimated)

    def _carry(self, viewer: int, visit_open: bool, start: int, last: int) -> None:
        """Leave a viewer's visit open after a replay (or note that none is)."""
        self.start[viewer] = start if visit_open else -1
        self.last[viewer] = last if visit_open else -1
        if visit_open:
            self.idle_after_ms = min(self.idle_after_ms, last + self.idle_ms)

    def _replay(self, ts: IntArray, leave: BoolArray, user: IntArray, closed: ClosedVisits) -> None:
        """One pass over due events; the rules of the per-event replay, row against previous row."""
        idle = self.idle_ms
        carried = self.last[user]
        # With a visit open, an earlier event (late) changes nothing, nor does activity at its
        # last instant; a leave at that instant still closes it.
        noop = (carried >= 0) & ((ts < carried) | ((ts == carried) & ~leave))
        if noop.any():
            ts, leave, user = ts[~noop], leave[~noop], user[~noop]
        if not len(ts):
            return
        # an open visit enters as a first row (an activity at its last instant, its own start)
        among = np.zeros(len(self.last), dtype=bool)  # the batch's viewers, ascending (no sort)
        among[user] = True
        viewers = np.flatnonzero(among & (self.last >= 0))
        ts = np.concatenate((self.last[viewers], ts))
        leave = np.concatenate((np.zeros(len(viewers), bool), leave))
        user = np.concatenate((viewers, user))
        first_start = np.concatenate((self.start[viewers], ts[len(viewers) :]))
        order = sort_order(user, ts, leave)  # per viewer by time, activity before leave
        t, leave, u, first_start = ts[order], leave[order], user[order], first_start[order]
        n = len(t)
        rows = np.arange(n)
        same = np.zeros(n, bool)
        same[1:] = u[1:] == u[:-1]
        prev_open = np.zeros(n, bool)
        prev_open[1:] = same[1:] & ~leave[:-1]  # after an activity a visit is open; after a leave none
        gap = np.zeros(n, np.int64)
        gap[1:] = t[1:] - t[:-1]
        continues = prev_open & (gap < idle)
        timed_out = prev_open & ~continues
        opens = ~leave & ~continues
        visit_row = np.maximum.accumulate(np.where(opens, rows, 0))  # row that opened each row's visit
        visit_start = first_start[visit_row]
        # idle before row i: the visit of row i-1 ended at its last activity + idle
        before = rows[timed_out] - 1
        closed.add(visit_start[before], t[before] + idle, estimated=True)
        closing = leave & continues
        closed.add(visit_start[closing], t[closing], estimated=False)
        last_row = np.ones(n, bool)
        last_row[:-1] = ~same[1:]
        still_open = last_row & ~leave
        self.start[u[last_row]] = np.where(still_open[last_row], visit_start[last_row], -1)
        self.last[u[last_row]] = np.where(still_open[last_row], t[last_row], -1)
        opened = t[last_row & still_open]
        if len(opened):
            self.idle_after_ms = min(self.idle_after_ms, int(opened.min()) + idle)

    def _record(self, ends: IntArray, durations: npt.NDArray[np.float64], guesses: BoolArray) -> None:
        whole = durations.astype(np.int64).tolist()
        self.total_s += float(durations.sum())
        self.closed += len(whole)
        self.closed_estimated += int(np.count_nonzero(guesses))
        self.hist.update(whole)
        self.recent.extend(zip((ends // 1000).tolist(), whole))
        self.recent_hist.update(whole)

    def _take_pending(self) -> None:
        """Move `pending` tuples into the column buffer, interning their users."""
        if not self.pending:
            return
        codes = self.codes
        for user in dict.fromkeys(u for _, _, u in self.pending):
            if user not in codes:
                codes[user] = len(codes)
        ts, leave, user = zip(*self.pending)
        self.pending.clear()
        self.add_columns(
            np.array(ts, dtype=np.int64), np.array(leave, dtype=bool), np.array([codes[u] for u in user], np.int64)
        )

    def _grow(self, count: int) -> None:
        size = len(self.last)
        if count > size:
            grow = max(count, 2 * size, 1024) - size
            self.start = np.concatenate((self.start, np.full(grow, -1, dtype=np.int64)))
            self.last = np.concatenate((self.last, np.full(grow, -1, dtype=np.int64)))

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
        """Return JSON-ready state (viewers as codes; `codes` maps tuple users to them)."""
        self._take_pending()
        buffered = [np.concatenate([c[i] for c in self._chunks]).tolist() for i in range(3)] if self._chunks else []
        open_ = np.flatnonzero(self.last >= 0)
        return {
            "pending": buffered,
            "codes": [[user, code] for user, code in self.codes.items()],
            "open": [open_.tolist(), self.start[open_].tolist(), self.last[open_].tolist()],
            "frontier_ms": self.frontier_ms,
            "recent": list(self.recent),
            "hist": [[k, v] for k, v in self.hist.items()],
            "total_s": self.total_s,
            "closed": self.closed,
            "closed_estimated": self.closed_estimated,
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Load `to_state` output."""
        self.codes = {user: int(code) for user, code in data["codes"]}
        self._chunks = []
        if data["pending"]:
            ts, leave, user = data["pending"]
            self.add_columns(np.array(ts, np.int64), np.array(leave, bool), np.array(user, np.int64))
        viewers, start, last = (np.array(part, dtype=np.int64) for part in data["open"])
        self._grow(int(viewers.max()) + 1 if len(viewers) else 0)
        self.start[viewers] = start
        self.last[viewers] = last
        self.frontier_ms = data["frontier_ms"]
        self.idle_after_ms = -math.inf  # the next advance looks
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
