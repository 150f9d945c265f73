"""Remembered event ids (`monitor/dedup.py`): what is dropped, for how long, and across checkpoints."""

from __future__ import annotations

import base64
import random

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.dedup import SeenIds, blake2b_digests, digests
from monitor.engine import Engine
from monitor.event_parsing import parse_event
from monitor.events import Event

T0 = 28_333_334 * 60_000  # ms, on a minute boundary
MINUTE = 60_000


def roundtrip(seen: SeenIds) -> SeenIds:
    return SeenIds.from_state(orjson.loads(orjson.dumps(seen.to_state())))


def test_dedup_drops_repeats_within_and_across_batches() -> None:
    seen = SeenIds()
    assert seen.admit(["a", "b", "a", "c", "b"], T0) == [2, 4]
    assert seen.admit(["d", "c", "e", "a"], T0 + 1_000) == [1, 3]
    assert seen.admit(["a", "b"], T0 + 2_000) == [0, 1]  # all seen: nothing new remembered
    assert len(seen) == 5


def test_dedup_forgets_a_minute_at_a_time() -> None:
    #   minute 0: a b      minute 1: c      minute 2: d
    #   expire(before minute 1) forgets a, b only
    seen = SeenIds()
    seen.admit(["a", "b"], T0 + 59_999)
    seen.admit(["c"], T0 + MINUTE)
    seen.admit(["d"], T0 + 2 * MINUTE + 5)
    seen.expire(T0 // MINUTE + 1)
    assert seen.admit(["a", "b", "c", "d"], T0 + 3 * MINUTE) == [2, 3]
    assert len(seen) == 4  # a, b again (minute 3), c, d


def test_dedup_duplicates_still_dropped_after_a_checkpoint_round_trip() -> None:
    seen = SeenIds()
    ids = [f"ev-{i}" for i in range(20_000)]  # crosses the merge threshold: merged and recent ids both saved
    for k in range(0, len(ids), 100):
        seen.admit(ids[k : k + 100], T0 + k * 10)
    back = roundtrip(seen)
    assert len(back) == len(ids)
    assert back.admit(ids[::997] + ["new"], T0 + 300_000) == list(range(len(ids[::997])))
    back.expire((T0 + 100_000) // MINUTE)  # minute 0 holds ids admitted before T0 + 60 s: ev-0 .. ev-5999
    assert back.admit(["ev-0", "ev-5999", "ev-6000", "new"], T0 + 300_000) == [2, 3]


def test_dedup_reads_the_previous_layout_of_id_lists() -> None:
    minute = T0 // MINUTE
    back = SeenIds.from_state({str(minute): ["a", "b"], str(minute + 1): ["c"], str(minute + 2): []})
    assert back.admit(["a", "x", "c"], T0 + 2 * MINUTE) == [0, 2]
    back.expire(minute + 1)
    assert back.admit(["a", "c"], T0 + 2 * MINUTE) == [1]


def test_dedup_reads_the_blake2b_layout_until_it_expires() -> None:
    # a checkpoint written before batch digests: {"digests": {minute: base64 of BLAKE2b-64}}
    minute = T0 // MINUTE
    old = {str(minute + k): ids for k, ids in enumerate((["a", "b"], ["c"]))}
    layout = {m: base64.b64encode(np.sort(blake2b_digests(ids)).astype("<u8").tobytes()).decode() for m, ids in old.items()}
    back = SeenIds.from_state({"digests": layout})
    assert back.admit(["a", "x", "c", "x"], T0 + 2 * MINUTE) == [0, 2, 3]
    back = roundtrip(back)  # still both layouts after a checkpoint of the upgraded engine
    assert back.admit(["b", "x", "y"], T0 + 2 * MINUTE) == [0, 1]
    back.expire(minute + 1)
    assert back.admit(["a", "b", "c"], T0 + 2 * MINUTE) == [2]
    back.expire(minute + 2)
    assert len(back) == 4 and back.legacy_merged.size == 0  # x, y, a, b remain


def test_dedup_digest_does_not_depend_on_the_batch() -> None:
    ids = ["e1", "abcdefgh", "abcdefgh1", "ç-ü", "x" * 128, "e1"]
    together = digests(ids).tolist()
    assert together == [digests([i]).tolist()[0] for i in ids]  # padding to the longest id changes nothing
    assert len(set(together)) == 5


def test_dedup_digest_of_short_ids_is_one_to_one() -> None:
    ids = [f"{i:08x}" for i in range(200_000)] + [f"u{i}" for i in range(200_000)]
    assert len(np.unique(digests(ids))) == len(ids)


def test_dedup_checkpoint_costs_under_twelve_bytes_per_id() -> None:
    seen = SeenIds()
    ids = [f"{random.Random(i).getrandbits(128):032x}" for i in range(30_000)]
    for k in range(0, len(ids), 500):
        seen.admit(ids[k : k + 500], T0 + k * 20)
    assert len(orjson.dumps(seen.to_state())) < 12 * len(ids)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("admit"), st.lists(st.sampled_from("abcdefghij"), max_size=6), st.integers(0, 5)),
            st.tuples(st.just("expire"), st.integers(0, 6)),
            st.tuples(st.just("checkpoint")),
            st.tuples(st.just("incremental checkpoint")),
        ),
        max_size=40,
    )
)
def test_dedup_decides_like_a_set_of_ids_per_minute(ops: list[tuple]) -> None:  # type: ignore[type-arg]
    """The digests decide exactly what sets of the ids themselves would (no collision in ten ids).

    Through full checkpoints and incremental ones alike: an incremental checkpoint stores only
    the minutes changed since the previous one beside the state, and drops those no longer named.
    """
    seen = SeenIds()
    model: dict[int, set[str]] = {}
    stored: dict[int, str] = {}
    for op in ops:
        if op[0] == "admit":
            _, ids, minute = op
            known = set().union(*model.values())
            expected = []
            for i, x in enumerate(ids):
                if x in known:
                    expected.append(i)
                else:
                    known.add(x)
                    model.setdefault(minute, set()).add(x)
            assert seen.admit(ids, minute * MINUTE + 1) == expected
        elif op[0] == "expire":
            seen.expire(op[1])
            model = {m: s for m, s in model.items() if m >= op[1]}
        elif op[0] == "checkpoint":
            seen = roundtrip(seen)
        else:
            state = orjson.loads(orjson.dumps(seen.to_state(inline=False)))
            stored.update(seen.take_changed())
            stored = {m: b64 for m, b64 in stored.items() if str(m) in state["ids64"]}
            seen = SeenIds.from_state(state, stored)
        assert len(seen) == sum(map(len, model.values()))


