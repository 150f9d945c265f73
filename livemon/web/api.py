"""JSON read endpoints: the same numbers the wallboard shows."""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon import keys


def _json(data: bytes, status: int = 200) -> Response:
    return Response(data, status_code=status, media_type="application/json")


async def list_sessions(request: Request) -> Response:
    """All sessions with their latest snapshot, sorted by id."""
    current = await request.app.state.redis.hgetall(keys.SNAPSHOTS)
    items = b",".join(current[k] for k in sorted(current))
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
    """Readiness: Redis answers."""
    try:
        await request.app.state.redis.ping()
    except Exception as exc:  # any failure means "not ready"; the reason goes to the caller
        return _json(orjson.dumps({"status": "unavailable", "error": f"redis: {exc}"}), status=503)
    return JSONResponse({"status": "ready"})
