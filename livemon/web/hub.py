"""Fan-out of engine updates to websocket clients: encode once, coalesce, never wait on the slowest.

Each web process tails the `lm:updates` stream itself (no consumer group: every node must
see every update), so a browser connected to any node receives every session. Snapshots
are latest-wins per session: a newer one replaces an unsent older one in the client's
pending map, so a slow client costs memory proportional to sessions, not to time.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
import redis.asyncio as aioredis

from livemon import keys, redis_replies

log = logging.getLogger(__name__)

HEARTBEAT_S = 5.0
_HEARTBEAT_KEY = "\x00heartbeat"
_BATCH_CACHE = 256  # frames kept for reuse; cleared when full (a frame is reused within one publish round)


def snapshot_message(session: str, data: bytes) -> bytes:
    """Wrap an engine snapshot (already JSON) without decoding it again."""
    return b'{"type":"snapshot","v":1,"session":' + orjson.dumps(session) + b',"data":' + data + b"}"


class Client:
    """One websocket's subscription and its pending, coalesced messages."""

    def __init__(self, sessions: frozenset[str] | None = None) -> None:
        self.sessions = sessions  # None = all sessions
        self.pending: dict[str, bytes] = {}
        self.wake = asyncio.Event()

    def wants(self, session: str) -> bool:
        """Whether this client subscribed to `session`."""
        return self.sessions is None or session in self.sessions

    def offer(self, key: str, message: bytes) -> None:
        """Queue a message, replacing any unsent one with the same key."""
        self.pending[key] = message
        self.wake.set()

    def take(self) -> list[bytes]:
        """Remove and return everything pending, in arrival order."""
        messages = list(self.pending.values())
        self.pending.clear()
        self.wake.clear()
        return messages


class Hub:
    """Tails the updates stream and offers each update to interested clients."""

    def __init__(self, reader: aioredis.Redis) -> None:
        self.reader = reader
        self.clients: set[Client] = set()
        self.last_update_at = 0.0
        self._batches: dict[tuple[bytes, ...], str] = {}

    def batch_text(self, messages: list[bytes]) -> str:
        """The `batch` frame holding `messages`, built once for every client that takes the same ones.

        Clients of one room usually take the very same snapshot objects, so the frame is
        joined and decoded once per update instead of once per client (the keys hash
        cheaply: a bytes object caches its hash and compares to itself by identity).
        """
        key = tuple(messages)
        text = self._batches.get(key)
        if text is None:
            if len(self._batches) >= _BATCH_CACHE:
                self._batches.clear()
            text = self._batches[key] = (b'{"type":"batch","v":1,"messages":[' + b",".join(messages) + b"]}").decode()
        return text

    def offer_snapshot(self, session: str, data: bytes) -> None:
        """Hand one snapshot to every subscribed client."""
        message = snapshot_message(session, data)
        for client in self.clients:
            if client.wants(session):
                client.offer(session, message)

    async def run(self) -> None:
        """Tail `lm:updates` forever; reconnect after Redis errors."""
        last_id = "$"
        while True:
            try:
                entries = await redis_replies.xread(self.reader, keys.UPDATES, last_id, count=1000, block=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("hub: reading updates failed; retrying in 1 s", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for raw_id, fields in entries:
                last_id = raw_id.decode()
                self.offer_snapshot(fields[b"s"].decode(), fields[b"d"])
            if entries:  # [] when BLOCK timed out
                self.last_update_at = time.time()

    async def heartbeat(self) -> None:
        """Tell every client the server is alive, so pages can tell silence from a dead link."""
        while True:
            await asyncio.sleep(HEARTBEAT_S)
            message = orjson.dumps(
                {"type": keys.MSG_HEARTBEAT, "v": keys.WIRE_VERSION, "server_time": time.time(),
                 "last_update_at": self.last_update_at}
            )
            for client in self.clients:
                client.offer(_HEARTBEAT_KEY, message)
