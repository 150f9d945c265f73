"""The `livemon` command: one subcommand per process kind, plus the demo and tools."""

from __future__ import annotations

import asyncio
import signal
import sys

import click

from livemon.demo import demo
from livemon.gc_policy import GEN0_THRESHOLD, tune_engine_gc
from livemon.logs import configure_logging
from livemon.purge_command import purge
from livemon.redis_client import RedisUnavailable
from livemon.replay_command import replay
from livemon.report_command import report
from livemon.sentiment_command import sentiment
from livemon.settings import DEFAULT_REDIS_PORT, Settings, SettingsError, load_settings
from livemon.simulate_command import simulate
from livemon.tiktok_live_command import tiktok_live
from livemon.token_command import token


@click.group()
def main() -> None:
    """livemon: real-time monitor for live-commerce streams."""
    configure_logging()


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
def web() -> None:
    """Serve ingest, JSON API, pages and websockets (PORT, REDIS_URL, LIVEMON_INGEST_KEY)."""
    import uvicorn

    from livemon.web.app import create_app

    settings = _settings()
    if not settings.ingest_keys:
        raise click.ClickException("LIVEMON_INGEST_KEY is not set: producers need a key to post events")
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # deflate costs ~100 KiB per connection; JSON snapshots are small
        log_level="warning",
        timeout_graceful_shutdown=5,
    )


@main.command()
@click.option("--partitions", default="", help="Comma-separated partition numbers to own [default: all].")
@click.option("--gc-threshold", envvar="LIVEMON_GC_THRESHOLD", type=click.IntRange(min=0), default=GEN0_THRESHOLD,
              show_default=True, help="Allocations between young-generation collections; 0 keeps CPython's "
              "garbage-collector defaults (docs/deploy.md) [env: LIVEMON_GC_THRESHOLD]")
def engine(partitions: str, gc_threshold: int) -> None:
    """Run the rolling-window engine on the event streams."""
    from livemon.engine_runner import EngineRunner

    settings = _settings()
    owned = [int(p) for p in partitions.split(",") if p.strip()] or None
    runner = EngineRunner(settings, owned)
    tune_engine_gc(gc_threshold)  # after start-up built its long-lived objects (livemon/gc_policy.py)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await runner.run(stop)

    try:
        asyncio.run(run())
    except RedisUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@main.command("redis")
@click.option("--port", default=DEFAULT_REDIS_PORT, show_default=True, help="Loopback port to listen on.")
def redis_command(port: int) -> None:
    """Run the bundled Redis (AOF persistence in $LIVEMON_DATA_DIR/redis) in the foreground."""
    from livemon.redis_server import EmbeddedRedis

    settings = _settings()
    server = EmbeddedRedis(settings.data_dir / "redis", port).start()
    click.echo(f"redis ready at {server.url}", err=True)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})  # Ctrl-C or the process manager's stop
    finally:
        server.stop()


main.add_command(simulate)
main.add_command(replay)
main.add_command(tiktok_live)
main.add_command(demo)
main.add_command(token)
main.add_command(purge)
main.add_command(sentiment)
main.add_command(report)

if __name__ == "__main__":
    sys.exit(main())
