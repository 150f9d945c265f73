"""Event ids seen recently in one session, so a re-sent event counts once.

Ids are remembered for `dedup_horizon_s` of event time, grouped by the minute of the
batch that brought them, and forgotten a minute at a time. A busy room remembers many:
250 events/s is 450,000 ids in 30 minutes, which as a set of strings took ~75 bytes each
in memory and ~40 bytes each in every checkpoint. So each id is kept as a stable 64-bit
digest (BLAKE2b, 8 bytes; not Python's `hash`, which is salted per process and would not
survive a checkpoint) in sorted numpy uint64 arrays: 16 bytes per id in memory (its
minute's array and one merged array for lookups) and 8 bytes (base64: ~11 characters)
per id in a checkpoint.

The trade: two different ids with the same digest look like one, and the later event is
dropped as a duplicate. With n ids remembered the chance that a new id collides with one
of them is n / 2^64 (~2.4e-14 at 450,000), i.e. about one genuine event lost per 4e13
events of such a room; over a horizon the chance of any collision is ~n^2 / 2^65.

Lookups: the ids of past batches are merged into one sorted array (`merged`, one
`np.searchsorted` per batch); ids admitted since the last merge wait in small sets of
ints per minute (`recent`: a set is cheaper to grow by a batch than a sorted array, and
a merge copies `merged`) until there are `_MERGE_AT` of them or a minute expires.
"""

from __future__ import annotations

import base64
from hashlib import blake2b
from typing import Any

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
_EMPTY: U64 = np.empty(0, dtype=np.uint64)
_MERGE_AT = 8_192  # recent ids before merging: ~0.5 MB of sets; a merge into 450k ids costs ~2 ms


def digests(ids: list[str]) -> U64:
    """Return the stable 64-bit digest of each id, in order."""
    raw = b"".join([blake2b(i.encode(), digest_size=8).digest() for i in ids])
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def _contains(sorted_arr: U64, keys: U64) -> npt.NDArray[np.bool_]:
    """Which of `keys` are in `sorted_arr`."""
    if not sorted_arr.size:
        return np.zeros(keys.size, dtype=bool)
    pos = np.searchsorted(sorted_arr, keys)
    pos[pos == sorted_arr.size] = 0
    return sorted_arr[pos] == keys


def _merge(a: U64, b: U64) -> U64:
    """Union of two disjoint sorted arrays, sorted."""
    return np.insert(a, np.searchsorted(a, b), b) if a.size else b


class SeenIds:
    """Recently seen event ids (as digests) of one session, by the minute they are remembered under."""

    __slots__ = ("merged", "minutes", "recent", "recent_n")

    def __init__(self) -> None:
        self.minutes: dict[int, U64] = {}  # minute -> sorted digests merged into `merged`
        self.merged: U64 = _EMPTY
        self.recent: dict[int, set[int]] = {}  # minute -> digests admitted since the last merge
        self.recent_n = 0

    def admit(self, ids: list[str], newest_ms: int) -> list[int]:
        """Remember a batch's new ids; return the positions of ids seen before or earlier in it.

        Duplicates are rare (the ingest gate removes most), so the batch is tested at once
        (one sorted lookup, set operations); only a batch that holds one is walked id by id.
        The new ids are remembered under the minute of the batch's newest event
        (`newest_ms`), so each is kept at least as long as its own minute.
        """
        if not ids:
            return []
        keys = digests(ids)
        ordered = np.sort(keys)  # sorted keys walk `merged` in order: far fewer cache misses
        seen = _contains(self.merged, ordered)
        order = keys.tolist()
        fresh = set(order)
        dropped: list[int] = []
        if len(fresh) != len(order) or seen.any() or any(not r.isdisjoint(fresh) for r in self.recent.values()):
            known = set(ordered[seen].tolist())
            for r in self.recent.values():
                known |= r & fresh
            fresh = set()
            add = fresh.add
            dropped = [i for i, k in enumerate(order) if k in known or k in fresh or add(k)]
            if not fresh:
                return dropped
        minute = newest_ms // 60_000
        bucket = self.recent.get(minute)
        if bucket is None:
            self.recent[minute] = fresh
        else:
            bucket |= fresh
        self.recent_n += len(fresh)
        if self.recent_n >= _MERGE_AT:
            self._merge_recent()
        return dropped

    def _merge_recent(self) -> None:
        """Move the recent ids into their minutes and the merged lookup array."""
        if not self.recent:
            return
        arrays = {m: np.sort(np.fromiter(r, dtype=np.uint64, count=len(r))) for m, r in self.recent.items()}
        for minute, arr in arrays.items():
            self.minutes[minute] = _merge(self.minutes.get(minute, _EMPTY), arr)
        self.merged = _merge(self.merged, np.sort(np.concatenate(list(arrays.values()))))
        self.recent.clear()
        self.recent_n = 0

    def expire(self, before_minute: int) -> None:
        """Forget the ids remembered under minutes before `before_minute`."""
        old = [m for m in self.minutes if m < before_minute]
        old_recent = [m for m in self.recent if m < before_minute]
        for minute in old_recent:
            self.recent_n -= len(self.recent.pop(minute))
        if old:
            gone = np.sort(np.concatenate([self.minutes.pop(m) for m in old]))
            self.merged = np.delete(self.merged, np.searchsorted(self.merged, gone))
            self._merge_recent()  # once a minute: keeps `recent` to about the current minute

    def __len__(self) -> int:
        return int(self.merged.size) + self.recent_n

    def to_state(self) -> dict[str, dict[str, str]]:
        """Return {"digests": {minute: base64 of little-endian uint64 digests}} as JSON-ready data.

        A layout whose key is not a minute, so code that reads only the old layout
        ({minute: [ids]}) fails loudly on it instead of loading garbage.
        """
        out: dict[str, str] = {}
        for minute in sorted(set(self.minutes) | set(self.recent)):
            new = self.recent.get(minute, set())
            arr = _merge(self.minutes.get(minute, _EMPTY), np.sort(np.fromiter(new, dtype=np.uint64, count=len(new))))
            out[str(minute)] = base64.b64encode(arr.astype("<u8").tobytes()).decode("ascii")
        return {"digests": out}

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> SeenIds:
        """Rebuild from `to_state` output, or from the previous layout {minute: [ids]} (digested)."""
        seen = cls()
        if "digests" in data:
            by_minute = {
                int(m): np.frombuffer(base64.b64decode(b64), dtype="<u8").astype(np.uint64)
                for m, b64 in data["digests"].items()
            }
        else:
            by_minute = {int(m): np.unique(digests(ids)) for m, ids in data.items()}
        seen.minutes = {m: arr for m, arr in by_minute.items() if arr.size}
        if seen.minutes:
            seen.merged = np.sort(np.concatenate(list(seen.minutes.values())))
        return seen
