"""Who may call what: token or cookie authentication, per-route permissions, CSRF, sign-in.

Apply to a route with one decorator::

    @require(Permission.VIEW)                # JSON API: 401/403 JSON answers
    @require(Permission.VIEW, page=True)     # HTML page: redirect to /login when signed out
    @require(Permission.RESPOND)             # state-changing: CSRF-checked when cookie-authenticated

Credentials, in order: `Authorization: Bearer lmt_…` (scripts, tests; no CSRF risk because
browsers never attach it by themselves), then the signed `lm_session` cookie a browser gets
from `/login`. A route whose path has `{session}` is refused (403) for a token that may not
see that session; handlers that list sessions narrow with `grant_of(request).can_see`.

CSRF (double submit + Origin): `/login` also sets a readable `lm_csrf` cookie whose value is
inside the signed session cookie. A cookie-authenticated POST/PUT/PATCH/DELETE must send it
back in the `X-CSRF-Token` header, and its `Origin` (when the browser sends one) must be this
host. Both cookies are SameSite=Strict; the session cookie is HttpOnly. Cookies are only
issued by a same-origin `POST /login`: a sign-in link (`GET /login?token=`) shows a form to
confirm, so no other site can sign a visitor into a token of its choosing (login CSRF).
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from html import escape
from urllib.parse import parse_qs, quote, urlsplit

import orjson
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from livemon import keys
from livemon.tokens import Grant, Permission, TokenStore

log = logging.getLogger(__name__)

SESSION_COOKIE = "lm_session"
CSRF_COOKIE = "lm_csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_MAX_AGE_S = 30 * 86400
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PERMISSION_ATTR = "__livemon_permission__"
MAX_LOGIN_BODY_BYTES = 4096

Endpoint = Callable[[Request], Awaitable[Response]]


async def cookie_serializer(conn: HTTPConnection) -> URLSafeTimedSerializer:
    """The cookie signer, keyed by a random secret shared by all web nodes through Redis.

    Keeping the key in Redis (not in each process) means a restarted or added web node
    accepts the cookies the others issued, so browsers stay signed in across restarts.
    """
    state = conn.app.state
    serializer: URLSafeTimedSerializer | None = getattr(state, "cookie_serializer", None)
    if serializer is None:
        redis = state.redis
        await redis.set(keys.COOKIE_KEY, secrets.token_hex(32), nx=True)
        secret = await redis.get(keys.COOKIE_KEY)
        serializer = URLSafeTimedSerializer(secret, salt="livemon-session")
        state.cookie_serializer = serializer
    return serializer


def _bearer(conn: HTTPConnection) -> str | None:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _cookie_payload(conn: HTTPConnection) -> dict[str, str] | None:
    raw = conn.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        payload = (await cookie_serializer(conn)).loads(raw, max_age=COOKIE_MAX_AGE_S)
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


async def authenticate(conn: HTTPConnection) -> tuple[Grant | None, str]:
    """Return the caller's grant (None when signed out) and how it was proven: 'bearer' or 'cookie'.

    A websocket may also pass `?token=` because browsers cannot set headers on one.
    """
    store = TokenStore(conn.app.state.redis)
    now = time.time()
    token = _bearer(conn) or (conn.query_params.get("token") if conn.scope["type"] == "websocket" else None)
    if token:
        return await store.verify(token, now), "bearer"
    payload = await _cookie_payload(conn)
    if payload is None:
        return None, "cookie"
    return await store.lookup(str(payload.get("t", "")), now), "cookie"


def same_origin(conn: HTTPConnection) -> bool:
    """True when the request has no Origin header or its Origin is this host.

    Our pages send no Referer, so browsers send `Origin: null` with their form posts; then the
    browser's own `Sec-Fetch-Site` (which no page script can set) must say the post came from
    this site.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return conn.headers.get("sec-fetch-site") == "same-origin"
    return urlsplit(origin).netloc == conn.headers.get("host", "")


