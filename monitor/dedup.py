"""Event ids seen recently in one session, so a re-sent event counts once.

Ids are remembered for `dedup_horizon_s` of event time, grouped by the minute of the
batch that brought them, and forgotten a minute at a time. A busy room remembers many:
250 events/s is 450,000 ids in 30 minutes, which as a set of strings took ~75 bytes each
in memory and ~40 bytes each in every checkpoint. So each id is kept as a stable 64-bit
digest (not Python's `hash`, which is salted per process and would not survive a
checkpoint) in sorted numpy uint64 arrays: 16 bytes per id in memory (its minute's array
and one merged array for lookups) and 8 bytes (base64: ~11 characters) per id in a
checkpoint.

The digest (`digests`) is computed for a whole batch at once with numpy: the UTF-8 id,
zero-padded to 8-byte words, is folded word by word (xor, multiply by an odd constant,
xor-shift) and finished with SplitMix64's mixer. Every step is a bijection of the 64-bit
state, so ids of up to 8 bytes (most platform ids) never collide; longer ones behave
like a random 64-bit function for ids that are not built to collide. A per-id BLAKE2b
(the previous digest) cost ~0.6 µs per event in Python calls; this costs ~0.1 µs.
Trailing NUL bytes are not seen (ids never hold them: `monitor.event_parsing.ID_PATTERN`).

The trade: two different ids with the same digest look like one, and the later event is
dropped as a duplicate. With n ids remembered the chance that a new id collides with one
of them is about n / 2^64 (~2.4e-14 at 450,000), i.e. about one genuine event lost per 4e13
events of such a room; over a horizon the chance of any collision is ~n^2 / 2^65.

Checkpoints written before this digest hold BLAKE2b digests (layout "digests"); those are
kept apart (`legacy`) and checked with BLAKE2b until their minutes expire, so an upgrade
keeps its dedup state. The layout before that ({minute: [ids]}) is digested on load.

Lookups: the ids of past batches are merged into one sorted array (`merged`, one
`np.searchsorted` per batch); ids admitted since the last merge wait in small sets of
ints per minute (`recent`: a set is cheaper to grow by a batch than a sorted array, and
a merge copies `merged`) until there are `_MERGE_AT` of them or a minute expires.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from hashlib import blake2b
from typing import Any

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
_EMPTY: U64 = np.empty(0, dtype=np.uint64)
_MERGE_AT = 8_192  # recent ids before merging: ~0.5 MB of sets; a merge into 450k ids costs ~2 ms
LAYOUT = "ids64"  # checkpoint key of `digests` ("digests": the BLAKE2b layout before it)
# odd multiplier of the word fold (2^64 / golden ratio) and SplitMix64's finaliser constants
_K, _M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S29, _S30, _S27, _S31 = (np.uint64(n) for n in (29, 30, 27, 31))


def digests(ids: Sequence[str]) -> U64:
    """Return the stable 64-bit digest of each id, in order (see the module docstring)."""
    if not ids:
        return _EMPTY
    words = _words(ids)
    width = words.shape[1]
    with np.errstate(over="ignore"):
        h = (words[:, 0] ^ _K) * _K  # an empty first word still mixes (ids are never empty)
        h ^= h >> _S29
        for j in range(1, width):  # padding words leave the state alone: any width gives one digest
            w = words[:, j]
            step = (h ^ w) * _K
            step ^= step >> _S29
            h = np.where(w != 0, step, h)
        h ^= h >> _S30
        h *= _M1
        h ^= h >> _S27
        h *= _M2
        h ^= h >> _S31
    return h


def _words(ids: Sequence[str]) -> npt.NDArray[np.uint64]:
    """Each id's UTF-8 bytes, zero-padded to whole 8-byte words: one row per id.

    Built from one joined string (encoding ids one by one, or `np.array(ids, dtype=bytes)`,
    costs several times more per id): its bytes are scattered into a zeroed matrix, each
    id at the start of its row.
    """
    raw = "\0".join(ids).encode()
    lengths = np.fromiter(map(len, ids), np.int64, len(ids))
    if len(raw) != int(lengths.sum()) + len(ids) - 1:  # not ASCII: count bytes, not characters
        lengths = np.fromiter((len(i.encode()) for i in ids), np.int64, len(ids))
    width = (int(lengths.max()) // 8 + 1) * 8  # bytes per row: room for each id and the separator after it
    spans = lengths + 1
    shift = np.arange(0, len(ids) * width, width) - (np.cumsum(spans) - spans)  # row start - start in `raw`
    flat = np.arange(len(raw)) + np.repeat(shift, spans)[: len(raw)]
    matrix = np.zeros(len(ids) * width, dtype=np.uint8)
    matrix[flat] = np.frombuffer(raw, dtype=np.uint8)  # a separator lands as a zero byte
    return matrix.view("<u8").reshape(len(ids), width // 8).astype(np.uint64)


def blake2b_digests(ids: Sequence[str]) -> U64:
    """Return the BLAKE2b-64 digest of each id: the digest of checkpoints in the "digests" layout."""
    raw = b"".join([blake2b(i.encode(), digest_size=8).digest() for i in ids])
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def _contains(sorted_arr: U64, keys: U64) -> npt.NDArray[np.bool_]:
    """Which of `keys` are in `sorted_arr`."""
    if not sorted_arr.size:
        return np.zeros(keys.size, dtype=bool)
    pos = np.searchsorted(sorted_arr, keys)
    pos[pos == sorted_arr.size] = 0
    found: npt.NDArray[np.bool_] = sorted_arr[pos] == keys
    return found


def _merge(a: U64, b: U64) -> U64:
    """Union of two disjoint sorted arrays, sorted."""
    return np.insert(a, np.searchsorted(a, b), b) if a.size else b


def _decode(by_minute: dict[str, str]) -> dict[int, U64]:
    arrays = {int(m): np.frombuffer(base64.b64decode(b64), dtype="<u8").astype(np.uint64) for m, b64 in by_minute.items()}
    return {m: arr for m, arr in arrays.items() if arr.size}


class SeenIds:
    """Recently seen event ids (as digests) of one session, by the minute they are remembered under."""

    __slots__ = ("changed", "legacy", "legacy_merged", "merged", "minutes", "recent", "recent_n")

    def __init__(self) -> None:
        self.minutes: dict[int, U64] = {}  # minute -> sorted digests merged into `merged`
        self.merged: U64 = _EMPTY
        self.recent: dict[int, set[int]] = {}  # minute -> digests admitted since the last merge
        self.recent_n = 0
        # BLAKE2b digests restored from a checkpoint of the previous layout, until they expire
        self.legacy: dict[int, U64] = {}
        self.legacy_merged: U64 = _EMPTY
        self.changed: set[int] = set()  # minutes whose ids changed since `take_changed` (not stored yet)

    def admit(self, ids: Sequence[str], newest_ms: int) -> list[int]:
        """Remember a batch's new ids; return the positions of ids seen before or earlier in it."""
        return self.admit_digests(digests(ids), newest_ms, lambda: ids)

    def admit_digests(self, keys: U64, newest_ms: int, ids: Callable[[], Sequence[str]]) -> list[int]:
        """`admit` for ids whose `digests` the caller computed (for a whole batch at once).

        `ids` returns the ids themselves; it is called only while digests of the previous
        layout are remembered. Duplicates are rare (the ingest gate removes most), so the
        batch is tested at once (one sorted lookup, set operations); only a batch that holds
        one is walked id by id. The new ids are remembered under the minute of the batch's
        newest event (`newest_ms`), so each is kept at least as long as its own minute.
        """
        if not keys.size:
            return []
        ordered = np.sort(keys)  # sorted keys walk `merged` in order: far fewer cache misses
        seen = _contains(self.merged, ordered)
        order = keys.tolist()
        fresh = set(order)
        dropped: list[int] = []
        old: set[int] = set()
        if self.legacy_merged.size:
            old_keys = blake2b_digests(ids())
            old = {i for i, hit in enumerate(_contains(self.legacy_merged, old_keys).tolist()) if hit}
        if old or len(fresh) != len(order) or seen.any() or any(not r.isdisjoint(fresh) for r in self.recent.values()):
            known = set(ordered[seen].tolist())
            for r in self.recent.values():
                known |= r & fresh
            fresh = set()
            add = fresh.add
            dropped = [i for i, k in enumerate(order) if i in old or k in known or k in fresh or add(k)]
            if not fresh:
                return dropped
        minute = newest_ms // 60_000
        self.changed.add(minute)
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
        self.changed.difference_update([m for m in self.changed if m < before_minute])
        if old:
            gone = np.sort(np.concatenate([self.minutes.pop(m) for m in old]))
            self.merged = np.delete(self.merged, np.searchsorted(self.merged, gone))
            self._merge_recent()  # once a minute: keeps `recent` to about the current minute
        if any(m < before_minute for m in self.legacy):
            self.legacy = {m: arr for m, arr in self.legacy.items() if m >= before_minute}
            self.legacy_merged = np.sort(np.concatenate(list(self.legacy.values()))) if self.legacy else _EMPTY

    def __len__(self) -> int:
        return int(self.merged.size) + self.recent_n + int(self.legacy_merged.size)

    def to_state(self, inline: bool = True) -> dict[str, dict[str, str | None]]:
        """Return {LAYOUT: {minute: base64 of little-endian uint64 digests}} as JSON-ready data.

        A layout whose key is neither a minute nor "digests", so code that reads only an
        older layout fails loudly on it instead of loading garbage. BLAKE2b digests still
        remembered from an upgrade are written under "digests" beside it. With `inline`
        false every minute is only named (None): its digests are stored beside the state
        (`take_changed` gives those that changed), so a checkpoint does not rewrite them all.
        """
        minutes = sorted(set(self.minutes) | set(self.recent))
        out: dict[str, str | None] = (
            {str(m): self._encoded(m) for m in minutes} if inline else dict.fromkeys(map(str, minutes))
        )
        state: dict[str, dict[str, str | None]] = {LAYOUT: out}
        if self.legacy:
            state["digests"] = {str(m): _encode(arr) for m, arr in sorted(self.legacy.items())}
        return state

    def take_changed(self) -> dict[int, str]:
        """Return the minutes changed since the last call, encoded as in `to_state`, and mark them stored."""
        held = set(self.minutes) | set(self.recent)
        out = {m: self._encoded(m) for m in sorted(self.changed & held)}
        self.changed.clear()
        return out

    def _encoded(self, minute: int) -> str:
        new = self.recent.get(minute, set())
        return _encode(_merge(self.minutes.get(minute, _EMPTY), np.sort(np.fromiter(new, dtype=np.uint64, count=len(new)))))

    @classmethod
    def from_state(cls, data: dict[str, Any], stored: dict[int, str] | None = None) -> SeenIds:
        """Rebuild from `to_state` output, or from an older layout ("digests" of BLAKE2b, or {minute: [ids]}).

        A minute named without digests (None) is read from `stored` ({minute: base64}); one
        given inline counts as changed, so the next `take_changed` stores it.
        """
        seen = cls()
        stored = stored or {}
        if LAYOUT in data or "digests" in data:
            given = data.get(LAYOUT, {})
            missing = sorted(int(m) for m, b64 in given.items() if b64 is None and int(m) not in stored)
            if missing:
                raise ValueError(f"remembered ids of minutes {missing} are named in the checkpoint but not stored")
            seen.minutes = _decode({m: stored[int(m)] if b64 is None else b64 for m, b64 in given.items()})
            seen.changed = {int(m) for m, b64 in given.items() if b64 is not None} & set(seen.minutes)
            seen.legacy = _decode(data.get("digests", {}))
            if seen.legacy:
                seen.legacy_merged = np.sort(np.concatenate(list(seen.legacy.values())))
        else:
            by_minute = {int(m): np.unique(digests(ids)) for m, ids in data.items()}
            seen.minutes = {m: arr for m, arr in by_minute.items() if arr.size}
            seen.changed = set(seen.minutes)
        if seen.minutes:
            seen.merged = np.sort(np.concatenate(list(seen.minutes.values())))
        return seen


def _encode(arr: U64) -> str:
    return base64.b64encode(arr.astype("<u8").tobytes()).decode("ascii")
