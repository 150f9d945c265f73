"""POST /api/v1/events: the HTTP/NDJSON ingest endpoint.

Answers: 200 `{"accepted": n, "duplicates": m}`; 400 listing every bad line; 401 for a
missing or wrong ingest key; 413 for an oversize body or batch; 429 with Retry-After
when the key exceeds its events/s budget (ingest/rate_limit.py); 503 with Retry-After
when Redis is unavailable (nothing is written; the producer retries the same batch and
de-duplication makes the retry safe).

Memory: a request's body (at most MAX_BODY_BYTES) is read first; decoding, validating and
writing it, which takes ~1.5 KiB per event until Redis answers (about 8 MiB for a full
5,000-event batch of comments), runs in at most INGEST_SLOTS requests at once per process.
The others wait holding only their body, so a burst of large batches (a producer catching up
after the server stalled) cannot raise the web process's memory beyond that bound: glibc
keeps a process's peak heap resident, so every unbounded peak becomes permanent RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingest.batch import MAX_BODY_BYTES, BatchRejected, BatchTooLarge, read_batch
from ingest.rate_limit import RateLimiter
from ingest.writer import EventWriter
from livemon import telemetry

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
# Ingest is CPU work on one event loop plus Redis round trips: 4 requests overlap most of
# them; more add memory (see the module docstring). Under overload requests queue here: at
# 20,000 events/s on 2 cores, 16 slots cut ingest p50 from ~550 to ~220 ms (docs/performance.md).
INGEST_SLOTS = 4


def ingest_slots() -> asyncio.Semaphore:
    """The per-process bound on requests being decoded and written (one per app, made in its lifespan)."""
    return asyncio.Semaphore(INGEST_SLOTS)


def error(status: int, message: str, **extra: object) -> JSONResponse:
    """A JSON error body that always says what was wrong."""
    return JSONResponse({"error": message, **extra}, status_code=status)


def bearer_ok(request: Request, allowed: tuple[str, ...]) -> bool:
    """Check `Authorization: Bearer <key>` against the configured keys in constant time."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return any(hmac.compare_digest(token.strip().encode(), key.encode()) for key in allowed)


async def read_body_limited(request: Request, limit: int) -> bytes | None:
    """Read the body, or return None as soon as it exceeds `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def json_object(raw: bytes) -> dict[str, Any] | Response:
    """A webhook body decoded as one JSON object, or the 400 answer saying why not."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return error(400, "body is not JSON")
    if not isinstance(payload, dict):
        return error(400, "body: expected a JSON object")
    return payload


async def authorised_body(request: Request) -> bytes | Response:
    """The body of a producer's request, or the 401/413 answer: the ingest key is checked first."""
    if not bearer_ok(request, request.app.state.settings.ingest_keys):
        return error(401, "missing or invalid ingest key: send 'Authorization: Bearer <LIVEMON_INGEST_KEY>'")
    body = await read_body_limited(request, MAX_BODY_BYTES)
    if body is None:
        return error(413, f"request body is larger than {MAX_BODY_BYTES} bytes; split it into smaller batches")
    return body


async def rate_limited(request: Request, events: int) -> Response | None:
    """429 with Retry-After when this ingest key is over its rate, else None (the events are counted)."""
    limiter: RateLimiter = request.app.state.rate_limiter
    decision = await limiter.take(request.headers["authorization"].partition(" ")[2].strip(), events)
    if decision.allowed:
        return None
    return JSONResponse(
        {"error": f"rate limit of {limiter.rate:g} events/s for this ingest key exceeded; nothing was "
                  f"written; retry the same batch after {decision.retry_after_s} s"},
        status_code=429,
        headers={"Retry-After": str(decision.retry_after_s)},
    )


@contextlib.asynccontextmanager
async def ingest_slot(request: Request) -> AsyncIterator[None]:
    """Hold one of the process's INGEST_SLOTS while a batch is decoded and written (waiting counted)."""
    slots: asyncio.Semaphore = request.app.state.ingest_slots
    with telemetry.INGEST_WAITING.track_inprogress():
        await slots.acquire()
    try:
        with telemetry.INGEST_IN_FLIGHT.track_inprogress():
            yield
    finally:
        slots.release()


async def post_events(request: Request) -> Response:
    """Validate a batch completely, then append it; all or nothing; at most INGEST_SLOTS at once."""
    body = await authorised_body(request)
    if isinstance(body, Response):
        return body
    async with ingest_slot(request):
        return await _append_batch(request, body)


async def _append_batch(request: Request, body: bytes) -> Response:
    settings = request.app.state.settings
    try:
        events = read_batch(body, request.headers.get("content-type", ""), settings.pseudonym_secret)
    except BatchTooLarge as exc:
        return error(413, str(exc))
    except BatchRejected as exc:
        telemetry.EVENTS_REJECTED.labels("http").inc(exc.total_errors)
        return error(
            400,
            f"{exc.total_errors} invalid event(s); nothing was written",
            errors=[e.to_dict() for e in exc.errors],
        )
    writer: EventWriter = request.app.state.writer
    try:
        refused = await rate_limited(request, len(events))
        if refused is not None:
            return refused
        result = await writer.append(events)
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        log.warning("ingest: redis unavailable: %s", exc)
        telemetry.REQUESTS_UNAVAILABLE.labels("http").inc()
        return JSONResponse(
            {"error": "event store unavailable; retry the same batch later"},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    telemetry.EVENTS_INGESTED.labels("http").inc(result.accepted)
    telemetry.EVENTS_DUPLICATE.labels("http").inc(result.duplicates)
    return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates})
