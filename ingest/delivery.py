"""Hand adapter output to the event writer: validate, pseudonymise, append, or answer 503.

Every adapter (Shopify, TikTok Shop, Doudian, Douyin webcast) turns a platform message
into raw schema-v1 dicts and calls `deliver`, so validation, pseudonymisation,
de-duplication and partitioning stay in `ingest.batch` and `ingest.writer` only.

Exceptions::

    RuntimeError
     └── StoreUnavailable     Redis did not take the batch; nothing new is visible, retry it
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ingest.attribution import AttributionRules, load_rules
from ingest.batch import BatchRejected, validate_batch
from ingest.writer import AppendResult, EventWriter
from livemon import telemetry

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2


class StoreUnavailable(RuntimeError):
    """Redis is down or too slow; the caller answers 503 and the platform redelivers."""


async def deliver(
    writer: EventWriter, raw_events: Sequence[dict[str, object]], pseudonym_secret: bytes, source: str,
    timeout_s: float | None = None,
) -> AppendResult:
    """Validate and append adapter output; an adapter bug (invalid event) raises BatchRejected.

    Args:
        source: the adapter's name in /metrics (`livemon_events_ingested_total{source=…}`).
        timeout_s: give up after this long (TikTok Shop wants an answer within 3 s).

    Raises:
        StoreUnavailable: Redis refused or timed out; redelivery is safe (ids are stable).
        ingest.batch.BatchRejected: the adapter produced an event the schema refuses.
    """
    if not raw_events:
        return AppendResult(accepted=0, duplicates=0)
    try:
        events = validate_batch(raw_events, pseudonym_secret)
    except BatchRejected as exc:
        telemetry.EVENTS_REJECTED.labels(source).inc(exc.total_errors)
        raise
    try:
        result = await asyncio.wait_for(writer.append(events), timeout_s)
    except (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError) as exc:
        log.warning("adapter ingest: redis unavailable: %s", exc)
        telemetry.REQUESTS_UNAVAILABLE.labels(source).inc()
        raise StoreUnavailable(str(exc)) from exc
    telemetry.EVENTS_INGESTED.labels(source).inc(result.accepted)
    telemetry.EVENTS_DUPLICATE.labels(source).inc(result.duplicates)
    return result


def unavailable_response() -> JSONResponse:
    """503 with Retry-After, as the HTTP ingest answers when Redis is down."""
    return JSONResponse({"error": "event store unavailable; redeliver later"}, status_code=503,
                        headers={"Retry-After": str(RETRY_AFTER_S)})


def result_response(result: AppendResult, ignored: int = 0, **extra: object) -> JSONResponse:
    """The same 200 body as /api/v1/events, plus how many messages carried nothing to count."""
    return JSONResponse({"accepted": result.accepted, "duplicates": result.duplicates, "ignored": ignored, **extra})


async def deliver_response(
    writer: EventWriter, raw_events: Sequence[dict[str, object]], pseudonym_secret: bytes, source: str,
    ignored: int = 0, timeout_s: float | None = None, **extra: object,
) -> Response:
    """`deliver`, answered over HTTP: 200 with counts, 503 when Redis is down, 400 naming bad fields."""
    try:
        result = await deliver(writer, raw_events, pseudonym_secret, source, timeout_s)
    except StoreUnavailable:
        return unavailable_response()
    except BatchRejected as exc:
        log.warning("adapter produced invalid events: %s", exc)
        return JSONResponse({"error": f"{exc.total_errors} message(s) map to invalid events; nothing was written",
                             "errors": [e.to_dict() for e in exc.errors]}, status_code=400)
    return result_response(result, ignored, **extra)


def attribution_rules(request: Request) -> AttributionRules:
    """Attribution rules, loaded once per process on first use."""
    rules: AttributionRules | None = getattr(request.app.state, "attribution_rules", None)
    if rules is None:
        rules = load_rules(request.app.state.settings.attribution_config)
        request.app.state.attribution_rules = rules
    return rules
