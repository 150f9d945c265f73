"""`livemon token create|list|revoke`: manage access tokens from the command line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from livemon.redis_client import RedisUnavailable, connect, require_redis
from livemon.settings import SettingsError, load_settings
from livemon.tokens import Role, TokenError, TokenStore, parse_expiry, parse_role, parse_sessions

T = TypeVar("T")


def _run(action: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run one store action against REDIS_URL, turning known failures into CLI errors."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None

    async def go() -> T:
        client = connect(settings.redis_url)
        try:
            await require_redis(client, settings.redis_url)
            return await action(TokenStore(client))
        finally:
            await client.aclose()

    try:
        return asyncio.run(go())
    except (RedisUnavailable, TokenError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group("token")
def token() -> None:
    """Create, list and revoke access tokens (roles: wall, host, responder, admin)."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="What the token may do.")
@click.option("--sessions", default="*", show_default=True, help="'*' or comma-separated session ids it may see.")
@click.option("--expires", default="30d", show_default=True, help="'never' or a duration: 90m, 12h, 30d, 1y.")
@click.option("--label", default="", help="Free text shown by `token list` (e.g. 'control room screen 2').")
@click.option("--quiet", is_flag=True, help="Print only the token.")
def create(role: str, sessions: str, expires: str, label: str, quiet: bool) -> None:
    """Create a token and print it once (only its hash is stored)."""
    try:
        parsed_role = parse_role(role)
        parsed_sessions = parse_sessions(sessions)
        expires_at = parse_expiry(expires, time.time())
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    secret, grant = _run(lambda store: store.create(parsed_role, parsed_sessions, expires_at, label))
    if quiet:
        click.echo(secret)
        return
    click.echo(f"token:   {secret}\nid:      {grant.token_id}\nrole:    {grant.role.value}")
    click.echo(f"sign in: /login?token={secret}  (shown once; store it now)")


@token.command("list")
def list_tokens() -> None:
    """List live tokens: id, role, sessions, expiry, label (never the secret)."""
    grants = _run(lambda store: store.list(time.time()))
    if not grants:
        click.echo("no tokens")
        return
    for grant in grants:
        expiry = "never" if grant.expires_at is None else time.strftime("%Y-%m-%d %H:%M", time.gmtime(grant.expires_at))
        sessions = "*" if grant.sessions is None else ",".join(sorted(grant.sessions))
        click.echo(f"{grant.token_id}  {grant.role.value:<9}  expires {expiry} UTC  sessions {sessions}  {grant.label}")


@token.command("revoke")
@click.argument("token_id")
def revoke(token_id: str) -> None:
    """Revoke a token by id; browsers signed in with it lose access on their next request."""
    if not _run(lambda store: store.revoke(token_id)):
        raise click.ClickException(f"no token with id {token_id!r} (see `livemon token list`)")
    click.echo(f"revoked {token_id}")
