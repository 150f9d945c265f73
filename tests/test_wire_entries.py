"""An event-stream entry is recognised as one session's by a byte test, exactly."""

from __future__ import annotations

from ingest.batch import validate_batch
from monitor import wire_entries
from tests.events_factory import raw_event


def entry(session: str, *texts: str) -> bytes:
    return wire_entries.join([e.wire for e in validate_batch([raw_event("comment", session, text=t) for t in texts],
                                                             b"secret")])


def test_session_marker_matches_only_the_sessions_own_entries() -> None:
    marker = wire_entries.session_marker("room-1")
    assert marker in entry("room-1", "hi", "there")
    assert marker not in entry("room-10", "hi")  # an id that starts with it
    assert marker not in entry("room-2", '"session":"room-1"')  # a comment quoting it: its quotes are escaped
