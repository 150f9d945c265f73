"""The soak's load generator: offer a steady event rate whatever the server's answer time.

One process runs SENDERS concurrent POST loops. Each loop sends every event that has come
due since the last one was taken, so a slower server gets larger batches (up to MAX_BATCH)
instead of a lower offered rate. At most SENDERS × MAX_BATCH events are in flight per
process, so when the server takes seconds to answer, `offered` falls short of the rate
asked: then ingest's answer time, not the generator, is the limit (the generator's own CPU
seconds are reported beside it). Bodies are built as bytes from one template per event kind
(no dicts, no JSON encoder per event). One event in five is a comment whose text carries
its post time (`t=<ms> …`), the rest likes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from multiprocessing.queues import Queue

import httpx

from ingest.batch import MAX_BATCH_EVENTS

INGEST_KEY = "soak-key"
SENDERS = 8  # concurrent requests per process: with MAX_BATCH, what can be in flight while the server answers slowly
REQUESTS_PER_S = 20  # per process while the server keeps up: a batch is at least rate / REQUESTS_PER_S events
MAX_BATCH = MAX_BATCH_EVENTS  # the most ingest takes in one request
IDLE_S = 0.005
_COMMENT = '{"id":"%s%d","session":"room-%d","type":"comment","ts":%d,"user":"v%d","text":"t=%d hello"}'
_LIKE = '{"id":"%s%d","session":"room-%d","type":"like","ts":%d}'


def encode(prefix: str, first: int, count: int, sessions: int, now_ms: int) -> bytes:
    """A JSON array of events numbered `first` … `first + count - 1`, all stamped `now_ms`."""
    parts = [(_COMMENT % (prefix, n, n % sessions, now_ms, n % 5000, now_ms)) if n % 5 == 0
             else (_LIKE % (prefix, n, n % sessions, now_ms)) for n in range(first, first + count)]
    return ("[" + ",".join(parts) + "]").encode()


@dataclass
class Offered:
    """What one generator process did."""

    offered: int = 0  # events put in a request
    accepted: int = 0  # events the API answered 200 for
    errors: int = 0  # requests that failed or were refused
    error_kinds: dict[str, int] = field(default_factory=dict)  # HTTP status or exception name -> requests
    requests: int = 0
    post_ms: list[float] | None = None  # request → 200, per request
    cpu_s: float = 0.0


async def _offer(url: str, rate: float, sessions: int, seconds: float, prefix: str) -> Offered:
    result = Offered(post_ms=[])
    limits = httpx.Limits(max_connections=SENDERS, max_keepalive_connections=SENDERS)
    headers = {"Authorization": f"Bearer {INGEST_KEY}", "Content-Type": "application/json"}
    least = max(1, min(MAX_BATCH, int(rate / REQUESTS_PER_S)))
    start = time.monotonic()
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=limits) as client:

        async def sender() -> None:
            while (elapsed := time.monotonic() - start) < seconds:
                due = min(int(elapsed * rate) - result.offered, MAX_BATCH)
                if due < least:  # sleep until a batch's worth is due
                    await asyncio.sleep(max(IDLE_S, (result.offered + least) / rate - elapsed))
                    continue
                first = result.offered
                result.offered += due  # taken before the await, so no other sender sends these
                body = encode(prefix, first, due, sessions, int(time.time() * 1000))
                asked = time.perf_counter()
                try:
                    response = await client.post(f"{url}/api/v1/events", content=body)
                except httpx.HTTPError as exc:
                    result.errors += 1
                    kind = type(exc).__name__
                    result.error_kinds[kind] = result.error_kinds.get(kind, 0) + 1
                    continue
                result.requests += 1
                if response.status_code == 200:
                    result.accepted += due
                    assert result.post_ms is not None
                    result.post_ms.append((time.perf_counter() - asked) * 1000)
                else:
                    result.errors += 1
                    kind = str(response.status_code)
                    result.error_kinds[kind] = result.error_kinds.get(kind, 0) + 1

        await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return result


def _run(url: str, rate: float, sessions: int, seconds: float, prefix: str, out: Queue[Offered]) -> None:
    result = asyncio.run(_offer(url, rate, sessions, seconds, prefix))
    times = os.times()
    result.cpu_s = times.user + times.system
    out.put(result)


def start(url: str, rate: float, sessions: int, seconds: float, prefix: str,
          processes: int) -> tuple[list[multiprocessing.Process], Queue[Offered]]:
    """Start `processes` generators sharing `rate`; collect their `Offered` from the queue."""
    out: Queue[Offered] = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_run, args=(url, rate / processes, sessions, seconds,
                                                         f"{prefix}{k}-", out)) for k in range(processes)]
    for proc in procs:
        proc.start()
    return procs, out


def collect(procs: list[multiprocessing.Process], out: Queue[Offered]) -> Offered:
    """Wait for the generators and add up what they did."""
    total = Offered(post_ms=[])
    for _ in procs:
        one = out.get(timeout=120)
        total.offered += one.offered
        total.accepted += one.accepted
        total.errors += one.errors
        for kind, count in one.error_kinds.items():
            total.error_kinds[kind] = total.error_kinds.get(kind, 0) + count
        total.requests += one.requests
        total.cpu_s += one.cpu_s
        assert total.post_ms is not None and one.post_ms is not None
        total.post_ms.extend(one.post_ms)
    for proc in procs:
        proc.join(timeout=30)
    return total
