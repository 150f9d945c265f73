"""A partition folds stream entries of several events each, skips what its checkpoint holds and survives a bad entry."""

from __future__ import annotations

import pytest

from ingest.batch import validate_batch
from livemon.alerting import AlertStage
from livemon.engine_runner import READ_EVENTS, entries_per_read
from livemon.partition import Partition
from monitor import wire_entries
from monitor.alert_config import AlertConfig
from monitor.engine import Engine, EngineConfig
from tests.events_factory import mixed_batch

SECRET = b"secret"


def entry(session: str, comments: int, likes: int) -> bytes:
    return wire_entries.join([e.wire for e in validate_batch(mixed_batch(session, comments, likes, 0, 5), SECRET)])


def partition() -> Partition:
    return Partition(0, Engine(EngineConfig()), AlertStage(AlertConfig(), 3600))


def test_partition_folds_multi_event_entries_and_counts_their_events() -> None:
    part = partition()
    kept, folded = part.fold([(b"1-0", entry("room-a", 3, 2)), (b"2-0", entry("room-b", 1, 4))])
    assert folded == 6 + 6  # each: a viewer count, the comments, the likes
    assert sorted(e.session for e in kept) == ["room-a", "room-a", "room-a", "room-b"]  # comments, for the comment stage
    assert part.last_applied == "2-0" and part.unacked == [b"1-0", b"2-0"]


def test_partition_skips_entries_its_checkpoint_already_holds() -> None:
    part = partition()
    part.fold([(b"1-0", entry("room-a", 3, 2))])
    _, folded = part.fold([(b"1-0", entry("room-a", 3, 2)), (b"2-0", entry("room-a", 1, 0))])  # a replay, then new
    assert folded == 2
    assert part.engine.sessions["room-a"].snapshot(0.0)["comments_total"] == 4


def test_partition_skips_only_the_entry_holding_an_unreadable_line(caplog: pytest.LogCaptureFixture) -> None:
    part = partition()
    good, bad = entry("room-a", 2, 0), entry("room-b", 2, 0)
    broken = bad.replace(b"\n", b"\n{not json\n", 1)
    _, folded = part.fold([(b"1-0", good), (b"2-0", broken), (b"3-0", entry("room-a", 1, 0))])
    assert folded == 3 + 2
    assert part.engine.sessions["room-a"].snapshot(0.0)["comments_total"] == 3
    assert "room-b" not in part.engine.sessions
    assert any("unreadable entry" in r.message for r in caplog.records)


@pytest.mark.parametrize(("entries", "events", "asked"), [
    (5000, 5000, READ_EVENTS),  # one event per entry: as many entries as events wanted
    (100, 5000, 100),  # 50 events per entry
    (10, 100_000, 1),  # huge entries: still at least one
    (5000, 2500, READ_EVENTS),  # never more than READ_EVENTS entries
])
def test_engine_reads_ask_for_about_read_events_events(entries: int, events: int, asked: int) -> None:
    assert entries_per_read(entries, events) == asked
