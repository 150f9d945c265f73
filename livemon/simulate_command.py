"""`livemon simulate`: simulated live rooms to the ingest API or to an NDJSON file, with labels."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path

import click
import orjson

from ingest.incidents import parse_kinds
from ingest.poster import BatchPoster, IngestRejected
from ingest.simulator import SimConfig, SimulatedSession

log = logging.getLogger(__name__)

STEP_S = 0.5  # real-time pacing: one batch per half second
FAST_STEP_S = 10.0  # as fast as possible: ten simulated seconds per batch
END_DEADLINE_S = 5.0  # how long a stopping simulator tries to deliver its rooms' session_end


def _interrupt(*_: object) -> None:
    """SIGTERM (a demo or service manager stopping us) leaves through the same path as Ctrl-C."""
    raise KeyboardInterrupt


def _end_rooms(poster: BatchPoster, rooms: list[SimulatedSession]) -> int:
    """Tell livemon the endless shows are over, so their screens do not call their adapters broken.

    Returns:
        The number of `session_end` events delivered.
    """
    ends = [event for room in rooms for event in room.end(time.time())]
    if not ends:
        return 0
    try:
        poster.submit(ends)
        if poster.flush(deadline=time.monotonic() + END_DEADLINE_S):
            click.echo(f"ended {len(ends)} rooms", err=True)
            return len(ends)
    except IngestRejected as exc:
        log.warning("the rooms' session_end was refused: %s", exc)
        return 0
    log.warning("could not reach the ingest API to end %d rooms; they stay live without events", len(ends))
    return 0


@click.command("simulate")
@click.option("--url", envvar="LIVEMON_URL", default=None, help="livemon web base URL [default: http://127.0.0.1:$PORT]")
@click.option("--key", envvar="LIVEMON_INGEST_KEY", default=None, help="Ingest key [env: LIVEMON_INGEST_KEY]")
@click.option("--sessions", default=4, show_default=True, type=click.IntRange(1, 1000), help="Number of live rooms.")
@click.option("--rate", default=20.0, show_default=True, type=click.FloatRange(0.1, 100000),
              help="Approximate events per second per room.")
@click.option("--duration", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Simulated seconds per session; 0 = forever (real time only).")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed (runs are reproducible).")
@click.option("--prefix", default="room", show_default=True, help="Session id prefix.")
@click.option("--incidents", default="none", show_default=True,
              help="Incidents to inject: all, none, or a comma list (negative_storm,raid,viewer_crash,...).")
@click.option("--fast", is_flag=True, help="Run as fast as possible instead of in real time.")
@click.option("--start", type=float, default=None,
              help="Event time of the start, epoch seconds [default: now; with --fast, now − duration].")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write NDJSON here instead of posting (implies --fast).")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write ground-truth incident labels (JSON) here.")
def simulate(url: str | None, key: str | None, sessions: int, rate: float, duration: float, seed: int, prefix: str,
             incidents: str, fast: bool, start: float | None, out: Path | None, labels: Path | None) -> None:
    """Simulate SESSIONS rooms; post them in real time, as fast as possible, or write NDJSON."""
    try:
        config = SimConfig(rate=rate, duration_s=duration, incidents=parse_kinds(incidents))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    fast = fast or out is not None
    if fast and duration == 0:
        raise click.UsageError("--fast and --out need --duration: an endless session cannot run as fast as possible")
    if out is None and not key:
        raise click.UsageError("--key (or LIVEMON_INGEST_KEY) is required when posting to the ingest API")
    # A fast run is a session that has just ended: ingest refuses event times from the future.
    begin = start if start is not None else time.time() - (duration if fast else 0.0)
    rooms = [SimulatedSession(f"{prefix}-{i + 1}", seed * 1000 + i, rate, begin, config) for i in range(sessions)]
    poster = None if out is not None else BatchPoster(url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
                                                      key or "")
    sink = out.open("wb") if out is not None else None
    written = 0
    last = begin
    click.echo(f"simulating {sessions} rooms at ~{rate:g} events/s each", err=True)
    signal.signal(signal.SIGTERM, _interrupt)
    refused: IngestRejected | None = None  # a wrong key or URL: said in one line, not a traceback
    try:
        while duration == 0 or last - begin < duration + 1:
            if fast:
                now = last + FAST_STEP_S
            else:
                time.sleep(max(0.0, last + STEP_S - time.time()))
                now = time.time()
            batch = [event for room in rooms for event in room.events_between(last, now)]
            last = now
            written += len(batch)
            if sink is not None:
                sink.write(b"".join(orjson.dumps(e) + b"\n" for e in batch))
            elif poster is not None:
                for i in range(0, len(batch), 5000):
                    poster.post(batch[i:i + 5000])
    except KeyboardInterrupt:
        pass
    except IngestRejected as exc:
        refused = exc
    finally:
        if sink is not None:
            sink.close()
        if poster is not None:
            if not fast and refused is None:
                written += _end_rooms(poster, rooms)
            poster.close()
            click.echo(f"posted: accepted {poster.accepted}, duplicates {poster.duplicates}, "
                       f"retries {poster.retries}", err=True)
        if labels is not None:
            labels.write_bytes(orjson.dumps([label for room in rooms for label in room.labels()],
                                            option=orjson.OPT_INDENT_2))
        click.echo(f"{written} events", err=True)
    if refused is not None:
        raise click.ClickException(str(refused))
