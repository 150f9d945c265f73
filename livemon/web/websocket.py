"""The `/ws` endpoint: subscribe to sessions, receive coalesced batches of updates.

Protocol (every message is `{"type": …, "v": 1, …}`):
  client → `{"type": "subscribe", "v": 1, "sessions": "*" | ["room-1", …]}`
  server → `{"type": "hello", …}` once, then `{"type": "batch", "v": 1, "messages": [...]}` at most
  `1 / COALESCE_S` times a second, each message a snapshot or heartbeat.
A client that cannot take a batch within SEND_TIMEOUT_S is closed with code 4008; it
reconnects and starts again from the latest snapshots.
"""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from livemon import keys, telemetry
from livemon.web.hub import Client, Hub, snapshot_message

log = logging.getLogger(__name__)

COALESCE_S = 0.25
SEND_TIMEOUT_S = 5.0
CLOSE_SLOW = 4008
CLOSE_BAD_REQUEST = 4400
MAX_SUBSCRIBED_SESSIONS = 200


def parse_subscription(raw: str) -> frozenset[str] | None:
    """Read a subscribe message; `None` means all sessions.

    Raises:
        ValueError: naming what is wrong with the message.
    """
    try:
        message = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValueError("expected a JSON message") from None
    if not isinstance(message, dict) or message.get("type") != "subscribe":
        raise ValueError("field 'type': expected 'subscribe'")
    sessions = message.get("sessions", "*")
    if sessions == "*":
        return None
    if (
        not isinstance(sessions, list)
        or len(sessions) > MAX_SUBSCRIBED_SESSIONS
        or not all(isinstance(s, str) for s in sessions)
    ):
        raise ValueError(f"field 'sessions': expected '*' or a list of at most {MAX_SUBSCRIBED_SESSIONS} ids")
    return frozenset(sessions)


async def _send_loop(websocket: WebSocket, client: Client) -> None:
    while True:
        await client.wake.wait()
        messages = client.take()
        payload = b'{"type":"batch","v":1,"messages":[' + b",".join(messages) + b"]}"
        try:
            await asyncio.wait_for(websocket.send_text(payload.decode()), SEND_TIMEOUT_S)
        except TimeoutError:
            log.info("closing slow websocket client")
            telemetry.WEBSOCKET_SLOW_DROPPED.inc()
            await websocket.close(code=CLOSE_SLOW, reason="slow")
            return
        await asyncio.sleep(COALESCE_S)


async def _receive_loop(websocket: WebSocket, client: Client, hub: Hub) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            client.sessions = parse_subscription(raw)
        except ValueError as exc:
            await websocket.send_text(
                orjson.dumps({"type": keys.MSG_ERROR, "v": keys.WIRE_VERSION, "error": str(exc)}).decode()
            )
            continue
        await _send_current(websocket, client, hub)


async def _send_current(websocket: WebSocket, client: Client, hub: Hub) -> None:
    """Replay the latest snapshot of every subscribed session, so a new screen fills at once."""
    redis = websocket.app.state.redis
    if client.sessions is None:
        current = await redis.hgetall(keys.SNAPSHOTS)
    else:
        names = sorted(client.sessions)
        values = await redis.hmget(keys.SNAPSHOTS, names) if names else []
        current = {n.encode(): v for n, v in zip(names, values) if v is not None}
    for session, data in current.items():
        client.offer(session.decode(), snapshot_message(session.decode(), data))


async def websocket_endpoint(websocket: WebSocket) -> None:
    """Serve one browser until it leaves or falls too far behind."""
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    client = Client(sessions=frozenset())
    hub.clients.add(client)
    telemetry.WEBSOCKET_CLIENTS.inc()
    await websocket.send_text(
        orjson.dumps({"type": keys.MSG_HELLO, "v": keys.WIRE_VERSION, "server_time": time.time()}).decode()
    )
    sender = asyncio.create_task(_send_loop(websocket, client))
    receiver = asyncio.create_task(_receive_loop(websocket, client, hub))
    try:
        done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() and not isinstance(task.exception(), WebSocketDisconnect):
                log.warning("websocket task failed", exc_info=task.exception())
    finally:
        hub.clients.discard(client)
        telemetry.WEBSOCKET_CLIENTS.dec()
        for task in (sender, receiver):
            task.cancel()
