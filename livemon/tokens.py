"""Access tokens: roles, what each role may do, and their hashed storage in Redis.

A token looks like `lmt_<id>_<secret>`. Redis keeps only `sha256(secret)` under
`lm:tok:<id>`, so a copy of the database does not let anyone sign in. Secrets carry 192
random bits, so a fast hash is enough (there is nothing to brute-force).

Roles and permissions (docs/security.md)::

    wall       VIEW                          all sessions, or the listed ones
    host       VIEW, STEER                   only the listed sessions (overlay of their rooms)
    responder  VIEW, STEER, RESPOND          ack, resolve, silence alerts
    admin      VIEW, STEER, RESPOND, ADMIN   tokens, configuration, purge

Exceptions::

    ValueError
     └── TokenError      a token request (role, sessions, expiry) is invalid
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis
from redis.typing import EncodableT, FieldT

from livemon import keys, redis_replies
from livemon.redis_client import is_cluster

TOKEN_PREFIX = "lmt"
_TOKEN_RE = re.compile(r"^lmt_([0-9a-f]{12})_([A-Za-z0-9_-]{20,64})$")
MAX_TOKEN_SESSIONS = 200


class TokenError(ValueError):
    """A token cannot be created as asked; the message says why."""


class Permission(enum.Enum):
    """Something a request may need."""

    VIEW = "view"  # read metrics, pages and websockets of permitted sessions
    STEER = "steer"  # accept/skip suggestions, mark questions answered (the host and field controller)
    RESPOND = "respond"  # ack, resolve, silence alerts
    ADMIN = "admin"  # manage tokens and configuration, purge data


class Role(enum.Enum):
    """A named bundle of permissions."""

    WALL = "wall"
    HOST = "host"
    RESPONDER = "responder"
    ADMIN = "admin"

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do."""
        return _ROLE_PERMISSIONS[self]


