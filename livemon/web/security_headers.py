"""Security headers on every response: a CSP with no inline script, nosniff, no framing by default.

Only the streamer overlay (`/overlay/…`) may be framed, by the origins in
`LIVEMON_FRAME_ANCESTORS` (e.g. `https://studio.example.com`); every other page keeps
`frame-ancestors 'none'`, so the wall and the incident buttons cannot be clickjacked.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
EMBEDDABLE_PREFIX = "/overlay/"


def _headers(frame_ancestors: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", CSP.format(ancestors=frame_ancestors).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]


class SecurityHeaders:
    """ASGI middleware adding the headers without buffering bodies."""

    def __init__(self, app: ASGIApp, frame_ancestors: str = "'none'") -> None:
        self.app = app
        self.headers = _headers("'none'")
        self.embeddable_headers = _headers(frame_ancestors)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.embeddable_headers if scope["path"].startswith(EMBEDDABLE_PREFIX) else self.headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
