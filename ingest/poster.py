"""Post event batches to the ingest API with bounded buffering and retries.

When the API answers 503 (Redis down), 429 (rate limit) or cannot be reached, batches stay in a bounded
buffer and are re-sent with backoff; de-duplication by event id makes re-sending safe.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import httpx
import orjson

log = logging.getLogger(__name__)


class IngestRejected(RuntimeError):
    """The API refused a batch for a reason retrying will not fix (4xx)."""


class BatchPoster:
    """Synchronous poster used by the simulator and replay commands."""

    def __init__(self, url: str, key: str, max_buffered_batches: int = 1000, timeout_s: float = 10.0) -> None:
        self.endpoint = url.rstrip("/") + "/api/v1/events"
        self.client = httpx.Client(headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s)
        self.buffer: deque[bytes] = deque()
        self.max_buffered = max_buffered_batches
        self.accepted = 0
        self.duplicates = 0
        self.retries = 0

    def post(self, events: list[dict[str, object]]) -> None:
        """Queue a batch and send everything queued; keeps at most `max_buffered` batches."""
        if events:
            if len(self.buffer) >= self.max_buffered:
                raise IngestRejected(f"ingest unavailable and {self.max_buffered} batches buffered; giving up")
            self.buffer.append(orjson.dumps(events))
        self.flush(deadline=None)

    def flush(self, deadline: float | None) -> bool:
        """Send queued batches in order; return True when the buffer is empty."""
        delay = 0.2
        while self.buffer:
            body = self.buffer[0]
            try:
                response = self.client.post(self.endpoint, content=body,
                                            headers={"Content-Type": "application/json"})
            except httpx.TransportError as exc:
                status, reason = 0, str(exc)
            else:
                status, reason = response.status_code, response.text
            if status == 200:
                result = response.json()
                self.accepted += result["accepted"]
                self.duplicates += result["duplicates"]
                self.buffer.popleft()
                delay = 0.2
                continue
            if 400 <= status < 500 and status != 429:  # 429: over the rate limit, retry after Retry-After
                self.buffer.popleft()
                raise IngestRejected(f"ingest refused a batch ({status}): {reason[:500]}")
            if deadline is not None and time.monotonic() > deadline:
                return False
            if status == 429:
                delay = max(delay, float(response.headers.get("retry-after", "1")))
            self.retries += 1
            log.warning("ingest unavailable (%s); retrying in %.1fs with %d batches buffered",
                        status or reason, delay, len(self.buffer))
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        return True

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self.client.close()