async def csrf_problem(request: Request) -> str | None:
    """Why a cookie-authenticated state-changing request is refused, or None when it is fine."""
    if not same_origin(request):
        return f"cross-site request refused: Origin {request.headers.get('origin')!r} is not this host"
    payload = await _cookie_payload(request)
    expected = (payload or {}).get("c", "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        return f"missing or wrong CSRF token: send the '{CSRF_COOKIE}' cookie's value in the 'X-CSRF-Token' header"
    return None


def grant_of(request: Request) -> Grant:
    """The grant `require` attached to this request."""
    grant: Grant = request.state.grant
    return grant


def _refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def require(permission: Permission, *, page: bool = False) -> Callable[[Endpoint], Endpoint]:
    """Decorate an endpoint so only callers holding `permission` (and the `{session}` it names) reach it."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            grant, method = await authenticate(request)
            if grant is None:
                if page and request.method == "GET":
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
                return _refuse(401, "sign in: send 'Authorization: Bearer <token>' or sign in at /login")
            if not grant.allows(permission):
                return _refuse(403, f"role '{grant.role.value}' may not {permission.value}")
            session = request.path_params.get("session")
            if isinstance(session, str) and not grant.can_see(session):
                return _refuse(403, f"this token may not see session {session!r}")
            if method == "cookie" and request.method in UNSAFE_METHODS:
                problem = await csrf_problem(request)
                if problem:
                    return _refuse(403, problem)
            request.state.grant = grant
            return await endpoint(request)

        setattr(guarded, PERMISSION_ATTR, permission)
        return guarded

    return decorate


def _safe_next(raw: str | None) -> str:
    """Only same-site paths: refuse `//evil.example` and absolute URLs (open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/wall"
    return raw


_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livemon: sign in</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/css/base.css"></head>
<body class="login"><main><h1>livemon</h1>
<form method="post" action="/login">
<label>Access token <input name="token" type="password" autocomplete="off" required></label>
<input type="hidden" name="next" value="{next}">
<button type="submit">Sign in</button></form>
<p class="error" role="alert">{error}</p></main></body></html>
"""

_CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livemon: sign in</title>
<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/css/base.css"></head>
<body class="login"><main><h1>livemon</h1>
<p>Sign in as <strong class="role">{role}</strong> for {sessions}{label}?</p>
<form method="post" action="/login">
<input type="hidden" name="token" value="{token}">
<input type="hidden" name="next" value="{next}">
<button type="submit">Sign in</button></form></main></body></html>
"""


def _private(response: HTMLResponse) -> HTMLResponse:
    """Keep a page that carries a token out of caches (every page already sends no Referer)."""
    response.headers["cache-control"] = "no-store"
    return response


def _login_page(next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    return _private(
        HTMLResponse(_LOGIN_PAGE.format(next=escape(next_path), error=escape(error)), status_code=status)
    )


async def _confirm_page(request: Request, token: str, next_path: str) -> HTMLResponse:
    """Ask before signing in with a link's token.

    Signing in straight from `GET /login?token=` would let any site sign a visitor into the
    attacker's own token (login CSRF) with a plain link or image; a same-origin POST from this
    page cannot be forged that way.
    """
    grant = await TokenStore(request.app.state.redis).verify(token, time.time())
    if grant is None:
        return _login_page(next_path, "This token is not valid (wrong, expired or revoked).", status=401)
    sessions = "all sessions" if grant.sessions is None else "sessions " + ", ".join(sorted(grant.sessions))
    label = f" ({grant.label})" if grant.label else ""
    page = _CONFIRM_PAGE.format(
        role=escape(grant.role.value), sessions=escape(sessions), label=escape(label),
        token=escape(token), next=escape(next_path),
    )
    return _private(HTMLResponse(page))


async def _sign_in(request: Request, token: str, next_path: str) -> Response:
    grant = await TokenStore(request.app.state.redis).verify(token, time.time())
    if grant is None:
        return _login_page(next_path, "This token is not valid (wrong, expired or revoked).", status=401)
    csrf = secrets.token_urlsafe(24)
    cookie = (await cookie_serializer(request)).dumps({"t": grant.token_id, "c": csrf})
    max_age = COOKIE_MAX_AGE_S
    if grant.expires_at is not None:
        max_age = max(1, min(max_age, int(grant.expires_at - time.time())))
    response = RedirectResponse(next_path, status_code=303)
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, httponly=True, samesite="strict", secure=secure)
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure)
    log.info("token %s (%s) signed in", grant.token_id, grant.role.value)
    return response


async def login(request: Request) -> Response:
    """GET shows the form (or, with `?token=`, asks to confirm); POST signs in with the form's token."""
    if request.method == "GET":
        next_path = _safe_next(request.query_params.get("next"))
        token = request.query_params.get("token")
        return await _confirm_page(request, token, next_path) if token else _login_page(next_path)
    if not same_origin(request):
        return _refuse(403, f"cross-site sign-in refused: Origin {request.headers.get('origin')!r} is not this host")
    body = await request.body()
    if len(body) > MAX_LOGIN_BODY_BYTES:
        return _refuse(413, f"sign-in form is larger than {MAX_LOGIN_BODY_BYTES} bytes")
    # A plain urlencoded form: parsed here rather than adding python-multipart for two fields.
    try:
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
    except ValueError:
        return _login_page("/wall", "The sign-in form has too many fields.", status=400)
    token = (form.get("token") or [""])[0]
    next_path = _safe_next((form.get("next") or [""])[0])
    if not token:
        return _login_page(next_path, "Enter an access token.", status=400)
    return await _sign_in(request, token, next_path)


async def logout(request: Request) -> Response:
    """Forget the browser's session cookies (the token itself stays valid; revoke it to end it)."""
    if not same_origin(request):
        return _refuse(403, "cross-site sign-out refused")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


class ConnectionCounter:
    """Websockets open per token in this process, to cap what one leaked token can hold."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: dict[str, int] = {}

    def acquire(self, token_id: str) -> bool:
        """Count one more connection; False (and nothing counted) when at the limit."""
        if self.open.get(token_id, 0) >= self.limit:
            return False
        self.open[token_id] = self.open.get(token_id, 0) + 1
        return True

    def release(self, token_id: str) -> None:
        """Forget one connection of `token_id`."""
        left = self.open.get(token_id, 0) - 1
        if left > 0:
            self.open[token_id] = left
        else:
            self.open.pop(token_id, None)


def error_message(text: str) -> str:
    """A wire error message (websocket)."""
    return orjson.dumps({"type": keys.MSG_ERROR, "v": keys.WIRE_VERSION, "error": text}).decode()