def test_dedup_engine_counts_a_resent_batch_once_after_restore() -> None:
    def comment(i: int) -> Event:
        return parse_event({"id": f"c{i}", "session": "s1", "type": "comment", "ts": T0 + i, "user": "u", "text": "hi"})

    engine = Engine()
    engine.apply([comment(i) for i in range(50)])
    restored = Engine.from_state(engine.config, orjson.loads(orjson.dumps(engine.to_state())))
    restored.apply([comment(i) for i in range(10, 51)])  # re-sent after a crash, plus one new
    engine.apply([comment(50)])
    assert restored.sessions["s1"].totals == engine.sessions["s1"].totals
    assert len(restored.sessions["s1"].seen) == 51


def test_dedup_incremental_checkpoints_rewrite_only_the_changed_minutes() -> None:
    def comments(first: int, n: int, ms_apart: int) -> list[Event]:
        return [
            parse_event({"id": f"c{i}", "session": "s1", "type": "comment", "ts": T0 + i * ms_apart, "user": "u", "text": "hi"})
            for i in range(first, first + n)
        ]

    engine = Engine()
    for start in range(0, 1000, 100):  # 5 minutes of ids, 30 s per batch (ids go under their batch's minute)
        engine.apply(comments(start, 100, 300))
    first = engine.checkpoint()
    store = dict(first.changed_ids)
    assert set(store) == first.named_ids and len(store) == 5
    engine.apply(comments(1000, 100, 300))  # the next 30 s: one minute changes
    second = engine.checkpoint()
    assert len(second.changed_ids) == 1 and len(second.named_ids) == 6
    store.update(second.changed_ids)
    restored = Engine.from_state(engine.config, orjson.loads(orjson.dumps(second.state)), store)
    assert restored.to_state() == engine.to_state()
    restored.apply(comments(900, 201, 300))  # re-sent, plus one new
    engine.apply(comments(1100, 1, 300))
    assert restored.sessions["s1"].totals == engine.sessions["s1"].totals


def test_dedup_checkpoint_naming_ids_that_are_not_stored_is_refused() -> None:
    engine = Engine()
    engine.apply([parse_event({"id": "c1", "session": "s1", "type": "comment", "ts": T0, "user": "u", "text": "hi"})])
    checkpoint = engine.checkpoint()
    with pytest.raises(ValueError, match=f"minutes \\[{T0 // MINUTE}\\]"):
        Engine.from_state(engine.config, checkpoint.state, {})


def test_dedup_checkpoint_after_an_inline_one_stores_every_minute() -> None:
    """Upgrading from a checkpoint that held the digests inline: the first incremental one stores them all."""
    engine = Engine()
    for minute in range(3):
        engine.apply([parse_event({"id": f"c{minute}", "session": "s1", "type": "comment", "ts": T0 + minute * MINUTE,
                                   "user": "u", "text": "hi"})])
    upgraded = Engine.from_state(engine.config, orjson.loads(orjson.dumps(engine.to_state())))
    checkpoint = upgraded.checkpoint()
    assert set(checkpoint.changed_ids) == checkpoint.named_ids and len(checkpoint.named_ids) == 3
    assert upgraded.checkpoint().changed_ids == {}  # stored now: the next one has nothing to add
