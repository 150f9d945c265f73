"""Scale-out benchmark: events/s and end-to-end latency for 1 vs 2 engines, single Redis vs Redis Cluster.

Usage: .venv/bin/python bench/scale.py [--quick] [--events N]

Four set-ups on this machine, each from scratch: {single Redis (bundled binary), 3-master
Redis Cluster (bundled binary in cluster mode)} x {1, 2 `livemon engine` processes sharing
8 partitions through leases}. Baseline: single Redis, 1 engine. A fifth set-up is the whole
path the issue names, end to end through HTTP: single Redis, 1 engine and one `livemon web`
(uvicorn, one worker); the bench POSTs the same events to `/api/v1/events` in batches of
2,000 from HTTP_CLIENTS concurrent clients instead of calling the writer itself, so the web
process's parsing, validation, pseudonymisation and de-dup writes are in the figure.

* events/s: the bench writes N comment/like events over 200 rooms through the ingest path's
  writer (`ingest.writer.EventWriter`: the same Lua de-dup + XADD as `POST /api/v1/events`,
  without HTTP) as fast as one process can, while the engines consume. The figure is N divided
  by the time from the first write until every partition's group has delivered its last
  entry to an engine (read and folded; checkpoints follow at the next tick). The writer's own
  rate is shown beside it: on a 2-core machine the writer, the Redis servers and the engines
  share the cores, so this measures the whole pipeline here, not an engine's ceiling. Less
  noisy on a shared machine: the engines' CPU seconds over the same span, per 1,000 events
  (it includes their idle tick, reads and checkpoints, so it is the pipeline's cost per event),
  and beside them the web process's (HTTP set-up) and the Redis servers'.
* latency: then, idle, 20 probe events one at a time, PROBE_GAP_S apart; time from the write
  until the probe room's snapshot in `lm:snap` shows it. The engine publishes a partition at
  once when it has not published for LIVEMON_PUBLISH_S (0.1 s), otherwise at the end of that
  interval; the gap lets each probe find an idle partition, as a lone event would (back to back,
  each probe waited for the interval its predecessor started: ~120 ms at p50).

Prints a table, then one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.process_stats import cpu_seconds
from ingest.writer import EventWriter
from livemon import keys
from livemon.embedded_cluster import EmbeddedCluster
from livemon.redis_client import connect
from livemon.redis_server import EmbeddedRedis
from monitor.events import Event, EventType, Platform
from tests.support import INGEST_KEY, LivemonProcess, Stack, wait_for

PARTITIONS = 8
ROOMS = 200
BATCH = 2000
PROBES = 20
HTTP_CLIENTS = 2
PROBE_GAP_S = 0.15  # longer than LIVEMON_PUBLISH_S


def make_events(n: int, now_ms: int) -> list[Event]:
    kinds = (EventType.COMMENT, EventType.LIKE)
    return [Event(id=f"b{i}", session=f"room-{i % ROOMS}", type=kinds[i % 2], ts=now_ms + i // 100,
                  platform=Platform.DOUYIN, user=f"u{i % 5000}", text="多少钱" if i % 2 == 0 else None,
                  count=1 if i % 2 else None) for i in range(n)]


async def delivered(client: Any) -> bool:
    """Every partition's engine group has been handed the stream's last entry."""
    for p in range(PARTITIONS):
        stream = keys.events_stream(p)
        if not await client.exists(stream):
            continue
        info = await client.xinfo_stream(stream)
        group = next(g for g in await client.xinfo_groups(stream) if g["name"] in (b"engine", "engine"))
        if info["last-generated-id"] != group["last-delivered-id"]:
            return False
    return True


async def post_all(web_url: str, bodies: list[bytes]) -> None:
    """POST every body (a JSON array of events), HTTP_CLIENTS requests in flight at a time."""
    async with httpx.AsyncClient(base_url=web_url, timeout=60,
                                 headers={"Authorization": f"Bearer {INGEST_KEY}"}) as http:
        async def client(mine: list[bytes]) -> None:
            for body in mine:
                (await http.post("/api/v1/events", content=body)).raise_for_status()

        await asyncio.gather(*(client(bodies[k::HTTP_CLIENTS]) for k in range(HTTP_CLIENTS)))


async def measure(url: str, events: int, pids: list[int], redis_pids: list[int],
                  web: tuple[str, int] | None) -> dict[str, float]:
    """Write (or POST) every event, wait until the engines were handed all of them, then probe latency."""
    client = connect(url)
    writer = EventWriter(client, PARTITIONS, 900, 1_000_000)
    batch = make_events(events, int(time.time() * 1000))
    batches = [batch[i:i + BATCH] for i in range(0, events, BATCH)]
    # The producers' work, done before the clock starts as a load generator does: encoding
    # 200k events here took ~0.65 s, with nothing sent meanwhile, inside the measured span.
    bodies = [orjson.dumps([e.to_dict() for e in part]) for part in batches] if web else []
    cpu_before = sum(cpu_seconds(pid) for pid in pids)
    redis_cpu_before = sum(cpu_seconds(pid) for pid in redis_pids)
    web_cpu_before = cpu_seconds(web[1]) if web else 0.0
    started = time.perf_counter()
    if web:
        await post_all(web[0], bodies)
    else:
        for part in batches:
            await writer.append([e.encoded() for e in part])
    written = time.perf_counter()
    while not await delivered(client):
        await asyncio.sleep(0.01)
    done = time.perf_counter()
    engine_cpu = sum(cpu_seconds(pid) for pid in pids) - cpu_before
    redis_cpu = sum(cpu_seconds(pid) for pid in redis_pids) - redis_cpu_before
    web_cpu = {"web_cpu_ms_per_1k": (cpu_seconds(web[1]) - web_cpu_before) * 1000 / (events / 1000)} if web else {}
    latencies = []
    for k in range(1, PROBES + 1):
        probe = Event(id=f"probe-{k}", session="probe", type=EventType.COMMENT, ts=int(time.time() * 1000),
                      platform=Platform.DOUYIN, user="p", text="?")
        await asyncio.sleep(PROBE_GAP_S)
        sent = time.perf_counter()
        await writer.append([probe.encoded()])
        while True:
            raw = await client.hget(keys.SNAPSHOTS, "probe")
            if raw and orjson.loads(raw)["events_total"] >= k:
                break
            await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - sent)
    await client.aclose()
    return {"events_per_s": events / (done - started), "writer_per_s": events / (written - started),
            "engine_cpu_ms_per_1k": engine_cpu * 1000 / (events / 1000),
            "redis_cpu_ms_per_1k": redis_cpu * 1000 / (events / 1000),
            **web_cpu,
            "latency_p50_ms": statistics.median(latencies) * 1000,
            "latency_p95_ms": statistics.quantiles(latencies, n=20)[18] * 1000}


def run(kind: str, engines: int, events: int, workdir: Path, through_http: bool = False) -> dict[str, float]:
    server: EmbeddedRedis | EmbeddedCluster
    if kind == "cluster":
        server = EmbeddedCluster(workdir / "cluster", masters=3).start()
        target = {"REDIS_CLUSTER_NODES": server.nodes}
    else:
        server = EmbeddedRedis(workdir / "redis").start()
        target = {"REDIS_URL": server.url}
    url = server.url
    procs: list[LivemonProcess] = []
    stack: Stack | None = None
    try:
        for i in range(engines):
            env = {**os.environ, **target, "LIVEMON_PARTITIONS": str(PARTITIONS), "LIVEMON_DATA_DIR": str(workdir),
                   "LIVEMON_PSEUDONYM_SECRET": "bench", "LIVEMON_ENGINE_NAME": f"bench-{i}",
                   "LIVEMON_LOG_LEVEL": "WARNING"}
            procs.append(LivemonProcess(["engine"], env, workdir / f"engine-{i}.log").start())
        web: tuple[str, int] | None = None
        if through_http:  # the tests' web process: free port, ingest key, waits for /healthz
            stack = Stack(url, workdir, with_engine=False, LIVEMON_PARTITIONS=str(PARTITIONS),
                          LIVEMON_INGEST_RATE="100000000", LIVEMON_INGEST_BURST="100000000",
                          LIVEMON_LOG_LEVEL="WARNING").start()
            assert stack.web.process is not None
            web = (stack.url, stack.web.process.pid)

        async def leased() -> bool:
            client = connect(url)
            owners = [await client.get(keys.lease_key(p)) for p in range(PARTITIONS)]
            await client.aclose()
            shares: dict[bytes | str, int] = {}
            for owner in owners:
                if owner is not None:
                    shares[owner] = shares.get(owner, 0) + 1
            return sum(shares.values()) == PARTITIONS and len(shares) == engines

        wait_for(lambda: asyncio.run(leased()), 120, f"{engines} engines to share the partitions")  # slow starts under load
        engine_pids = [p.process.pid for p in procs[:engines] if p.process is not None]
        redis_pids = [p.pid for p in server.processes] if isinstance(server, EmbeddedCluster) else \
            [server.process.pid] if server.process else []
        return asyncio.run(measure(url, events, engine_pids, redis_pids, web))
    finally:
        if stack is not None:
            stack.stop()
        for proc in procs:
            proc.stop()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40k events per set-up instead of 200k")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    events = args.events or (40_000 if args.quick else 200_000)
    results: dict[str, dict[str, float]] = {}
    for kind in ("single", "cluster"):
        for engines in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                results[f"{kind}-{engines}"] = run(kind, engines, events, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        results["http-1"] = run("single", 1, events, Path(tmp), through_http=True)
    base = results["single-1"]["events_per_s"]
    print(f"\nscale-out, {events:,} events over {ROOMS} rooms, {PARTITIONS} partitions, {os.cpu_count()} cores "
          f"(baseline: single Redis, 1 engine)")
    print(f"{'set-up':<28}{'events/s':>12}{'vs base':>9}{'writer ev/s':>13}{'engine CPU ms/1k ev':>21}"
          f"{'web CPU ms/1k ev':>18}{'Redis CPU ms/1k ev':>20}{'e2e p50 ms':>12}{'e2e p95 ms':>12}")
    for name, r in results.items():
        kind, count = name.split("-")
        label = {"cluster": "Redis Cluster (3)", "single": "single Redis", "http": "HTTP, single Redis"}[kind]
        label += f", {count} eng"
        web_cpu = f"{r['web_cpu_ms_per_1k']:.1f}" if "web_cpu_ms_per_1k" in r else "-"
        print(f"{label:<28}{r['events_per_s']:>12,.0f}{r['events_per_s'] / base:>8.2f}x{r['writer_per_s']:>13,.0f}"
              f"{r['engine_cpu_ms_per_1k']:>21.1f}{web_cpu:>18}{r['redis_cpu_ms_per_1k']:>20.1f}"
              f"{r['latency_p50_ms']:>12.0f}{r['latency_p95_ms']:>12.0f}")
    print(orjson.dumps({"bench": "scale", "events": events, "baseline": "single-1",
                        "results": {k: {m: round(v, 1) for m, v in r.items()} for k, r in results.items()}}).decode())


if __name__ == "__main__":
    main()
