"""A decoded batch of events as columns, grouped by session: the engine's unit of work.

The engine folds a few thousand events at a time from many sessions. The fields every
event has (session, id, time, kind, viewer) are read out of the event dicts once for
the whole batch (one list per field, then numpy columns for times, kinds and id
digests), the rows are grouped by session with one stable sort, and each session folds
a contiguous slice (`Part`) of those columns; within a session the rows keep their
arrival order. So the per-event work is a few C-level passes, and the numpy calls are a
few per batch, not per session. Fields only some kinds carry (like counts, products,
comment text, orders) are read from the kept dicts, for those rows only.

Keeping the batch's dicts costs the garbage collector nothing: a dict whose values are
all strings and numbers is not tracked by it (only `session_start`, which lists
products, is), so holding 2,000 of them does not make its collections slower.

Two steps, because duplicates are per session: `Batch.group` sorts the columns by
session, each session drops the ids it has seen (`Batch.drop`), and `Batch.parts`
builds the numpy columns of the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

import numpy as np
import orjson

from monitor.dedup import U64, digests
from monitor.windows import BoolArray, FloatArray, IntArray, sort_order
from monitor.wire_entries import SEPARATOR, events_of

# Kind codes: the frequent kinds are folded as numpy columns, viewer counts and the rest
# (orders, pins, stock, session start/end: RARE) one by one from their dicts.
COMMENT, LIKE, JOIN, LEAVE, CLICK, CART, VIEWER_COUNT, SHARE, FOLLOW, GIFT, RARE = range(11)
KIND_CODE = {
    "comment": COMMENT,
    "like": LIKE,
    "join": JOIN,
    "leave": LEAVE,
    "product_click": CLICK,
    "add_to_cart": CART,
    "viewer_count": VIEWER_COUNT,
    "share": SHARE,
    "follow": FOLLOW,
    "gift": GIFT,
}
_SESSION, _ID, _TS, _TYPE = (itemgetter(name) for name in ("session", "id", "ts", "type"))
RECENT_COMMENTS = 8  # newest comments a session keeps for screens
DECODE_CHUNK = 2048  # entries per orjson call


@dataclass(slots=True)
class Part:
    """One session's admitted rows of a batch, in arrival order.

    `index` holds each row's position in the batch's own columns (`batch.ids`,
    `batch.rows`, …), which are shared, not copied; `users` and the numpy columns are this
    session's own. `weights` is the `count` of likes and gifts (1 for every other kind).
    Clicks and add-to-carts are also given as their own columns (`product_*`);
    `comments`, `viewer_counts` and `rare` are positions (in `index`) of the kinds folded
    one by one; `comments` only those that may be among the session's newest
    `RECENT_COMMENTS` (at least as new as its `RECENT_COMMENTS`-th newest in the batch).
    """

    batch: Batch
    index: list[int]
    users: tuple[str | None, ...]  # a tuple: untracked by the GC while it waits in `SessionState.pending`
    ts: IntArray
    secs: IntArray
    codes: IntArray
    weights: FloatArray
    product_ids: list[str]
    product_ts: IntArray
    product_click: BoolArray
    comments: list[int]
    viewer_counts: list[int]
    rare: list[int]


@dataclass(slots=True)
class Batch:
    """A batch's fields as lists in arrival order, one element per event, and its session grouping."""

    sessions: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)  # kind codes (RARE for every kind folded one by one)
    users: list[str | None] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # the decoded events
    # after `group`: sessions in first-seen order, rows by session (positions in the columns
    # above) and the end of each session's share of `order`
    sessions_seen: list[str] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    bounds: list[int] = field(default_factory=list)
    at: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # `order` as an array
    ts: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # times (ms) in `order`
    codes: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))  # kind codes in `order`
    keys: U64 = field(default_factory=lambda: np.zeros(0, np.uint64))  # id digests (`monitor.dedup`) in `order`

    @classmethod
    def from_wire(cls, payloads: list[bytes]) -> Batch:
        """Decode event-stream entries (`monitor.wire_entries`), `DECODE_CHUNK` per `orjson.loads` of a joined array.

        An entry's newline separators become commas, so a chunk of entries is one JSON
        array of their events. A chunk that does not join into exactly one value per event
        (a line that is not one JSON value) is decoded line by line, so a bad entry fails
        as it would alone.
        """
        batch = cls()
        for lo in range(0, len(payloads), DECODE_CHUNK):
            chunk = payloads[lo : lo + DECODE_CHUNK]
            try:
                joined = b",".join(chunk)
                rows = orjson.loads(b"[" + joined.replace(SEPARATOR, b",") + b"]")
                if not isinstance(rows, list) or len(rows) != len(chunk) + joined.count(SEPARATOR):
                    raise ValueError("entries do not join into one value per event")
            except (TypeError, ValueError):
                rows = [orjson.loads(line) for raw in chunk for line in events_of(raw)]
            batch.extend(rows)
        return batch

    @classmethod
    def from_dicts(cls, rows: Iterable[dict[str, Any]]) -> Batch:
        """Build a batch from `Event.to_dict` / wire dicts."""
        batch = cls()
        batch.extend(list(rows))
        return batch

    def extend(self, rows: list[dict[str, Any]]) -> None:
        """Append decoded events: their dicts, and the columns every kind has.

        `map` with `itemgetter` / `dict.get` walks the rows in C, which is what makes one
        pass per field cheap (a list comprehension runs a bytecode loop per row).
        """
        self.sessions += map(_SESSION, rows)
        self.ids += map(_ID, rows)
        self.times += map(_TS, rows)
        self.kinds += map(KIND_CODE.get, map(_TYPE, rows), repeat(RARE))
        self.users += map(dict.get, rows, repeat("user"))
        self.rows += rows

    def of_kinds(self, kinds: frozenset[str]) -> list[dict[str, Any]]:
        """Return the decoded events of `kinds`, in arrival order, duplicates included."""
        codes = {code for kind, code in KIND_CODE.items() if kind in kinds}
        if any(kind not in KIND_CODE for kind in kinds):
            codes.add(RARE)
        return [d for d, code in zip(self.rows, self.kinds) if code in codes and d["type"] in kinds]

    def group(self) -> None:
        """Order the rows by session with one stable sort (arrival order kept inside)."""
        self.sessions_seen = list(dict.fromkeys(self.sessions))
        n = len(self.sessions)
        ts = np.fromiter(self.times, np.int64, n)
        codes = np.fromiter(self.kinds, np.int64, n)
        keys = digests(self.ids)
        if len(self.sessions_seen) > 1:
            code = dict(zip(self.sessions_seen, range(len(self.sessions_seen))))
            group = np.fromiter(map(code.__getitem__, self.sessions), np.int64, n)
            at = np.argsort(group, kind="stable")
            self.order = at.tolist()
            self.at = at
            self.ts, self.codes, self.keys = ts[at], codes[at], keys[at]
            self.bounds = np.cumsum(np.bincount(group, minlength=len(self.sessions_seen))).tolist()
        else:
            self.order = list(range(n))
            self.at = np.arange(n)
            self.ts, self.codes, self.keys = ts, codes, keys
            self.bounds = [n]

    def spans(self) -> list[tuple[str, int, int, int]]:
        """Return each session with the start and end of its rows in `order` and its newest time (ms)."""
        starts = [0, *self.bounds[:-1]]
        newest = np.maximum.reduceat(self.ts, starts).tolist() if self.order else []
        return list(zip(self.sessions_seen, starts, self.bounds, newest))

    def drop(self, positions: list[int]) -> None:
        """Remove the rows at `positions` of `order` (ascending), e.g. duplicates."""
        keep = np.ones(len(self.ts), dtype=bool)
        keep[positions] = False
        self.at = self.at[keep]
        self.order = self.at.tolist()
        self.ts, self.codes, self.keys = self.ts[keep], self.codes[keep], self.keys[keep]
        before = np.searchsorted(np.array(positions, dtype=np.int64), self.bounds).tolist()  # dropped rows < end
        self.bounds = [end - dropped for end, dropped in zip(self.bounds, before)]

    def parts(self) -> list[Part]:
        """Build the numpy columns once for the whole batch and cut them into one `Part` per session."""
        order = self.order
        n = len(order)
        rows, users = self.rows, self.users
        ts, codes = self.ts, self.codes
        weights = np.ones(n)
        weighted = np.flatnonzero((codes == LIKE) | (codes == GIFT)).tolist()
        if weighted:
            weights[weighted] = [float(rows[order[i]].get("count") or 1) for i in weighted]
        secs = ts // 1000
        bounds = self.bounds
        starts = [0, *bounds[:-1]]
        at_product = np.flatnonzero((codes == CLICK) | (codes == CART))
        product_ids = [rows[order[i]].get("product") or "" for i in at_product.tolist()]
        product_ts = ts[at_product]
        product_click = codes[at_product] == CLICK
        product_cut = [0, *np.searchsorted(at_product, bounds).tolist()]
        comments = _newest(np.flatnonzero(codes == COMMENT), ts, starts, bounds)
        viewer_counts, rare = (_positions(np.flatnonzero(codes == c), starts, bounds) for c in (VIEWER_COUNT, RARE))
        out = []
        for k, (start, end) in enumerate(zip(starts, bounds)):
            a, b = product_cut[k], product_cut[k + 1]
            index = order[start:end]
            out.append(
                Part(
                    self,
                    index,
                    tuple(map(users.__getitem__, index)),
                    ts[start:end],
                    secs[start:end],
                    codes[start:end],
                    weights[start:end],
                    product_ids[a:b],
                    product_ts[a:b],
                    product_click[a:b],
                    comments[k],
                    viewer_counts[k],
                    rare[k],
                )
            )
        return out


