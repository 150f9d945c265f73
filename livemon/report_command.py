"""`livemon report SESSION`: write the post-live review of a finished session."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from livemon.redis_client import RedisUnavailable, connect, require_redis
from livemon.report import (
    ReportError,
    read_ndjson_events,
    read_ndjson_records,
    render_html,
    review_from_redis,
    tables_csv,
    to_json,
)
from livemon.settings import SettingsError, load_settings
from monitor.review import Review, SuggestionChoice, build_review


@click.command("report")
@click.argument("session")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write [default: report-SESSION.html].")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Report language.")
@click.option("--from-ndjson", "ndjson", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Read events from an NDJSON recording instead of Redis.")
@click.option("--alerts", "alerts_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="NDJSON of alert transitions (with --from-ndjson; from Redis they are read from lm:alerts).")
@click.option("--suggestions", "choices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None,
              help='NDJSON of suggestion choices {"at", "product", "accepted"} [default: read from lm:suggest:cmd].')
@click.option("--previous", default="", help="Comma-separated earlier session ids of the room to compare with.")
@click.option("--csv-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write products.csv, timeline.csv, findings.csv and incidents.csv here.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the whole review as JSON.")
def report(session: str, out: Path | None, lang: str, ndjson: Path | None, alerts_file: Path | None,
           choices_file: Path | None, previous: str, csv_dir: Path | None, json_file: Path | None) -> None:
    """Write the post-live review (复盘) of SESSION as one self-contained HTML file."""
    try:
        choices = [SuggestionChoice.from_dict(r) for r in read_ndjson_records(choices_file)] if choices_file else None
        earlier = [s.strip() for s in previous.split(",") if s.strip()]
        if ndjson is not None:
            review = _from_recording(session, ndjson, alerts_file, choices or [], earlier)
        else:
            review = asyncio.run(_from_redis(session, choices, earlier))
    except (ReportError, RedisUnavailable, SettingsError) as exc:
        raise click.ClickException(str(exc)) from None
    except (KeyError, ValueError) as exc:
        raise click.ClickException(f"unreadable input: {exc}") from None
    target = out or Path(f"report-{session}.html")
    target.write_text(render_html(review, lang), encoding="utf-8")
    click.echo(f"wrote {target} ({len(review.findings)} finding(s))", err=True)
    if json_file is not None:
        json_file.write_bytes(to_json(review))
    if csv_dir is not None:
        csv_dir.mkdir(parents=True, exist_ok=True)
        for name, body in tables_csv(review).items():
            (csv_dir / name).write_text(body, encoding="utf-8")


def _from_recording(session: str, path: Path, alerts_file: Path | None, choices: list[SuggestionChoice],
                    earlier: list[str]) -> Review:
    events = read_ndjson_events(path, session)
    if not events:
        raise ReportError(f"no events of session {session!r} in {path}")
    alerts = read_ndjson_records(alerts_file) if alerts_file else []
    heads = [build_review(past).headline for other in earlier if (past := read_ndjson_events(path, other))]
    return build_review(events, alerts, choices, heads)


async def _from_redis(session: str, choices: list[SuggestionChoice] | None, earlier: list[str]) -> Review:
    settings = load_settings()
    client = connect(settings.redis_url)
    try:
        await require_redis(client, settings.redis_url)
        return await review_from_redis(client, session, settings.partitions, earlier, choices)
    finally:
        await client.aclose()
