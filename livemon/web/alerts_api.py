"""Alert JSON API: current alerts, the audit trail, responder actions, silences, deliveries.

Reads come straight from Redis (`lm:alerts:active`, the `lm:alerts` audit stream,
`lm:silences`, `lm:notify:*`). Actions are commands appended to `lm:alerts:cmd`: the
engines own the alert book and apply each command on their next tick (≤ 1 s), and the
resulting transition appears in the audit stream and on every websocket. So an action
answers 202 Accepted with the command id, not the new state.

Every response is narrowed to the sessions the caller's token may see.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from livemon import keys
from livemon.alerting import COMMAND_FIELD
from livemon.command_streams import is_stream_id
from livemon.web.auth import grant_of

MAX_BODY_BYTES = 16 * 1024
MAX_LIMIT = 5000
TRAIL_LOOKBACK_S = 7 * 24 * 3600
MAX_SILENCE_S = 7 * 24 * 3600
STATES = ("pending", "firing", "resolved", "inactive")
SEVERITIES = ("info", "warning", "critical")
MATCHER_NAMES_MAX = 10
MAX_EPOCH_S = 4_102_444_800.0  # 2100-01-01, as for event times


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _number(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_EPOCH_S:  # also refuses nan and inf
        raise ValueError(f"query '{name}': expected epoch seconds (0-{MAX_EPOCH_S:.0f}), got {raw!r}")
    return value


def _filters(request: Request) -> dict[str, Any]:
    """Validated query filters; raises ValueError naming the bad one."""
    q = request.query_params
    state, severity = q.get("state", ""), q.get("severity", "")
    if state and state not in (*STATES, "active"):
        raise ValueError(f"query 'state': expected one of active, {', '.join(STATES)}; got {state!r}")
    if severity and severity not in SEVERITIES:
        raise ValueError(f"query 'severity': expected one of {', '.join(SEVERITIES)}; got {severity!r}")
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise ValueError(f"query 'limit': expected an integer, got {q.get('limit')!r}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"query 'limit': expected 1-{MAX_LIMIT}, got {limit}")
    return {"session": q.get("session", ""), "state": state, "severity": severity, "limit": limit,
            "since": _number(request, "since"), "until": _number(request, "until")}


def _keep(record: dict[str, Any], f: dict[str, Any], at_key: str) -> bool:
    state = record.get("state")
    if f["session"] and record.get("session") != f["session"]:
        return False
    if f["state"] == "active" and state not in ("pending", "firing"):
        return False
    if f["state"] and f["state"] != "active" and state != f["state"]:
        return False
    if f["severity"] and record.get("severity") != f["severity"]:
        return False
    at = record.get(at_key) or 0
    return (f["since"] is None or at >= f["since"]) and (f["until"] is None or at <= f["until"])


async def list_alerts(request: Request) -> Response:
    """Alerts the engines hold now (open, and resolved within the last minutes), filtered.

    Query: `session`, `state` (active|pending|firing|resolved), `severity`, `since`/`until`
    (epoch s, on the alert's start), `limit`.
    """
    try:
        f = _filters(request)
    except ValueError as exc:
        return _error(400, str(exc))
    grant = grant_of(request)
    raw = await request.app.state.redis.hgetall(keys.ALERTS_ACTIVE)
    alerts = [orjson.loads(v) for v in raw.values()]
    alerts = [a for a in alerts if grant.can_see(a["session"]) and _keep(a, f, "started_at")]
    alerts.sort(key=lambda a: (-SEVERITIES.index(a["severity"]), -(a.get("fired_at") or a["started_at"])))
    return JSONResponse({"alerts": alerts[: f["limit"]]})


async def list_transitions(request: Request) -> Response:
    """The audit trail: transitions with their stream ids, oldest first.

    Query: the filters of `list_alerts` (time on the transition's `at`), plus `after` (a
    stream id: continue after it) for paging; the answer's `next` is the id to pass on.
    """
    try:
        f = _filters(request)
    except ValueError as exc:
        return _error(400, str(exc))
    after = request.query_params.get("after")
    if after and not is_stream_id(after):
        return _error(400, "query 'after': expected a stream id like 1700000000000-0")
    start = f"({after}" if after else (str(int(f["since"] * 1000)) if f["since"] is not None else "-")
    try:
        out, last = await _scan(request, start, f, lambda r: True, f["limit"])
    except ValueError as exc:
        return _error(400, str(exc))
    return JSONResponse({"transitions": out, "next": last})


async def _scan(request: Request, start: str, f: dict[str, Any], extra: Any, limit: int,
                ) -> tuple[list[dict[str, Any]], str | None]:
    grant = grant_of(request)
    redis = request.app.state.redis
    out: list[dict[str, Any]] = []
    last: str | None = None
    while len(out) < limit:
        try:
            entries = await redis.xrange(keys.ALERTS, min=start, max="+", count=500)
        except Exception as exc:  # a malformed `after` id is the caller's error
            if "Invalid stream ID" in str(exc):
                raise ValueError("query 'after': expected a stream id like 1700000000000-0") from None
            raise
        for raw_id, fields in entries:
            last = raw_id.decode()
            record = orjson.loads(fields[keys.ALERT_RECORD_FIELD.encode()])
            if grant.can_see(record["session"]) and _keep(record, f, "at") and extra(record):
                out.append({"id": last, **record})
                if len(out) >= limit:
                    break
        if len(entries) < 500:
            break
        start = f"({last}"
    return out, last


async def alert_detail(request: Request) -> Response:
    """One alert and its audit trail (the last week)."""
    fingerprint = request.path_params["fingerprint"]
    raw = await request.app.state.redis.hget(keys.ALERTS_ACTIVE, fingerprint)
    alert = orjson.loads(raw) if raw else None
    f = {"session": "", "state": "", "severity": "", "since": None, "until": None}
    start = str(int((time.time() - TRAIL_LOOKBACK_S) * 1000))
    try:
        trail, _ = await _scan(request, start, f, lambda r: r["fingerprint"] == fingerprint, MAX_LIMIT)
    except ValueError as exc:
        return _error(400, str(exc))
    if alert is None and not trail:
        return _error(404, f"no alert {fingerprint!r} in the last {TRAIL_LOOKBACK_S // 86400} days")
    session = (alert or trail[0])["session"]
    if not grant_of(request).can_see(session):
        return _error(403, f"this token may not see session {session!r}")
    return JSONResponse({"alert": alert, "transitions": trail})


async def _body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ValueError(f"request body is larger than {MAX_BODY_BYTES} bytes")
    if not body:
        return {}
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ValueError("expected a JSON object") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 - bad input: answered 400
    return data


def _actor(request: Request) -> str:
    grant = grant_of(request)
    return grant.label or grant.token_id


async def _command(request: Request, command: dict[str, Any]) -> str:
    raw_id = await request.app.state.redis.xadd(
        keys.ALERT_COMMANDS, {COMMAND_FIELD: orjson.dumps(command)}, maxlen=keys.ALERT_COMMANDS_MAXLEN,
        approximate=True)
    return str(raw_id.decode() if isinstance(raw_id, bytes) else raw_id)


async def _act(request: Request, op: str) -> Response:
    fingerprint = request.path_params["fingerprint"]
    try:
        data = await _body(request)
    except ValueError as exc:
        return _error(400, str(exc))
    note = data.get("note", "")
    if not isinstance(note, str) or len(note) > 2000:
        return _error(400, "field 'note': expected text of at most 2000 characters")
    raw = await request.app.state.redis.hget(keys.ALERTS_ACTIVE, fingerprint)
    if raw is None:
        return _error(404, f"no open alert {fingerprint!r}")
    alert = orjson.loads(raw)
    if not grant_of(request).can_see(alert["session"]):
        return _error(403, f"this token may not see session {alert['session']!r}")
    if alert["state"] not in ("pending", "firing"):
        return _error(409, f"alert {fingerprint!r} is {alert['state']}; only pending or firing alerts can be {op}ed")
    command_id = await _command(request, {"op": op, "fingerprint": fingerprint, "actor": _actor(request),
                                          "note": note, "at": time.time()})
    return JSONResponse({"accepted": True, "command_id": command_id}, status_code=202)


async def ack_alert(request: Request) -> Response:
    """Acknowledge an alert: `{"note": …}`; stops repeat notifications."""
    return await _act(request, "ack")


async def resolve_alert(request: Request) -> Response:
    """Resolve an alert by hand: `{"note": …}`."""
    return await _act(request, "resolve")


async def create_silence(request: Request) -> Response:
    """Silence matching alerts: `{"matchers": {"session": …, "rule": …}, "ends_at" | "duration_s", "reason"}`."""
    try:
        data = await _body(request)
    except ValueError as exc:
        return _error(400, str(exc))
    now = time.time()
    matchers = data.get("matchers")
    if (not isinstance(matchers, dict) or not matchers or len(matchers) > MATCHER_NAMES_MAX
            or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in matchers.items())):
        return _error(400, f"field 'matchers': expected 1-{MATCHER_NAMES_MAX} name -> non-empty text pairs")
    grant = grant_of(request)
    if grant.sessions is not None and matchers.get("session") not in grant.sessions:
        return _error(403, "this token may only silence its own sessions: add a 'session' matcher")
    starts_at = data.get("starts_at", now)
    ends_at = data.get("ends_at")
    if ends_at is None and data.get("duration_s") is not None:
        duration = data["duration_s"]
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            return _error(400, "field 'duration_s': expected seconds")
        ends_at = now + duration
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _error(400, f"field '{name}': expected epoch seconds")
    assert isinstance(starts_at, (int, float)) and isinstance(ends_at, (int, float))
    if not starts_at < ends_at <= now + MAX_SILENCE_S or ends_at <= now:
        return _error(400, f"field 'ends_at': expected after starts_at and now, at most {MAX_SILENCE_S // 86400} "
                      "days ahead")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        return _error(400, "field 'reason': expected a non-empty text of at most 2000 characters")
    silence = {"matchers": matchers, "starts_at": float(starts_at), "ends_at": float(ends_at),
               "actor": _actor(request), "reason": reason}
    silence_id = await _command(request, {"op": "silence", **silence, "at": now})
    record = {"id": silence_id, **silence, "creator": silence["actor"]}
    await request.app.state.redis.hset(keys.SILENCES, silence_id, orjson.dumps(record))
    return JSONResponse({"silence": record}, status_code=201)


async def list_silences(request: Request) -> Response:
    """Silences that have not ended, visible to the caller."""
    grant = grant_of(request)
    now = time.time()
    raw = await request.app.state.redis.hgetall(keys.SILENCES)
    out = [orjson.loads(v) for v in raw.values()]
    ended = [s["id"] for s in out if s["ends_at"] <= now]
    if ended:
        await request.app.state.redis.hdel(keys.SILENCES, *ended)
    visible = [s for s in out if s["ends_at"] > now
               and (grant.sessions is None or s["matchers"].get("session") in grant.sessions)]
    return JSONResponse({"silences": sorted(visible, key=lambda s: s["ends_at"])})


async def expire_silence(request: Request) -> Response:
    """End a silence now."""
    silence_id = request.path_params["silence_id"]
    raw = await request.app.state.redis.hget(keys.SILENCES, silence_id)
    if raw is None:
        return _error(404, f"no silence {silence_id!r}")
    silence = orjson.loads(raw)
    grant = grant_of(request)
    if grant.sessions is not None and silence["matchers"].get("session") not in grant.sessions:
        return _error(403, "this token may not end that silence")
    now = time.time()
    command_id = await _command(request, {"op": "expire_silence", "silence_id": silence_id, "actor": _actor(request),
                                          "at": now})
    await request.app.state.redis.hdel(keys.SILENCES, silence_id)
    return JSONResponse({"accepted": True, "command_id": command_id}, status_code=202)


async def deliveries(request: Request) -> Response:
    """Notification health: per-receiver counters and the latest deliveries given up."""
    redis = request.app.state.redis
    status = {k.decode(): orjson.loads(v) for k, v in (await redis.hgetall(keys.NOTIFY_STATUS)).items()}
    failed = [{"id": i.decode(), **orjson.loads(f[b"r"])} for i, f in await redis.xrevrange(keys.NOTIFY_FAILED,
                                                                                           count=100)]
    grant = grant_of(request)
    failed = [f for f in failed if grant.can_see(f.get("session", ""))]
    return JSONResponse({"receivers": status, "failed": failed})
