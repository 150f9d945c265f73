"""Admin JSON API for access tokens: list, create, revoke (the same store as `livemon token`)."""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon.tokens import TokenError, TokenStore, parse_expiry, parse_role, parse_sessions

MAX_BODY_BYTES = 16 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def list_tokens(request: Request) -> Response:
    """Every live token without its secret."""
    grants = await TokenStore(request.app.state.redis).list(time.time())
    return JSONResponse({"tokens": [g.to_public() for g in grants]})


async def create_token(request: Request) -> Response:
    """Create a token from `{"role": …, "sessions": "*" | [ids], "expires": "30d", "label": …}`."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return _error(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _error(400, "expected a JSON object with 'role', optional 'sessions', 'expires', 'label'")
    if not isinstance(data, dict):
        return _error(400, "expected a JSON object with 'role', optional 'sessions', 'expires', 'label'")
    role, sessions = data.get("role"), data.get("sessions", "*")
    expires, label = data.get("expires", "30d"), data.get("label", "")
    if not isinstance(role, str):
        return _error(400, "field 'role': expected one of wall, host, responder, admin")
    if isinstance(sessions, list) and all(isinstance(s, str) and s and "," not in s for s in sessions):
        sessions = ",".join(sessions) or "*"
    if not isinstance(sessions, str):
        return _error(400, "field 'sessions': expected '*' or a list of session ids")
    if not isinstance(expires, str):
        return _error(400, "field 'expires': expected 'never' or a duration like 12h, 30d")
    if not isinstance(label, str) or len(label) > 200:
        return _error(400, "field 'label': expected text of at most 200 characters")
    try:
        token, grant = await TokenStore(request.app.state.redis).create(
            parse_role(role), parse_sessions(sessions), parse_expiry(expires, time.time()), label
        )
    except TokenError as exc:
        return _error(400, f"field {exc}")
    return JSONResponse({"token": token, **grant.to_public()}, status_code=201)


async def revoke_token(request: Request) -> Response:
    """Revoke one token by id."""
    token_id = request.path_params["token_id"]
    if not await TokenStore(request.app.state.redis).revoke(token_id):
        return _error(404, f"no token with id {token_id!r}")
    return JSONResponse({"revoked": token_id})
