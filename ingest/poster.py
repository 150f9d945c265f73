"""Post event batches to the ingest API with a bounded buffer and retries.

When the API answers 503 (Redis down) or cannot be reached, batches stay in a bounded
buffer and are re-sent in order with exponential backoff, never sooner than the server's
`Retry-After`; the writer's de-duplication by event id makes re-sending safe, so an event
ends up in the streams exactly once however often it was sent.

Exceptions::

    RuntimeError
     ├── IngestRejected   the API refused a batch (4xx); retrying would not help
     └── BufferFull       the buffer holds `max_buffered_batches`; the producer must slow down
"""

from __future__ import annotations

import logging
import time
from collections import deque

import httpx
import orjson

log = logging.getLogger(__name__)

MAX_DELAY_S = 10.0


class IngestRejected(RuntimeError):
    """The API refused a batch for a reason retrying will not fix (4xx)."""


class BufferFull(RuntimeError):
    """Too many batches wait for the API; the oldest are kept, the new one is refused."""


class BatchPoster:
    """Synchronous poster used by the simulator and replay commands."""

    def __init__(self, url: str, key: str, max_buffered_batches: int = 1000, timeout_s: float = 10.0,
                 path: str = "/api/v1/events") -> None:
        self.endpoint = url.rstrip("/") + path
        self.client = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s)
        self.buffer: deque[bytes] = deque()
        self.max_buffered = max_buffered_batches
        self.accepted = 0
        self.duplicates = 0
        self.retries = 0

    def submit(self, events: list[dict[str, object]]) -> None:
        """Queue a batch without sending it.

        Raises:
            BufferFull: `max_buffered_batches` are already waiting.
        """
        if not events:
            return
        if len(self.buffer) >= self.max_buffered:
            raise BufferFull(f"ingest unavailable and {self.max_buffered} batches buffered; slow down or give up")
        self.buffer.append(orjson.dumps(events))

    def post(self, events: list[dict[str, object]]) -> None:
        """Queue a batch and send everything queued, waiting as long as the API is unavailable."""
        self.submit(events)
        self.flush(deadline=None)

    def flush(self, deadline: float | None) -> bool:
        """Send queued batches in order; return True when the buffer is empty.

        Args:
            deadline: `time.monotonic()` after which to stop retrying and return False.
        """
        delay = 0.2
        while self.buffer:
            body = self.buffer[0]
            retry_after = 0.0
            try:
                response = self.client.post(self.endpoint, content=body,
                                            headers={"Content-Type": "application/json"})
            except httpx.TransportError as exc:
                status, reason = 0, str(exc)
            else:
                status, reason = response.status_code, response.text
                retry_after = _seconds(response.headers.get("retry-after"))
            if status == 200:
                result = response.json()
                self.accepted += result["accepted"]
                self.duplicates += result["duplicates"]
                self.buffer.popleft()
                delay = 0.2
                continue
            if 400 <= status < 500 and status != 429:
                self.buffer.popleft()
                raise IngestRejected(f"ingest refused a batch ({status}): {reason[:500]}")
            wait = min(MAX_DELAY_S, max(delay, retry_after))
            if deadline is not None and time.monotonic() + wait > deadline:
                return False
            self.retries += 1
            log.warning("ingest unavailable (%s); retrying in %.1fs with %d batches buffered",
                        status or reason, wait, len(self.buffer))
            time.sleep(wait)
            delay = min(delay * 2, MAX_DELAY_S)
        return True

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self.client.close()


def _seconds(header: str | None) -> float:
    """Retry-After in seconds (the delta form; an HTTP date is treated as 'soon')."""
    try:
        return max(0.0, float(header)) if header else 0.0
    except ValueError:
        return 1.0
