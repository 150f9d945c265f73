"""The OpenAPI 3.0 description of the HTTP API, served at `/openapi.json`.

Hand-maintained next to the routes: a new endpoint adds its path here (tests/test_fuzz.py
fuzzes every path listed, and fails for a route of the app that is missing here).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from monitor.event_parsing import MAX_AMOUNT, MAX_ID_CHARS, MAX_TEXT_CHARS
from monitor.events import EventType, Platform

_ERROR = {
    "description": "Refused; `error` names the problem",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_SESSION_PARAM = {
    "name": "session", "in": "path", "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
}
_VIEWER_AUTH: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]

_EVENT = {
    "type": "object",
    "required": ["id", "session", "type", "ts"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
        "session": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
        "type": {"type": "string", "enum": [t.value for t in EventType]},
        "ts": {"type": "integer", "minimum": 0},
        "platform": {"type": "string", "enum": [p.value for p in Platform]},
        "user": {"type": "string", "maxLength": 256},
        "text": {"type": "string", "maxLength": MAX_TEXT_CHARS},
        "product": {"type": "string", "maxLength": MAX_ID_CHARS},
        "amount": {"type": "number", "minimum": 0, "maximum": MAX_AMOUNT},
        "qty": {"type": "integer", "minimum": 1},
        "count": {"type": "integer", "minimum": 1},
        "viewers": {"type": "integer", "minimum": 0},
        "stock": {"type": "integer", "minimum": 0},
    },
}

_FINGERPRINT_PARAM = {"name": "fingerprint", "in": "path", "required": True, "schema": {"type": "string"}}
_ALERT_FILTERS = [
    {"name": "session", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "state", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["active", "pending", "firing", "resolved", "inactive"]}},
    {"name": "severity", "in": "query", "required": False,
     "schema": {"type": "string", "enum": ["info", "warning", "critical"]}},
    {"name": "since", "in": "query", "required": False, "schema": {"type": "number"}},
    {"name": "until", "in": "query", "required": False, "schema": {"type": "number"}},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
]
_NOTE_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"note": {"type": "string", "maxLength": 2000}}}}}}
# Alerts (docs/alerts.md): reads from Redis; actions are commands the engines apply within a tick (202).
_ALERT_PATHS: dict[str, Any] = {
    "/api/v1/alerts": {
        "get": {"summary": "Alerts held now, filtered", "security": _VIEWER_AUTH, "parameters": _ALERT_FILTERS,
                "responses": {"200": {"description": "alerts"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/v1/alerts/transitions": {
        "get": {"summary": "Audit trail of alert transitions, oldest first, with stream ids",
                "security": _VIEWER_AUTH,
                "parameters": [*_ALERT_FILTERS, {"name": "after", "in": "query", "required": False,
                                                 "schema": {"type": "string"}}],
                "responses": {"200": {"description": "transitions"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/v1/alerts/deliveries": {
        "get": {"summary": "Notification delivery status per receiver and recent failures (respond)",
                "security": _VIEWER_AUTH,
                "responses": {"200": {"description": "status"}, "401": _ERROR, "403": _ERROR}}},
    "/api/v1/alerts/{fingerprint}": {
        "get": {"summary": "One alert and its audit trail", "security": _VIEWER_AUTH,
                "parameters": [_FINGERPRINT_PARAM],
                "responses": {"200": {"description": "alert"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}},
    "/api/v1/alerts/{fingerprint}/ack": {
        "post": {"summary": "Acknowledge an alert (respond)", "security": _VIEWER_AUTH,
                 "parameters": [_FINGERPRINT_PARAM], "requestBody": _NOTE_BODY,
                 "responses": {"202": {"description": "command accepted"}, "400": _ERROR, "401": _ERROR,
                               "403": _ERROR, "404": _ERROR, "409": _ERROR}}},
    "/api/v1/alerts/{fingerprint}/resolve": {
        "post": {"summary": "Resolve an alert by hand (respond)", "security": _VIEWER_AUTH,
                 "parameters": [_FINGERPRINT_PARAM], "requestBody": _NOTE_BODY,
                 "responses": {"202": {"description": "command accepted"}, "400": _ERROR, "401": _ERROR,
                               "403": _ERROR, "404": _ERROR, "409": _ERROR}}},
    "/api/v1/silences": {
        "get": {"summary": "Silences that have not ended", "security": _VIEWER_AUTH,
                "responses": {"200": {"description": "silences"}, "401": _ERROR, "403": _ERROR}},
        "post": {"summary": "Silence matching alerts (respond)", "security": _VIEWER_AUTH,
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["matchers", "reason"],
                     "properties": {"matchers": {"type": "object", "additionalProperties": {"type": "string"}},
                                    "starts_at": {"type": "number"}, "ends_at": {"type": "number"},
                                    "duration_s": {"type": "number"}, "reason": {"type": "string"}}}}}},
                 "responses": {"201": {"description": "silence"}, "400": _ERROR, "401": _ERROR, "403": _ERROR}}},
    "/api/v1/silences/{silence_id}": {
        "delete": {"summary": "End a silence now (respond)", "security": _VIEWER_AUTH,
                   "parameters": [{"name": "silence_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                   "responses": {"202": {"description": "command accepted"}, "401": _ERROR, "403": _ERROR,
                                 "404": _ERROR}}},
}

_SUGGESTION_PARAMS = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in ("session", "product")]
_SUGGESTION_PATHS: dict[str, Any] = {
    f"/api/v1/sessions/{{session}}/suggestions/{{product}}/{choice}": {
        "post": {"summary": f"Host choice on a product suggestion: {choice} (steer)", "security": _VIEWER_AUTH,
                 "parameters": _SUGGESTION_PARAMS,
                 "responses": {"202": {"description": "choice recorded for the engine"}, "400": _ERROR,
                               "401": _ERROR, "403": _ERROR}}}
    for choice in ("accept", "skip")
}
_SUGGESTION_PATHS["/api/v1/sessions/{session}/questions/{group}/answered"] = {
    "post": {"summary": "Mark an open question group answered (steer)", "security": _VIEWER_AUTH,
             "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                            for name in ("session", "group")],
             "responses": {"202": {"description": "answer recorded for the engine"}, "400": _ERROR,
                           "401": _ERROR, "403": _ERROR}}}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "livemon", "version": "1", "description": "Live-commerce monitor: ingest, metrics, sign-in."},
    "components": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "access token `lmt_…`"},
            "ingest": {"type": "http", "scheme": "bearer", "description": "LIVEMON_INGEST_KEY"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "lm_session"},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "Event": _EVENT,
        },
    },
    "paths": {
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "serving"}}}},
        "/readyz": {"get": {"summary": "Readiness (Redis and engine lag)",
                            "responses": {"200": {"description": "ready"}, "503": _ERROR}}},
        "/api/v1/events": {
            "post": {
                "summary": "Ingest a batch of events (JSON array or NDJSON), all or nothing",
                "security": [{"ingest": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"},
                                                    "maxItems": 5000}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                }},
                "responses": {
                    "200": {"description": "accepted and duplicate counts"},
                    "400": _ERROR, "401": _ERROR, "413": _ERROR, "429": _ERROR, "503": _ERROR,
                },
            }
        },
        "/api/v1/sessions": {
            "get": {"summary": "Latest snapshot of every session the caller may see", "security": _VIEWER_AUTH,
                    "responses": {"200": {"description": "sessions"}, "401": _ERROR, "403": _ERROR}}
        },
        "/api/v1/sessions/{session}/metrics": {
            "get": {"summary": "Latest snapshot of one session", "security": _VIEWER_AUTH,
                    "parameters": [_SESSION_PARAM],
                    "responses": {"200": {"description": "snapshot"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}
        },
        "/api/v1/tokens": {
            "get": {"summary": "List access tokens (admin)", "security": _VIEWER_AUTH,
                    "responses": {"200": {"description": "tokens"}, "401": _ERROR, "403": _ERROR}},
            "post": {"summary": "Create an access token (admin); CSRF header needed with a cookie",
                     "security": _VIEWER_AUTH,
                     "requestBody": {"required": True, "content": {"application/json": {"schema": {
                         "type": "object", "required": ["role"],
                         "properties": {"role": {"type": "string", "enum": ["wall", "host", "responder", "admin"]},
                                        "sessions": {"oneOf": [{"type": "string"},
                                                               {"type": "array", "items": {"type": "string"}}]},
                                        "expires": {"type": "string"}, "label": {"type": "string"}}}}}},
                     "responses": {"201": {"description": "the token, shown once"}, "400": _ERROR, "401": _ERROR,
                                   "403": _ERROR, "413": _ERROR}},
        },
        "/api/v1/tokens/{token_id}": {
            "delete": {"summary": "Revoke an access token (admin)", "security": _VIEWER_AUTH,
                       "parameters": [{"name": "token_id", "in": "path", "required": True,
                                       "schema": {"type": "string"}}],
                       "responses": {"200": {"description": "revoked"}, "401": _ERROR, "403": _ERROR,
                                     "404": _ERROR}},
        },
        **_ALERT_PATHS,
        **_SUGGESTION_PATHS,
        "/sessions/{session}/report.json": {
            "get": {"summary": "Post-live review of a finished session", "security": _VIEWER_AUTH,
                    "parameters": [_SESSION_PARAM,
                                   {"name": "previous", "in": "query", "required": False,
                                    "description": "comma-separated earlier session ids to compare with (at most 10)",
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "report"}, "400": _ERROR, "401": _ERROR, "403": _ERROR,
                                  "404": _ERROR}}
        },
        "/sessions/{session}/products.csv": {
            "get": {"summary": "Per-product table of a session as CSV", "security": _VIEWER_AUTH,
                    "parameters": [_SESSION_PARAM],
                    "responses": {"200": {"description": "CSV"}, "401": _ERROR, "403": _ERROR, "404": _ERROR}}
        },
        "/login": {
            "get": {"summary": "Sign-in form, or sign in with ?token=",
                    "parameters": [{"name": "token", "in": "query", "required": False, "schema": {"type": "string"}},
                                   {"name": "next", "in": "query", "required": False, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "form"}, "303": {"description": "signed in"},
                                  "401": {"description": "invalid token"}}},
            "post": {"summary": "Sign in with a token (form)",
                     "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["token"],
                         "properties": {"token": {"type": "string"}, "next": {"type": "string"}}}}}},
                     "responses": {"303": {"description": "signed in"}, "400": {"description": "no token"},
                                   "401": {"description": "invalid token"}, "403": _ERROR}},
        },
        "/logout": {"post": {"summary": "Forget the session cookies",
                             "responses": {"303": {"description": "signed out"}, "403": _ERROR}}},
    },
}


async def openapi_json(request: Request) -> Response:
    """Serve the API description (public: it holds no data)."""
    return JSONResponse(SPEC)
