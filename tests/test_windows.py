"""Ring geometry: which buckets a window covers, recycling, late adds, checkpoints."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.windows import FEW_ADDS, PACKED_SORT_MIN, Ring, sort_order


def filled(width: int = 1, slots: int = 8, seconds: range = range(100, 108)) -> Ring:
    """A 1-channel ring where bucket holding second s contains s (easy to read sums)."""
    ring = Ring(1, slots, width)
    for s in seconds:
        ring.add(s, 0, float(s))
    ring.flush()
    return ring


def test_ring_window_covers_end_minus_length_to_end() -> None:
    # second   100 101 102 103 104 105 106 107
    # window(107, 3)                ^^^ ^^^ ^^^   (104, 107]
    ring = filled()
    assert ring.window(107, 3)[0] == 105 + 106 + 107
    assert ring.window(103, 1)[0] == 103


def test_ring_window_beyond_head_sees_empty_future() -> None:
    # head = 107; window(109, 4) = seconds 106..109, only 106 and 107 exist
    ring = filled()
    assert ring.window(109, 4)[0] == 106 + 107
    assert ring.window(120, 5)[0] == 0


def test_ring_window_clips_at_recycled_buckets() -> None:
    # 8 slots, head 107: seconds <= 99 are gone, so window(107, 20) = 100..107 only
    ring = filled()
    assert ring.window(107, 20)[0] == sum(range(100, 108))


def test_ring_advance_recycles_slots_of_old_seconds() -> None:
    # adding second 110 recycles 100..102 (their slots now hold 108..110)
    #   before: 100 101 102 103 104 105 106 107
    #   after:  108 109 110 103 104 105 106 107
    ring = filled()
    ring.add(110, 0, 1.0)
    ring.flush()
    assert ring.window(110, 8)[0] == sum(range(103, 108)) + 1
    assert ring.window(102, 3)[0] == 0


def test_ring_ignores_adds_older_than_its_horizon() -> None:
    ring = filled()
    ring.add(99, 0, 1000.0)  # 107 - 8 = 99 is recycled
    ring.add(100, 0, 1.0)  # oldest kept bucket
    ring.flush()
    assert not ring.holds(99) and ring.holds(100)
    assert ring.window(107, 8)[0] == sum(range(100, 108)) + 1


def test_ring_out_of_order_adds_land_in_their_own_bucket() -> None:
    ring = Ring(2, 16)
    for second, channel in [(105, 0), (101, 1), (104, 0), (101, 0), (105, 1)]:
        ring.add(second, channel, 1.0)
    ring.flush()
    assert list(ring.window(105, 1)) == [1.0, 1.0]
    assert list(ring.window(104, 4)) == [2.0, 1.0]


def test_ring_big_jump_clears_everything() -> None:
    ring = filled()
    ring.add(1000, 0, 5.0)
    ring.flush()
    assert ring.window(1000, 8)[0] == 5.0


def test_ring_wide_buckets_window_is_whole_buckets() -> None:
    # width 10: buckets [100,110) [110,120) [120,130); window(125, 20) = buckets 110 and 120
    ring = Ring(1, 4, 10)
    for s in (100, 109, 110, 119, 120, 125):
        ring.add(s, 0, 1.0)
    ring.flush()
    assert ring.window(125, 20)[0] == 4
    assert list(ring.buckets(125, 3)[:, 0]) == [2, 2, 2]


def test_ring_buckets_returns_oldest_first_with_zeros_for_unknown() -> None:
    ring = filled()
    assert list(ring.buckets(108, 3)[:, 0]) == [106, 107, 0]


def test_ring_widen_keeps_existing_channels() -> None:
    ring = filled()
    ring.widen(3)
    ring.add(107, 2, 1.0)
    ring.flush()
    assert list(ring.window(107, 1)) == [107, 0, 1]


def test_ring_state_round_trip_through_json() -> None:
    ring = filled()
    ring.add(106, 0, 0.5)
    copy = Ring.from_state(orjson.loads(orjson.dumps(ring.to_state())))
    assert copy.head == 107
    for end in range(99, 112):
        assert copy.window(end, 5)[0] == ring.window(end, 5)[0]


def test_ring_reads_the_one_piece_checkpoint_layout_of_earlier_versions() -> None:
    ring = filled()
    state = {k: v for k, v in ring.to_state().items() if k != "chunks"}
    state["data"] = base64.b64encode(zlib.compress(ring.data.tobytes())).decode("ascii")
    assert np.array_equal(Ring.from_state(state).data, ring.data)


steps = st.lists(st.one_of(
    st.tuples(st.just("add"), st.lists(st.tuples(st.integers(0, 90), st.integers(0, 2)), min_size=1, max_size=80)),
    st.tuples(st.just("bulk"), st.tuples(st.integers(0, 90), st.integers(FEW_ADDS + 1, 3 * FEW_ADDS))),
    st.tuples(st.just("widen"), st.integers(1, 4)),
    st.tuples(st.just("checkpoint"), st.booleans()),
), max_size=25)


@settings(max_examples=300, deadline=None)
@given(steps, st.sampled_from([(1, 16), (1, 37), (5, 6), (1, 2)]))
def test_ring_checkpoint_always_holds_the_live_rows(script: list[tuple[str, Any]], shape: tuple[int, int]) -> None:
    # chunks are re-packed only when their rows change: a stale one would restore old counts
    width, slots = shape
    ring = Ring(3, slots, width)
    for step, arg in script:
        if step == "add":
            for second, channel in arg:
                ring.add(second, channel, 1.0)
        elif step == "bulk":  # more than FEW_ADDS: the numpy path, over the 7 seconds up to `newest`
            newest, count = arg
            ring.add_columns(np.arange(count) % 7 + max(0, newest - 6), 1)
        elif step == "widen":
            ring.widen(ring.channels + arg)
        else:
            state = ring.to_state()
            if arg:  # restored rings keep going from their stored chunks
                ring = Ring.from_state(orjson.loads(orjson.dumps(state)))
        copy = Ring.from_state(orjson.loads(orjson.dumps(ring.to_state())))
        assert copy.head == ring.head
        assert np.array_equal(copy.data, ring.data)


def test_sort_order_is_lexsort_whether_packed_or_not() -> None:
    rng = np.random.default_rng(7)
    for _ in range(100):
        n = int(rng.integers(1, 3 * PACKED_SORT_MIN))  # both sides of the packing threshold
        viewer = rng.integers(0, int(rng.integers(1, 40)), n)
        ts = rng.integers(1_700_000_000_000, 1_700_000_100_000, n)
        leave = rng.random(n) < 0.3
        assert sort_order(viewer, ts, leave).tolist() == np.lexsort((leave, ts, viewer)).tolist()
    wide = np.array([2**62, -(2**62), 0, 5])  # spans 63 bits alone: falls back to lexsort
    other = np.array([1, 0, 1, 0])
    assert sort_order(other, wide).tolist() == np.lexsort((wide, other)).tolist() == [1, 3, 2, 0]
    many = PACKED_SORT_MIN  # the same with enough rows to try packing first
    wide, other = np.tile(wide, many), np.tile(other, many)
    assert sort_order(other, wide).tolist() == np.lexsort((wide, other)).tolist()


adds = st.lists(st.tuples(st.integers(0, 60), st.integers(-1, 2), st.sampled_from([1.0, 2.5, -1.0, 19.9])),
                min_size=1, max_size=3 * FEW_ADDS)


@settings(max_examples=150, deadline=None)
@given(adds, st.integers(1, 40), st.sampled_from([(1, 16), (5, 6)]))
def test_ring_few_adds_and_batch_path_agree_with_a_brute_force_sum(
        added: list[tuple[int, int, float]], chunk: int, geometry: tuple[int, int]) -> None:
    width, slots = geometry
    one_by_one, batched = Ring(3, slots, width), Ring(3, slots, width)
    for start in range(0, len(added), chunk):  # small flushes: the Python path
        for second, channel, amount in added[start:start + chunk]:
            one_by_one.add(second, channel, amount)
        one_by_one.flush()
    seconds = np.array([a[0] for a in added], dtype=np.int64)
    channels = np.array([a[1] for a in added], dtype=np.int64)
    batched.add_columns(seconds, channels, np.array([a[2] for a in added]))
    batched.flush()  # one flush: the numpy path once there are more than FEW_ADDS
    counted = [a for a in added if a[1] >= 0]  # a negative channel adds nothing
    if not counted:
        assert one_by_one.head is None and batched.head is None
        return
    newest = max(a[0] for a in counted) // width
    for ring in (one_by_one, batched):
        assert ring.head == newest
        for end_bucket in range(newest - slots + 1, newest + 1):  # every bucket the ring still holds
            expected = [sum(v for s, c, v in added if s // width == end_bucket and c == channel) for channel in range(3)]
            assert np.allclose(ring.window(end_bucket * width, width), expected)
        for length in (width, 3 * width, slots * width):  # the last one wraps around the ring
            whole = ring.window(newest * width, length)
            assert np.array_equal(ring.window(newest * width, length, slice(1, 3)), whole[1:3])
