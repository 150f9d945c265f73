"""`livemon tiktok-live`: follow one TikTok LIVE room and post its events (optional extra `tiktok`)."""

from __future__ import annotations

import asyncio
import os
import signal

import click

from ingest.poster import BatchPoster


@click.command("tiktok-live")
@click.argument("unique_id")
@click.option("--session", default=None, help="livemon session id [default: tiktok-<unique_id>].")
@click.option("--url", envvar="LIVEMON_URL", default=None,
              help="livemon web base URL [default: http://127.0.0.1:$PORT]")
@click.option("--key", envvar="LIVEMON_INGEST_KEY", required=True, help="Ingest key [env: LIVEMON_INGEST_KEY]")
def tiktok_live(unique_id: str, session: str | None, url: str | None, key: str) -> None:
    """Follow the TikTok LIVE of UNIQUE_ID (without @) until it ends or Ctrl-C."""
    try:
        from ingest.tiktok_live import run_room
    except ImportError:
        raise click.ClickException("TikTokLive is not installed: pip install 'livemon[tiktok]'") from None
    poster = BatchPoster(url or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}", key)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_room(unique_id.lstrip("@"), session or f"tiktok-{unique_id.lstrip('@')}", poster, stop)

    try:
        asyncio.run(run())
    finally:
        poster.close()
        click.echo(f"posted: accepted {poster.accepted}, duplicates {poster.duplicates}", err=True)
