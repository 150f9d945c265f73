"""`livemon demo`: embedded Redis, engine, web and a simulator of 4 rooms, stopped together by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx

from ingest.incidents import parse_kinds
from livemon.processes import child_preexec, stop_children
from livemon.redis_client import connect
from livemon.redis_server import EmbeddedRedis
from livemon.tokens import TokenStore, parse_role


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Its own process group: Ctrl-C reaches only the demo, which stops the children in order.
    return subprocess.Popen([sys.executable, "-m", "livemon", *args], env=env, process_group=0,
                            preexec_fn=child_preexec)  # noqa: PLW1509 - the only way to set PDEATHSIG


def _port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:`port` (the web binds there)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"the web process exited with code {process.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"the web process did not answer on {url} within {timeout_s:.0f}s")


def _demo_token(redis_url: str, role: str) -> str:
    """A one-day token so the printed links sign the browser in (docs/security.md)."""

    async def create() -> str:
        client = connect(redis_url)
        try:
            token, _ = await TokenStore(client).create(parse_role(role), None, time.time() + 86400, "livemon demo")
            return token
        finally:
            await client.aclose()

    return asyncio.run(create())


@click.command("demo")
@click.option("--sessions", default=4, show_default=True, help="Simulated live rooms.")
@click.option("--rate", default=30.0, show_default=True, help="Events per second per room.")
@click.option("--incidents", default="all", show_default=True,
              help="The simulator's incidents to run into, from about 10 min in: all, none, or a comma list.")
def demo(sessions: int, rate: float, incidents: str) -> None:
    """Run everything on this machine and print the wallboard URL."""
    try:
        kinds = parse_kinds(incidents)  # before anything starts, not as a child process's exit code
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--incidents") from None
    env = dict(os.environ)
    env.setdefault("LIVEMON_DATA_DIR", "data")
    env.setdefault("PORT", "8000")
    env.setdefault("LIVEMON_INGEST_KEY", "demo-" + secrets.token_urlsafe(12))
    if not env["PORT"].isdigit():
        raise click.ClickException(f"PORT: expected a port number, got {env['PORT']!r}")
    if not _port_free(int(env["PORT"])):  # else another server's /healthz would pass for ours
        raise click.ClickException(f"port {env['PORT']} is in use (another livemon demo?): stop it or set PORT")
    redis_server = None
    if not env.get("REDIS_URL"):
        redis_server = EmbeddedRedis(Path(env["LIVEMON_DATA_DIR"]) / "redis").start()
        env["REDIS_URL"] = redis_server.url
    url = f"http://127.0.0.1:{env['PORT']}"
    children: list[subprocess.Popen[bytes]] = []
    simulator: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    # Ctrl-C and a process manager's stop take the same ordered path below; SIGINT is set here
    # because a shell that starts us in the background may have set it to be ignored
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        children.append(_spawn(["engine"], env))
        web = _spawn(["web"], env)
        children.append(web)
        _wait_healthy(url, web)
        # Each run is a new show: rooms of an earlier run (same data directory) keep their own ids,
        # and this run's event ids cannot be mistaken for theirs by the de-duplication.
        prefix = time.strftime("room%H%M%S")
        simulator = _spawn(["simulate", "--url", url, "--sessions", str(sessions), "--rate", str(rate),
                            "--prefix", prefix, "--incidents", incidents], env)
        children.append(simulator)
        incidents_line = ("none (calm rooms)" if not kinds
                          else f"{incidents} (from about 10 min in; alerts on the wall and at {url}/incidents)")
        wall_token = _demo_token(env["REDIS_URL"], "wall")
        admin_token = _demo_token(env["REDIS_URL"], "admin")
        click.echo(
            f"\n  livemon demo is running\n"
            f"  wallboard:   {url}/login?token={wall_token}&next=/wall\n"
            f"  admin:       {url}/login?token={admin_token}&next=/wall  (tokens expire in 1 day)\n"
            f"  ingest key:  {env['LIVEMON_INGEST_KEY']}\n"
            f"  redis:       {env['REDIS_URL']}\n"
            f"  incidents:   {incidents_line}\n"
            f"  Ctrl-C stops everything.\n"
        )
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
        for child in children:
            if child.poll() is not None and not stopping:
                click.echo(f"a child process exited with code {child.returncode}; stopping the demo", err=True)
    finally:
        # The simulator first, on its own, so its rooms' session_end reaches the web; then web and
        # engine together (the engine checkpoints on SIGTERM; what it has not folded stays pending).
        stop_children([c for c in children if c is simulator])
        stop_children([c for c in children if c is not simulator])
        if redis_server:
            redis_server.stop()
        click.echo("livemon demo stopped.")
