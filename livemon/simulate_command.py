"""`livemon simulate`: post simulated live-room events to the ingest API."""

from __future__ import annotations

import logging
import os
import time

import click

from ingest.poster import BatchPoster
from ingest.simulator import SimulatedSession

log = logging.getLogger(__name__)

STEP_S = 0.5


@click.command("simulate")
@click.option("--url", envvar="LIVEMON_URL", default=None, help="livemon web base URL [default: http://127.0.0.1:$PORT]")
@click.option("--key", envvar="LIVEMON_INGEST_KEY", required=True, help="Ingest key [env: LIVEMON_INGEST_KEY]")
@click.option("--sessions", default=4, show_default=True, type=click.IntRange(1, 1000), help="Number of live rooms.")
@click.option("--rate", default=20.0, show_default=True, type=click.FloatRange(0.1, 100000),
              help="Events per second per room.")
@click.option("--duration", default=0.0, show_default=True, type=click.FloatRange(0), help="Seconds to run; 0 = forever.")
@click.option("--seed", default=1, show_default=True, type=int, help="Random seed (runs are reproducible).")
@click.option("--prefix", default="room", show_default=True, help="Session id prefix.")
def simulate(url: str | None, key: str, sessions: int, rate: float, duration: float, seed: int, prefix: str) -> None:
    """Post events for SESSIONS rooms in real time until stopped."""
    base = url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    start = time.time()
    rooms = [SimulatedSession(f"{prefix}-{i + 1}", seed * 1000 + i, rate, start) for i in range(sessions)]
    poster = BatchPoster(base, key)
    last = start
    click.echo(f"simulating {sessions} rooms at {rate:g} events/s each → {base}", err=True)
    try:
        while duration == 0 or last - start < duration:
            time.sleep(max(0.0, last + STEP_S - time.time()))
            now = time.time()
            batch = [event for room in rooms for event in room.events_between(last, now)]
            last = now
            poster.post(batch)
    except KeyboardInterrupt:
        pass
    finally:
        poster.close()
        click.echo(f"posted: accepted {poster.accepted}, duplicates {poster.duplicates}, retries {poster.retries}",
                   err=True)
