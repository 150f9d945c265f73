"""Alert transitions to websocket clients: live from the audit stream, resumable by id.

Every web process tails `lm:alerts` and offers each transition to the clients that may
see its session as `{"type": "alert", "v": 1, "id": <stream id>, "data": <record>}`.
Unlike snapshots, alerts are never coalesced: each has its own key in the client's
pending map. A client that falls behind is closed by the websocket sender (4008) and,
on reconnect, sends `last_alert_id` in its subscribe message; `resume` then replays
exactly the transitions after that id, in order, before any live one.

Gap-free hand-over: while a client's replay reads Redis, live transitions for it are
held back; afterwards only those newer than the last replayed id are released.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

import orjson
import redis.asyncio as aioredis

from livemon import keys, redis_replies
from livemon.command_streams import is_stream_id, stream_order
from livemon.web.hub import Client, Hub

log = logging.getLogger(__name__)

REPLAY_PAGE = 500
MAX_REPLAY = 20_000  # beyond this, the client should reload the REST list instead


def alert_message(stream_id: str, session: str, record: bytes) -> tuple[str, bytes]:
    """Return the pending-map key and the encoded message of one transition."""
    message = (b'{"type":"alert","v":1,"id":' + orjson.dumps(stream_id) + b',"session":' + orjson.dumps(session)
               + b',"data":' + record + b"}")
    return f"alert:{stream_id}", message


class AlertFeed:
    """Tails the audit stream for one web process."""

    def __init__(self, reader: aioredis.Redis, redis: aioredis.Redis, hub: Hub) -> None:
        self.reader = reader
        self.redis = redis
        self.hub = hub
        self.held: weakref.WeakKeyDictionary[Client, list[tuple[str, str, bytes]]] = weakref.WeakKeyDictionary()

    def offer(self, stream_id: str, session: str, record: bytes) -> None:
        """Hand one live transition to every client that may see its session."""
        for client in self.hub.clients:
            if not client.wants(session):
                continue
            held = self.held.get(client)
            if held is not None:
                held.append((stream_id, session, record))
            else:
                client.offer(*alert_message(stream_id, session, record))

    async def run(self) -> None:
        """Tail `lm:alerts` forever; reconnect after Redis errors."""
        last_id = "$"
        while True:
            try:
                entries = await redis_replies.xread(self.reader, keys.ALERTS, last_id, count=1000, block=1000)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("alert feed: reading %s failed; retrying in 1 s", keys.ALERTS, exc_info=True)
                await asyncio.sleep(1.0)
                continue
            for raw_id, fields in entries:
                last_id = raw_id.decode()
                self.offer(last_id, fields[keys.ALERT_SESSION_FIELD.encode()].decode(),
                           fields[keys.ALERT_RECORD_FIELD.encode()])

    async def resume(self, client: Client, since: object) -> str | None:
        """Replay the transitions after `since` that the client may see; return an error text if `since` is bad."""
        if since is None:
            return None
        if not is_stream_id(since):
            return "field 'last_alert_id': expected a stream id like 1700000000000-0"
        assert isinstance(since, str)
        self.held[client] = []
        last = since
        try:
            start, sent = f"({since}", 0
            while sent < MAX_REPLAY:
                entries = await redis_replies.xrange(self.redis, keys.ALERTS, start, "+", count=REPLAY_PAGE)
                for raw_id, fields in entries:
                    last = raw_id.decode()
                    session = fields[keys.ALERT_SESSION_FIELD.encode()].decode()
                    if client.wants(session):
                        client.offer(*alert_message(last, session, fields[keys.ALERT_RECORD_FIELD.encode()]))
                        sent += 1
                if len(entries) < REPLAY_PAGE:
                    break
                start = f"({last}"
        finally:
            held = self.held.pop(client, [])
        done = stream_order(last)
        for stream_id, session, record in held:
            if stream_order(stream_id) > done:
                client.offer(*alert_message(stream_id, session, record))
        return None
