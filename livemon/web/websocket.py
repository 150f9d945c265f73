"""The `/ws` endpoint: subscribe to sessions, receive coalesced batches of updates.

Protocol (every message is `{"type": …, "v": 1, …}`):
  client → `{"type": "subscribe", "v": 1, "sessions": "*" | ["room-1", …], "last_alert_id": <stream id>?}`
  server → `{"type": "hello", …}` once, then `{"type": "batch", "v": 1, "messages": [...]}`, each message
  a snapshot, heartbeat or alert transition (`{"type": "alert", "id": <stream id>, "data": <record>}`;
  after `last_alert_id`, the missed ones first).

Pacing (`_send_loop`): a batch goes out as soon as something is pending and the client's
previous batch is older than its pause, MIN_PAUSE_S or one share of MESSAGES_PER_S per
message it carried, whichever is longer (leading edge); what arrives during the pause is
coalesced, latest-wins per session, into the next batch (trailing edge). So a one-room
screen gets each snapshot the moment the engine publishes it (at most 10 a second per room,
LIVEMON_PUBLISH_S), while a wall of 16 busy rooms gets about 4 batches a second of 16
snapshots, never more than MESSAGES_PER_S snapshots a second, however busy the rooms are.
A client that cannot take a batch within SEND_TIMEOUT_S is closed with code 4008; it
reconnects and starts again from the latest snapshots.

Access: the connection is authorised on connect (session cookie, or `Authorization: Bearer`
/ `?token=` for non-browser clients); otherwise it is closed with 4401, with 4403 for a
foreign Origin and 4429 when the token already holds `LIVEMON_WS_PER_TOKEN` connections.
Every subscription is narrowed to the sessions the token may see (`Client.sessions`, the
hub's only filter), so a host token never receives another room's data. The token is looked
up again every GRANT_RECHECK_S (the first time after a random share of it, so screens that
connected together do not query together): once it is revoked or expired the connection is
closed with 4401 within 2 × GRANT_RECHECK_S, and the pages send the browser to /login.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time

import orjson
from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from livemon import keys, telemetry
from livemon.tokens import Grant, Permission, TokenStore
from livemon.web import auth
from livemon.web.hub import Client, Hub, snapshot_message

log = logging.getLogger(__name__)

MIN_PAUSE_S = 0.05  # at most 20 batches a second, whatever they carry
MESSAGES_PER_S = 60.0  # per client: what a page renders, not what the engines publish, sets the pace
SEND_TIMEOUT_S = 5.0
CLOSE_SLOW = 4008
CLOSE_BAD_REQUEST = 4400
CLOSE_UNAUTHORISED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY = 4429
MAX_SUBSCRIBED_SESSIONS = 200
GRANT_RECHECK_S = 5.0
# A show that ended longer ago than this gets no tile on a screen that subscribed to every room;
# the wall page carries it (livemon/web/pages.py) and drops such tiles after the same time.
# Named rooms always replay.
ENDED_SHOWN_S = 600.0
_ENDED_AT = re.compile(rb'"ended_at":([0-9.eE+]+)')  # a top-level snapshot key; no nested object has it


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


def pause_after(messages: int) -> float:
    """How long a client waits after a batch of `messages` before the next one (see the module docstring)."""
    return max(MIN_PAUSE_S, messages / MESSAGES_PER_S)


async def _send_loop(websocket: WebSocket, client: Client, hub: Hub) -> None:
    loop = asyncio.get_running_loop()
    next_at = 0.0
    while True:
        await client.wake.wait()
        if (wait := next_at - loop.time()) > 0:
            await asyncio.sleep(wait)  # trailing edge: let the pause collect what else arrives
        messages = client.take()
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):  # no task per send, unlike wait_for
                await websocket.send_text(hub.batch_text(messages))
        except TimeoutError:
            log.info("closing slow websocket client")
            telemetry.WEBSOCKET_SLOW_DROPPED.inc()
            await websocket.close(code=CLOSE_SLOW, reason="slow")
            return
        next_at = loop.time() + pause_after(len(messages))


async def _receive_loop(websocket: WebSocket, client: Client, hub: Hub, grant: Grant) -> None:
    while True:
        raw = await websocket.receive_text()
        try:
            requested = parse_subscription(raw)
        except ValueError as exc:
            await websocket.send_text(
                orjson.dumps({"type": keys.MSG_ERROR, "v": keys.WIRE_VERSION, "error": str(exc)}).decode()
            )
            continue
        client.sessions = grant.visible(requested)
        refused = requested - grant.sessions if requested is not None and grant.sessions is not None else ()
        if refused:
            await websocket.send_text(auth.error_message(f"not permitted for this token: {', '.join(sorted(refused))}"))
        await _send_current(websocket, client, hub)
        # alerts missed while disconnected, in order, before any live one (livemon/web/alert_feed.py)
        problem = await websocket.app.state.alert_feed.resume(client, orjson.loads(raw).get("last_alert_id"))
        if problem:
            await websocket.send_text(auth.error_message(problem))


async def _watch_grant(websocket: WebSocket, grant: Grant) -> None:
    """Close the connection once its token is revoked or expired; an open screen must not outlive it."""
    store = TokenStore(websocket.app.state.redis)
    # spread the checks: screens that (re)connected together must not all query at the same instant
    await asyncio.sleep(random.uniform(0, GRANT_RECHECK_S))
    while True:
        await asyncio.sleep(GRANT_RECHECK_S)
        try:
            current = await store.lookup(grant.token_id, time.time())
        except RedisError:
            continue  # Redis is down: the subscription is idle anyway; check again when it is back
        if current is None:
            log.info("closing websocket of revoked or expired token %s", grant.token_id)
            await websocket.close(code=CLOSE_UNAUTHORISED, reason="token revoked or expired: sign in again")
            return


async def _send_current(websocket: WebSocket, client: Client, hub: Hub) -> None:
    """Replay the latest snapshot of every subscribed session, so a new screen fills at once.

    A screen subscribed to every room does not get rooms whose show ended over `ENDED_SHOWN_S` ago.
    """
    redis = websocket.app.state.redis
    if client.sessions is None:
        shown_after = time.time() - ENDED_SHOWN_S
        current = {session: data for session, data in (await redis.hgetall(keys.SNAPSHOTS)).items()
                   if (ended := _ENDED_AT.search(data)) is None or float(ended.group(1)) >= shown_after}
    else:
        names = sorted(client.sessions)
        values = await redis.hmget(keys.SNAPSHOTS, names) if names else []
        current = {n.encode(): v for n, v in zip(names, values) if v is not None}
    curves = await redis.hmget(keys.CURVES, list(current)) if current else []
    for (session, data), drawn in zip(current.items(), curves):
        client.offer(session.decode(), snapshot_message(session.decode(), with_curves(data, drawn)))


def with_curves(snapshot: bytes, curves: bytes | None) -> bytes:
    """The snapshot with the session's latest `series` and `markers` added where it has none.

    Both are JSON objects written by the engine, so the members splice in without decoding the
    snapshot; a quoted `"series":` cannot occur inside a JSON string, where quotes are escaped.
    """
    if curves is None or b'"series":' in snapshot:
        return snapshot
    return snapshot[:-1] + b"," + curves[1:]


async def websocket_endpoint(websocket: WebSocket) -> None:
    """Serve one browser until it leaves or falls too far behind."""
    hub: Hub = websocket.app.state.hub
    await websocket.accept()
    if not auth.same_origin(websocket):
        await websocket.close(code=CLOSE_FORBIDDEN, reason="foreign origin")
        return
    grant, _ = await auth.authenticate(websocket)
    if grant is None or not grant.allows(Permission.VIEW):
        await websocket.close(code=CLOSE_UNAUTHORISED, reason="sign in at /login")
        return
    connections: auth.ConnectionCounter = websocket.app.state.ws_connections
    if not connections.acquire(grant.token_id):
        await websocket.close(code=CLOSE_TOO_MANY, reason="too many connections for this token")
        return
    try:
        await _serve(websocket, hub, grant)
    finally:
        connections.release(grant.token_id)


async def _serve(websocket: WebSocket, hub: Hub, grant: Grant) -> None:
    client = Client(sessions=frozenset())
    hub.clients.add(client)
    telemetry.WEBSOCKET_CLIENTS.inc()
    await websocket.send_text(
        orjson.dumps({"type": keys.MSG_HELLO, "v": keys.WIRE_VERSION, "server_time": time.time()}).decode()
    )
    sender = asyncio.create_task(_send_loop(websocket, client, hub))
    receiver = asyncio.create_task(_receive_loop(websocket, client, hub, grant))
    watcher = asyncio.create_task(_watch_grant(websocket, grant))
    try:
        done, _ = await asyncio.wait({sender, receiver, watcher}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() and not isinstance(task.exception(), WebSocketDisconnect):
                log.warning("websocket task failed", exc_info=task.exception())
    finally:
        hub.clients.discard(client)
        telemetry.WEBSOCKET_CLIENTS.dec()
        for task in (sender, receiver, watcher):
            task.cancel()