_ROLE_PERMISSIONS = {
    Role.WALL: frozenset({Permission.VIEW}),
    Role.HOST: frozenset({Permission.VIEW, Permission.STEER}),
    Role.RESPONDER: frozenset({Permission.VIEW, Permission.STEER, Permission.RESPOND}),
    Role.ADMIN: frozenset({Permission.VIEW, Permission.STEER, Permission.RESPOND, Permission.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """What one authenticated token may do: its role and the sessions it may see (None = all)."""

    token_id: str
    role: Role
    sessions: frozenset[str] | None
    expires_at: float | None
    label: str = ""

    def allows(self, permission: Permission) -> bool:
        """Whether the role includes `permission`."""
        return permission in self.role.permissions

    def can_see(self, session: str) -> bool:
        """Whether data of `session` may reach this token's holder."""
        return self.sessions is None or session in self.sessions

    def visible(self, requested: frozenset[str] | None) -> frozenset[str] | None:
        """Narrow a subscription (None = all) to what this grant may see."""
        if self.sessions is None:
            return requested
        return self.sessions if requested is None else requested & self.sessions

    def expired(self, now: float) -> bool:
        """Whether the token is past its expiry at `now` (epoch seconds)."""
        return self.expires_at is not None and now >= self.expires_at

    def to_public(self) -> dict[str, object]:
        """JSON form for `token list` and the admin API (no secret, no hash)."""
        return {
            "id": self.token_id,
            "role": self.role.value,
            "sessions": "*" if self.sessions is None else sorted(self.sessions),
            "expires_at": self.expires_at,
            "label": self.label,
        }


def parse_role(raw: str) -> Role:
    """Read a role name, naming the valid ones when it is unknown."""
    try:
        return Role(raw)
    except ValueError:
        raise TokenError(f"role: expected one of {', '.join(r.value for r in Role)}, got {raw!r}") from None


def parse_sessions(raw: str) -> frozenset[str] | None:
    """Read `*` (all sessions) or a comma-separated list of session ids."""
    if raw.strip() in ("", "*"):
        return None
    sessions = frozenset(s.strip() for s in raw.split(",") if s.strip())
    if len(sessions) > MAX_TOKEN_SESSIONS:
        raise TokenError(f"sessions: expected at most {MAX_TOKEN_SESSIONS}, got {len(sessions)}")
    return sessions


_DURATION_RE = re.compile(r"^(\d+)([smhdy])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def parse_expiry(raw: str, now: float) -> float | None:
    """Read `never` or a duration such as `90m`, `12h`, `30d`, `1y` into an absolute expiry."""
    if raw in ("", "never"):
        return None
    match = _DURATION_RE.match(raw.strip())
    if not match or int(match.group(1)) == 0:
        raise TokenError(f"expires: expected 'never' or a duration like 12h, 30d, 1y; got {raw!r}")
    return now + int(match.group(1)) * _UNIT_S[match.group(2)]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    """Return (id, secret) of a well-formed token, else None."""
    match = _TOKEN_RE.match(token.strip())
    return (match.group(1), match.group(2)) if match else None


class TokenStore:
    """Create, verify, list and revoke tokens in Redis."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client

    async def create(
        self, role: Role, sessions: frozenset[str] | None, expires_at: float | None, label: str = ""
    ) -> tuple[str, Grant]:
        """Store a new token; return the token string (shown once) and its grant.

        Raises:
            TokenError: a host token without sessions (a host sees only its own rooms).
        """
        if role is Role.HOST and sessions is None:
            raise TokenError("sessions: a host token must name its sessions (--sessions room-1,room-2)")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        grant = Grant(token_id, role, sessions, expires_at, label)
        record: dict[FieldT, EncodableT] = {  # redis-py's key and value types, as hset(mapping=) wants
            "hash": _digest(secret),
            "role": role.value,
            "sessions": orjson.dumps(None if sessions is None else sorted(sessions)),
            "expires_at": "" if expires_at is None else repr(expires_at),
            "label": label,
            "created_at": repr(time.time()),
        }
        # On Redis Cluster the record and the index set live in different slots, so no MULTI there:
        # a crash between the two leaves an unlisted record that still verifies (and still expires).
        async with self.client.pipeline(transaction=not is_cluster(self.client)) as pipe:
            pipe.hset(keys.token_key(token_id), mapping=record)
            if expires_at is not None:
                pipe.expireat(keys.token_key(token_id), int(expires_at) + 1)
            pipe.sadd(keys.TOKENS, token_id)
            await pipe.execute()
        return f"{TOKEN_PREFIX}_{token_id}_{secret}", grant

    async def verify(self, token: str, now: float) -> Grant | None:
        """Return the grant of a valid, unexpired, unrevoked token; None otherwise."""
        parts = split_token(token)
        if parts is None:
            return None
        token_id, secret = parts
        grant = await self.lookup(token_id, now, secret_digest=_digest(secret))
        return grant

    async def lookup(self, token_id: str, now: float, secret_digest: str | None = None) -> Grant | None:
        """Load a token's grant by id (checking the secret when given); None if gone or expired."""
        if not re.fullmatch(r"[0-9a-f]{12}", token_id):
            return None
        record = await redis_replies.hgetall(self.client, keys.token_key(token_id))
        if not record:
            return None
        if secret_digest is not None and not hmac.compare_digest(record[b"hash"].decode(), secret_digest):
            return None
        sessions = orjson.loads(record[b"sessions"])
        expires = record.get(b"expires_at", b"").decode()
        grant = Grant(
            token_id,
            Role(record[b"role"].decode()),
            None if sessions is None else frozenset(sessions),
            float(expires) if expires else None,
            record.get(b"label", b"").decode(),
        )
        return None if grant.expired(now) else grant

    async def list(self, now: float) -> list[Grant]:
        """Every live token, oldest id order; ids of expired tokens are dropped from the index."""
        grants: list[Grant] = []
        for raw_id in sorted(await redis_replies.smembers(self.client, keys.TOKENS)):
            grant = await self.lookup(raw_id.decode(), now)
            if grant is None:
                await self.client.srem(keys.TOKENS, raw_id)
            else:
                grants.append(grant)
        return grants

    async def revoke(self, token_id: str) -> bool:
        """Delete a token; True when it existed. Signed-in browsers lose access on their next request."""
        # Touch the index only when the token existed: a refused revoke must change nothing.
        if not await self.client.delete(keys.token_key(token_id)):
            return False
        await self.client.srem(keys.TOKENS, token_id)
        return True
