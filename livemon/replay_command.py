"""`livemon replay`: send a recorded session to the ingest API at 1×, N× or full speed."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ingest.poster import BatchPoster, IngestRejected
from ingest.replay import Pacer, RecordingError, batches, count_lines, read_recording


@click.command("replay")
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", envvar="LIVEMON_URL", default=None,
              help="livemon web base URL [default: http://127.0.0.1:$PORT]")
@click.option("--key", envvar="LIVEMON_INGEST_KEY", required=True, help="Ingest key [env: LIVEMON_INGEST_KEY]")
@click.option("--speed", default=1.0, show_default=True, type=click.FloatRange(0),
              help="1 = real time, 10 = ten times faster, 0 = as fast as possible.")
@click.option("--from-line", "start_line", default=1, show_default=True, type=click.IntRange(1),
              help="Resume from this line number (printed when a replay stops).")
@click.option("--batch", "batch_size", default=1000, show_default=True, type=click.IntRange(1, 5000),
              help="Most events per request.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Show a progress bar.")
def replay(recording: Path, url: str | None, key: str, speed: float, start_line: int, batch_size: int,
           progress: bool) -> None:
    """Replay RECORDING (NDJSON or CSV of schema-v1 events)."""
    poster = BatchPoster(url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}", key)
    total = count_lines(recording)
    done = start_line - 1
    try:
        with click.progressbar(length=total, label="replaying", hidden=not progress, show_pos=True) as bar:
            bar.update(done)
            for last, batch in batches(read_recording(recording, start_line), Pacer(speed), batch_size):
                poster.post(batch)
                bar.update(last - done)
                done = last
    except KeyboardInterrupt:
        click.echo(f"\nstopped; resume with --from-line {done + 1}", err=True)
    except (RecordingError, IngestRejected) as exc:
        raise click.ClickException(f"{exc} (resume with --from-line {done + 1})") from None
    finally:
        poster.close()
    click.echo(f"replayed up to line {done}: accepted {poster.accepted}, duplicates {poster.duplicates}, "
               f"retries {poster.retries}", err=True)
