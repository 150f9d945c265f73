"""Visits of a finished session, replayed with numpy instead of one Python call per event.

Same rules as the live replay (`monitor.dwell.Audience`, tests/test_review.py holds the
two equal on random sessions): a visit opens at a viewer's first activity, continues
while each activity comes less than the idle timeout after the previous one, and ends at
an explicit `leave` or, failing that, at the last activity + idle timeout. A leave with no
open visit is ignored. At equal times an activity comes before a leave.

Why not reuse `Audience` as is: it is built for a watermark that moves and costs a few
microseconds per event in Python; a 6-hour review replays a million events at once, and
per viewer the rules above only compare each event with the previous one, which numpy
does for all events together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Visits:
    """Start and end (epoch ms) of every visit; the k-th start and the k-th end are one visit."""

    starts: IntArray
    ends: IntArray

    @property
    def watch_total_s(self) -> float:
        """Seconds watched over all visits."""
        return float((self.ends - self.starts).sum()) / 1000.0


def replay(ts: IntArray, is_leave: npt.NDArray[np.bool_], user: IntArray, idle_ms: int) -> Visits:
    """Turn activity and leaves (any order; users as integer codes) into closed visits.

    Every visit is closed: the session is over, so an open one ends at its last activity
    plus the idle timeout.
    """
    if len(ts) == 0:
        empty = np.zeros(0, np.int64)
        return Visits(empty, empty)
    order = np.lexsort((is_leave, ts, user))
    t, leave, u = ts[order], is_leave[order], user[order]
    n = len(t)
    # open before row i: the viewer's previous row exists and was an activity (a leave closes,
    # and a leave without an open visit leaves nothing open)
    prev_open = np.zeros(n, bool)
    prev_open[1:] = (u[1:] == u[:-1]) & ~leave[:-1]
    gap = np.zeros(n, np.int64)
    gap[1:] = t[1:] - t[:-1]
    continues = prev_open & (gap < idle_ms)
    timed_out = prev_open & ~continues  # the open visit went idle before row i
    last_of_user = np.ones(n, bool)
    last_of_user[:-1] = u[:-1] != u[1:]
    starts = t[~leave & ~continues]
    # ends in row order; at one row an idle close (slot 0) precedes the start it makes room for,
    # and the session-end close of that new visit (slot 2) follows it
    rows = np.arange(n, dtype=np.int64)
    idle_rows = rows[timed_out]
    leave_rows = rows[leave & continues]
    final_rows = rows[last_of_user & ~leave]
    prev_t = np.concatenate(([0], t[:-1]))
    end_at = np.concatenate((prev_t[idle_rows] + idle_ms, t[leave_rows], t[final_rows] + idle_ms))
    key = np.concatenate((idle_rows * 3, leave_rows * 3, final_rows * 3 + 2))
    ends = end_at[np.argsort(key, kind="stable")]
    return Visits(starts.astype(np.int64), ends.astype(np.int64))
