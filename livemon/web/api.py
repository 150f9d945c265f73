"""JSON read endpoints: the same numbers the wallboard shows."""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon import keys, telemetry
from livemon.web.auth import grant_of


def _json(data: bytes, status: int = 200) -> Response:
    return Response(data, status_code=status, media_type="application/json")


async def list_sessions(request: Request) -> Response:
    """All sessions the caller may see, with their latest snapshot, sorted by id."""
    current = await request.app.state.redis.hgetall(keys.SNAPSHOTS)
    grant = grant_of(request)
    items = b",".join(current[k] for k in sorted(current) if grant.can_see(k.decode()))
    return _json(b'{"sessions":[' + items + b"]}")


async def session_metrics(request: Request) -> Response:
    """Latest snapshot of one session, or 404 naming the session."""
    session = request.path_params["session"]
    data = await request.app.state.redis.hget(keys.SNAPSHOTS, session)
    if data is None:
        return JSONResponse({"error": f"session '{session}' has no data (yet)"}, status_code=404)
    return _json(data)


async def healthz(request: Request) -> Response:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok", "time": time.time()})


async def readyz(request: Request) -> Response:
    """Readiness: Redis answers and the engine is not too far behind."""
    settings = request.app.state.settings
    try:
        lag = await telemetry.total_lag(request.app.state.redis, settings.partitions)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; the reason goes to the caller
        return _json(orjson.dumps({"status": "unavailable", "error": f"redis: {exc}"}), status=503)
    if lag > settings.ready_max_lag:
        return JSONResponse({"status": "lagging", "lag": lag, "max_lag": settings.ready_max_lag}, status_code=503)
    return JSONResponse({"status": "ready", "lag": lag})


async def metrics(request: Request) -> Response:
    """Prometheus text exposition of this process and of stream/engine health."""
    body = await telemetry.render(request.app.state.redis, request.app.state.settings.partitions, time.time())
    return Response(body, media_type="text/plain; version=0.0.4")
