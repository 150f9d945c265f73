"""`livemon purge --session …`: remove one session's data from Redis (docs/security.md)."""

from __future__ import annotations

import asyncio

import click

from livemon.redis_client import RedisUnavailable, connect, require_redis
from livemon.retention import PurgeReport, purge_session
from livemon.settings import SettingsError, load_settings


@click.command("purge")
@click.option("--session", "sessions", required=True, multiple=True, help="Session id to purge (repeatable).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(sessions: tuple[str, ...], yes: bool) -> None:
    """Delete a session's events, snapshot, checkpoint state, remembered event ids and alerts."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if not yes:
        click.confirm(f"Permanently delete all data of {', '.join(sessions)}?", abort=True)

    async def run() -> list[PurgeReport]:
        client = connect(settings.redis_url)
        try:
            await require_redis(client, settings.redis_url)
            settle = 3 * settings.tick_s
            return [await purge_session(client, s, settings.partitions, settle) for s in sessions]
        finally:
            await client.aclose()

    try:
        reports = asyncio.run(run())
    except RedisUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    for session, report in zip(sessions, reports):
        click.echo(
            f"{session}: {report.events} events, {report.dedup_ids} remembered event ids, "
            f"{report.alert_transitions} alert transitions, {report.active_alerts} active alerts, "
            f"snapshot {'removed' if report.snapshot else 'absent'}, "
            f"checkpoint {'clear' if report.checkpoint_cleared else 'STILL HOLDS IT (is an engine stuck?)'}"
        )
