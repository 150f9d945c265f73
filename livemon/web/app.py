"""Build the Starlette application: ingest, JSON API, pages, websocket, static files."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from ingest.doudian import doudian_webhook
from ingest.douyin_webcast import post_messages, websocket_ingest
from ingest.http_api import ingest_slots, post_events
from ingest.rate_limit import RateLimiter
from ingest.shopify import shopify_webhook
from ingest.tiktok_shop import tiktok_shop_webhook
from ingest.writer import EventWriter
from livemon.notifier import Notifier
from livemon.redis_client import connect
from livemon.settings import Settings
from livemon.tokens import Permission
from livemon.web import alerts_api, api, auth, openapi, pages, questions_api, report_pages, suggestions_api, tokens_api
from livemon.web.alert_feed import AlertFeed
from livemon.web.auth import require
from livemon.web.hub import Hub
from livemon.web.security_headers import SecurityHeaders
from livemon.web.websocket import websocket_endpoint
from monitor.alert_config import load_alert_config

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Starlette:
    """Return the web application for these settings."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.redis = connect(settings.redis_url)
        reader = connect(settings.redis_url, blocking_reader=True)
        app.state.writer = EventWriter(
            app.state.redis, settings.partitions, settings.dedup_ttl_s, settings.stream_maxlen
        )
        app.state.hub = Hub(reader)
        app.state.ws_connections = auth.ConnectionCounter(settings.ws_per_token)
        app.state.ingest_slots = ingest_slots()
        app.state.rate_limiter = RateLimiter(app.state.redis, settings.ingest_rate, settings.ingest_burst)
        alerts_reader = connect(settings.redis_url, blocking_reader=True)
        notify_reader = connect(settings.redis_url, blocking_reader=True)
        app.state.alert_feed = AlertFeed(alerts_reader, app.state.redis, app.state.hub)
        notifier = Notifier(load_alert_config(), notify_reader, app.state.redis)
        tasks = [asyncio.create_task(app.state.hub.run()), asyncio.create_task(app.state.hub.heartbeat()),
                 asyncio.create_task(app.state.alert_feed.run()), asyncio.create_task(notifier.run())]
        try:
            yield
        finally:
            for task in tasks:  # stop producers first, then close the connections they use
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await reader.aclose()
            await alerts_reader.aclose()
            await notify_reader.aclose()
            await app.state.redis.aclose()

    routes = [
        # Every route states who may call it (docs/security.md); tests/test_auth.py fails on an unguarded one.
        Route("/", require(Permission.VIEW, page=True)(pages.wallboard)),
        Route("/wall", require(Permission.VIEW, page=True)(pages.wallboard)),
        Route("/overlay/{session}", require(Permission.VIEW, page=True)(pages.overlay)),
        Route("/incidents", require(Permission.VIEW, page=True)(pages.incidents)),
        Route("/sessions/{session}/report", require(Permission.VIEW, page=True)(report_pages.report_page)),
        Route("/sessions/{session}/report.json", require(Permission.VIEW)(report_pages.report_json)),
        Route("/sessions/{session}/products.csv", require(Permission.VIEW)(report_pages.products_csv_export)),
        Route("/login", auth.login, methods=["GET", "POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/openapi.json", openapi.openapi_json),
        Route("/healthz", api.healthz),
        Route("/readyz", api.readyz),
        Route("/metrics", api.metrics),
        Route("/api/v1/events", post_events, methods=["POST"]),
        # Adapters (docs/ingest.md): webhooks prove themselves by platform signature, fetchers by ingest key.
        Route("/api/v1/webhooks/shopify", shopify_webhook, methods=["POST"]),
        Route("/api/v1/webhooks/tiktok-shop", tiktok_shop_webhook, methods=["POST"]),
        Route("/api/v1/webhooks/doudian", doudian_webhook, methods=["POST"]),
        Route("/api/v1/douyin/messages", post_messages, methods=["POST"]),
        WebSocketRoute("/ws/ingest/douyin", websocket_ingest),
        Route("/api/v1/sessions", require(Permission.VIEW)(api.list_sessions)),
        Route("/api/v1/sessions/{session}/metrics", require(Permission.VIEW)(api.session_metrics)),
        Route("/api/v1/alerts", require(Permission.VIEW)(alerts_api.list_alerts)),
        Route("/api/v1/alerts/transitions", require(Permission.VIEW)(alerts_api.list_transitions)),
        Route("/api/v1/alerts/deliveries", require(Permission.RESPOND)(alerts_api.deliveries)),
        Route("/api/v1/alerts/{fingerprint}", require(Permission.VIEW)(alerts_api.alert_detail)),
        Route("/api/v1/alerts/{fingerprint}/ack", require(Permission.RESPOND)(alerts_api.ack_alert), methods=["POST"]),
        Route("/api/v1/alerts/{fingerprint}/resolve", require(Permission.RESPOND)(alerts_api.resolve_alert),
              methods=["POST"]),
        Route("/api/v1/sessions/{session}/suggestions/{product}/accept",
              require(Permission.STEER)(suggestions_api.accept_suggestion), methods=["POST"]),
        Route("/api/v1/sessions/{session}/suggestions/{product}/skip",
              require(Permission.STEER)(suggestions_api.skip_suggestion), methods=["POST"]),
        Route("/api/v1/sessions/{session}/questions/{group}/answered",
              require(Permission.STEER)(questions_api.mark_answered), methods=["POST"]),
        Route("/api/v1/silences", require(Permission.VIEW)(alerts_api.list_silences)),
        Route("/api/v1/silences", require(Permission.RESPOND)(alerts_api.create_silence), methods=["POST"]),
        Route("/api/v1/silences/{silence_id}", require(Permission.RESPOND)(alerts_api.expire_silence),
              methods=["DELETE"]),
        Route("/api/v1/tokens", require(Permission.ADMIN)(tokens_api.list_tokens)),
        Route("/api/v1/tokens", require(Permission.ADMIN)(tokens_api.create_token), methods=["POST"]),
        Route("/api/v1/tokens/{token_id}", require(Permission.ADMIN)(tokens_api.revoke_token), methods=["DELETE"]),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=str(pages.STATIC_DIR)), name="static"),
    ]
    headers = Middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    return Starlette(routes=routes, lifespan=lifespan, middleware=[headers])
