"""Access control against real uvicorn and Redis: tokens, sign-in cookie, CSRF, per-session websockets."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import orjson
import pytest
import redis
from starlette.routing import Mount, Route, WebSocketRoute
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.typing import Origin

from livemon import keys
from livemon.settings import load_settings
from livemon.web.app import create_app
from livemon.web.auth import CSRF_COOKIE, PERMISSION_ATTR, SESSION_COOKIE
from tests import redis_sync
from tests.support import Stack, create_token, wait_for

# Routes that are open on purpose, each with its own check: health probes, sign-in, the API
# description, static files, the Prometheus scrape, and ingest/webhooks (ingest key or signature).
PUBLIC = {
    "/healthz", "/readyz", "/metrics", "/login", "/logout", "/openapi.json", "/static",
    "/api/v1/events", "/api/v1/webhooks/shopify", "/api/v1/webhooks/tiktok-shop", "/api/v1/webhooks/doudian",
    "/api/v1/douyin/messages", "/ws/ingest/douyin", "/ws",
}
FRAMER = "https://studio.example.com"


@pytest.fixture(scope="module")
def web(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One web process for the module (no engine: tests write snapshots as the engine would)."""
    running = Stack(redis_url, tmp_path_factory.mktemp("auth"), with_engine=False,
                    LIVEMON_WS_PER_TOKEN="2", LIVEMON_FRAME_ANCESTORS=FRAMER).start()
    client = redis.Redis.from_url(redis_url)
    for session in ("room-a", "room-b"):  # what the engine would have published
        client.hset(keys.SNAPSHOTS, session, orjson.dumps({"session": session, "online": 1}))
    client.close()
    yield running
    running.stop()


def anonymous(stack: Stack) -> httpx.Client:
    return httpx.Client(base_url=stack.url, timeout=10)


def signed_in(stack: Stack, token: str) -> httpx.Client:
    """A browser-like client holding the session cookies from /login."""
    client = anonymous(stack)
    response = client.post("/login", data={"token": token, "next": "/wall"})
    assert response.status_code == 303 and response.headers["location"] == "/wall"
    return client


def test_auth_every_route_is_guarded_or_deliberately_public(tmp_path: Path) -> None:
    app = create_app(load_settings({"LIVEMON_DATA_DIR": str(tmp_path), "LIVEMON_INGEST_KEY": "k"}))
    unguarded = []
    for route in app.routes:
        if isinstance(route, Mount | WebSocketRoute):
            continue
        assert isinstance(route, Route)
        if route.path not in PUBLIC and not hasattr(route.endpoint, PERMISSION_ATTR):
            unguarded.append(route.path)
    assert unguarded == [], "wrap these with auth.require(...) or list them in PUBLIC with a reason"


def test_auth_anonymous_api_gets_401_and_pages_redirect_to_login(web: Stack) -> None:
    with anonymous(web) as client:
        api = client.get("/api/v1/sessions")
        page = client.get("/wall?lang=zh")
    assert api.status_code == 401
    assert "/login" in api.json()["error"]
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fwall%3Flang%3Dzh"