def _newest(at: IntArray, ts: IntArray, starts: list[int], ends: list[int]) -> list[list[int]]:
    """Of the rows `at` (ascending), those that may be among the `RECENT_COMMENTS` newest of their span.

    A row can be only if its time is at least the `RECENT_COMMENTS`-th newest time of its
    span: one sort of the batch's rows by (span, time) finds that time for every span.
    """
    if len(at) <= RECENT_COMMENTS:
        return _positions(at, starts, ends)
    span = np.searchsorted(np.array(ends, dtype=np.int64), at, side="right")
    times = ts[at]
    ordered = times[sort_order(span, times)]
    count = np.bincount(span, minlength=len(ends))
    floor = np.full(len(ends), np.iinfo(np.int64).min)
    full = count > RECENT_COMMENTS
    floor[full] = ordered[np.cumsum(count)[full] - RECENT_COMMENTS]
    return _positions(at[times >= floor[span]], starts, ends)


def _positions(at: IntArray, starts: list[int], ends: list[int]) -> list[list[int]]:
    """The rows `at` (ascending) per span, relative to the span's start."""
    cuts = np.searchsorted(at, ends).tolist()
    flat = at.tolist()
    out = []
    lo = 0
    for start, hi in zip(starts, cuts):
        out.append([i - start for i in flat[lo:hi]] if hi > lo else [])
        lo = hi
    return out
