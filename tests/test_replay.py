"""Replay: recordings read as NDJSON or CSV, paced by event time, resumable; end to end into Redis."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from ingest.replay import Pacer, batches, read_recording
from tests import redis_sync
from tests.support import INGEST_KEY, Stack

T0 = 1_795_356_000_000


class ManualClock:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def recording(path: Path, n: int = 6, step_ms: int = 1000) -> Path:
    lines = [orjson.dumps({"id": f"r{i}", "session": "rec-1", "type": "comment", "ts": T0 + i * step_ms,
                           "user": f"u{i}", "text": f"line {i}"}) for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_replay_paces_by_event_time_at_the_given_speed(tmp_path: Path) -> None:
    clock = ManualClock()
    pacer = Pacer(speed=2.0, clock=clock, sleep=clock.sleep)
    sent = list(batches(read_recording(recording(tmp_path / "r.ndjson")), pacer))
    # events 1 s apart in event time, 2x faster: one batch every 0.5 s of wall time
    assert [len(b) for _, b in sent] == [1] * 6
    assert clock.slept == [0.5] * 5


def test_replay_as_fast_as_possible_never_sleeps_and_batches(tmp_path: Path) -> None:
    clock = ManualClock()
    sent = list(batches(read_recording(recording(tmp_path / "r.ndjson")), Pacer(0, clock, clock.sleep), max_events=4))
    assert [(last, len(b)) for last, b in sent] == [(4, 4), (6, 2)] and clock.slept == []


def test_replay_resumes_from_a_line_and_reads_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,session,type,ts,viewers,text\nc1,rec-1,viewer_count,1795356000000,120,\n"
                    "c2,rec-1,comment,1795356001000,,还有货吗\nc3,rec-1,comment,1795356002000,,hi\n")
    assert next((n, e["id"]) for n, e in read_recording(path)) == (2, "c1")
    assert next(read_recording(path))[1] == {"id": "c1", "session": "rec-1", "type": "viewer_count",
                                             "ts": 1795356000000, "viewers": 120}
    assert [e["id"] for _, e in read_recording(path, start_line=3)] == ["c2", "c3"]


@pytest.fixture
def web(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    running = Stack(redis_url, tmp_path, with_engine=False).start()
    yield running
    running.stop()


def test_replay_command_sends_every_event_once_even_when_resumed_over_sent_lines(
        web: Stack, redis_client: redis.Redis, tmp_path: Path) -> None:
    path = recording(tmp_path / "r.ndjson", n=50)
    command = [sys.executable, "-m", "livemon", "replay", str(path), "--url", web.url, "--key", INGEST_KEY,
               "--speed", "0", "--no-progress"]
    first = subprocess.run(command + ["--batch", "7"], capture_output=True, text=True, timeout=60, check=False)
    again = subprocess.run(command + ["--from-line", "41"], capture_output=True, text=True, timeout=60, check=False)
    assert "accepted 50" in first.stderr and "accepted 0, duplicates 10" in again.stderr
    assert len(redis_sync.stream_events(redis_client)) == 50