def test_auth_login_sets_httponly_strict_cookie_that_reads_the_api(web: Stack) -> None:
    with closing(signed_in(web, web.token("wall"))) as client:
        cookies = client.cookies
        assert client.get("/api/v1/sessions").status_code == 200
        assert client.get("/wall").status_code == 200
        assert client.get("/healthz").headers.get_list("set-cookie") == []  # only /login issues cookies
    assert SESSION_COOKIE in cookies and CSRF_COOKIE in cookies
    with anonymous(web) as client:
        raw = client.post("/login", data={"token": web.token("wall")}).headers.get_list("set-cookie")
    session_cookie = next(c for c in raw if c.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session_cookie and "SameSite=strict" in session_cookie
    assert next(c for c in raw if c.startswith(CSRF_COOKIE)).count("HttpOnly") == 0


def test_auth_login_refuses_bad_token_and_open_redirect(web: Stack) -> None:
    with anonymous(web) as client:
        bad = client.get("/login", params={"token": "lmt_000000000000_nope-nope-nope-nope-nope"})
        offsite = client.post("/login", data={"token": web.token("wall"), "next": "//evil.example/x"})
        form = client.post("/login", data={"token": web.token("wall"), "next": "/wall"})
        cross_site = client.post("/login", data={"token": web.token("wall")}, headers={"Origin": "https://evil.example"})
        opaque = client.post("/login", data={"token": web.token("wall")},
                             headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"})
    assert bad.status_code == 401 and "not valid" in bad.text
    assert offsite.headers["location"] == "/wall"
    assert form.status_code == 303
    assert cross_site.status_code == 403 and "evil.example" in cross_site.json()["error"]
    assert opaque.status_code == 403  # a sandboxed frame or data: page elsewhere


def test_auth_sign_in_link_only_asks_so_no_site_can_sign_a_visitor_in(web: Stack) -> None:
    token = web.token("host", "room-a")
    with anonymous(web) as client:
        link = client.get("/login", params={"token": token, "next": "//evil.example/x"})
        assert link.status_code == 200 and link.headers.get_list("set-cookie") == []
        assert client.get("/api/v1/sessions").status_code == 401  # following the link signed nobody in
        assert "host" in link.text and "room-a" in link.text
        assert link.headers["referrer-policy"] == "no-referrer" and link.headers["cache-control"] == "no-store"
        assert 'name="next" value="/wall"' in link.text  # the off-site target was dropped
        confirmed = client.post("/login", data={"token": token, "next": "/wall"})
        assert confirmed.status_code == 303 and client.get("/api/v1/sessions").status_code == 200


def test_auth_host_token_sees_only_its_sessions_over_http(web: Stack) -> None:
    host = web.token("host", "room-a")
    with anonymous(web) as client:
        client.headers["Authorization"] = f"Bearer {host}"
        listed = [s["session"] for s in client.get("/api/v1/sessions").json()["sessions"]]
        own = client.get("/api/v1/sessions/room-a/metrics")
        other = client.get("/api/v1/sessions/room-b/metrics")
    assert listed == ["room-a"]
    assert own.status_code == 200
    assert other.status_code == 403 and "room-b" in other.json()["error"]


def _snapshot_sessions(ws: object, batches: int) -> set[str]:
    seen: set[str] = set()
    for _ in range(batches):
        message = orjson.loads(ws.recv(timeout=10))  # type: ignore[attr-defined]
        seen |= {m["session"] for m in message.get("messages", []) if m["type"] == "snapshot"}
    return seen


def test_auth_host_websocket_never_receives_another_room(web: Stack, redis_url: str) -> None:
    host = web.token("host", "room-a")
    client = redis.Redis.from_url(redis_url)
    with connect(f"{web.ws_url.split('?')[0]}?token={host}") as ws:
        assert orjson.loads(ws.recv(timeout=5))["type"] == "hello"
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": ["room-a", "room-b"]}).decode())
        assert "room-b" in orjson.loads(ws.recv(timeout=5))["error"]
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": "*"}).decode())
        for session in ("room-b", "room-a", "room-b"):  # as the engine publishes updates
            client.xadd(keys.UPDATES, {"s": session, "d": orjson.dumps({"session": session, "online": 2})})
        seen = _snapshot_sessions(ws, 3)
    client.close()
    assert seen == {"room-a"}


def test_auth_websocket_refuses_anonymous_foreign_origin_and_too_many(web: Stack) -> None:
    base = web.ws_url.split("?")[0]
    with connect(base) as ws, pytest.raises(ConnectionClosed) as anonymous_close:
        ws.recv(timeout=5)
    assert anonymous_close.value.rcvd is not None and anonymous_close.value.rcvd.code == 4401
    wall = web.token("wall")
    evil = Origin("https://evil.example")
    with connect(f"{base}?token={wall}", origin=evil) as ws, pytest.raises(ConnectionClosed) as foreign:
        ws.recv(timeout=5)
    assert foreign.value.rcvd is not None and foreign.value.rcvd.code == 4403
    with connect(f"{base}?token={wall}") as first, connect(f"{base}?token={wall}") as second:
        assert orjson.loads(first.recv(timeout=5))["type"] == "hello"
        assert orjson.loads(second.recv(timeout=5))["type"] == "hello"
        with connect(f"{base}?token={wall}") as third, pytest.raises(ConnectionClosed) as too_many:
            third.recv(timeout=5)
    assert too_many.value.rcvd is not None and too_many.value.rcvd.code == 4429
    with connect(f"{base}?token={wall}") as again:  # closing frees the slots
        assert orjson.loads(again.recv(timeout=5))["type"] == "hello"


def test_auth_cookie_writes_need_the_csrf_header_and_same_origin(web: Stack) -> None:
    with closing(signed_in(web, web.token("admin"))) as client:
        body = {"role": "wall", "sessions": ["room-a"], "expires": "1h"}
        no_header = client.post("/api/v1/tokens", json=body)
        wrong = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": "guess"})
        csrf = client.cookies[CSRF_COOKIE]
        foreign = client.post("/api/v1/tokens", json=body,
                              headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
        ok = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf, "Origin": web.url})
    assert no_header.status_code == 403 and "X-CSRF-Token" in no_header.json()["error"]
    assert wrong.status_code == 403
    assert foreign.status_code == 403 and "Origin" in foreign.json()["error"]
    assert ok.status_code == 201 and ok.json()["sessions"] == ["room-a"]


def test_auth_roles_limit_what_a_token_may_do(web: Stack) -> None:
    with anonymous(web) as client:
        client.headers["Authorization"] = f"Bearer {web.token('responder')}"
        responder = client.get("/api/v1/tokens")
    assert responder.status_code == 403 and "responder" in responder.json()["error"]
    with anonymous(web) as client:
        client.headers["Authorization"] = f"Bearer {web.token('admin')}"
        assert client.post("/api/v1/tokens", json={"role": "host"}).json()["error"].startswith("field sessions")


def test_auth_revoked_or_expired_token_loses_access_at_once(web: Stack, redis_url: str) -> None:
    token = web.token("wall")
    token_id = token.split("_")[1]
    with closing(signed_in(web, token)) as client, connect(f"{web.ws_url.split('?')[0]}?token={token}") as ws:
        assert orjson.loads(ws.recv(timeout=5))["type"] == "hello"
        ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": "*"}).decode())
        assert client.get("/api/v1/sessions").status_code == 200
        revoked = subprocess.run([sys.executable, "-m", "livemon", "token", "revoke", token_id],
                                 env=web.env, capture_output=True, text=True, check=True)
        assert f"revoked {token_id}" in revoked.stdout
        assert client.get("/api/v1/sessions").status_code == 401
        with pytest.raises(ConnectionClosed) as closed:  # an open screen must not outlive its token
            while True:
                ws.recv(timeout=15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    expiring = create_token(redis_url, "wall", expires_at=time.time() + 1)
    with anonymous(web) as client:
        client.headers["Authorization"] = f"Bearer {expiring}"
        wait_for(lambda: client.get("/api/v1/sessions").status_code == 401, 5, "token to expire")


def test_auth_token_cli_creates_lists_and_stores_only_a_hash(web: Stack, redis_url: str) -> None:
    created = subprocess.run(
        [sys.executable, "-m", "livemon", "token", "create", "--role", "host", "--sessions", "room-a,room-b",
         "--expires", "2h", "--label", "studio", "--quiet"],
        env=web.env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    token_id, secret = created.split("_")[1], created.split("_", 2)[2]
    listed = subprocess.run([sys.executable, "-m", "livemon", "token", "list"], env=web.env,
                            capture_output=True, text=True, check=True).stdout
    assert any(line.startswith(token_id) and "host" in line and "room-a,room-b" in line for line in listed.splitlines())
    client = redis.Redis.from_url(redis_url)
    stored = b"".join(v for v in redis_sync.hgetall(client, keys.token_key(token_id)).values())
    client.close()
    assert secret.encode() not in stored and created.encode() not in stored
    bad = subprocess.run([sys.executable, "-m", "livemon", "token", "create", "--role", "host"],
                         check=False, env=web.env, capture_output=True, text=True)
    assert bad.returncode != 0 and "must name its sessions" in bad.stderr


def test_auth_only_the_overlay_may_be_framed(web: Stack) -> None:
    with anonymous(web) as client:
        wall_csp = client.get("/login").headers["content-security-policy"]
        overlay_csp = client.get("/overlay/room-a").headers["content-security-policy"]
    assert wall_csp.endswith("frame-ancestors 'none'")
    assert overlay_csp.endswith(f"frame-ancestors {FRAMER}")
    assert "script-src 'self'" in wall_csp
