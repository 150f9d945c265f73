"""Ingest de-dup markers in Redis: bytes and Redis CPU per event, per-id keys vs time-bucket sets.

Usage: .venv/bin/python bench/dedup_markers.py [--events N]

The ingest writer marks every accepted event id so that a re-sent event counts once. Two
layouts, each writing the same events from scratch into the bundled Redis in batches of 2,000
(one Lua call per batch, with the XADD to the partition stream, as ingest does):

* **baseline, per-id keys** (the layout before this bench): `SET lm:dd:{pN}:<session>:<id> 1
  NX EX ttl`, one key with its own TTL per event;
* **time-bucket sets** (`ingest.writer.EventWriter`, shipped): one set of "<session>/<id>" per
  partition and quarter of the TTL; a call checks its whole batch with one `SMISMEMBER` per
  bucket still remembered (five) and adds the new ids with one `SADD`.

Three traffic shapes: 200 rooms at 8 events/s each, 100 at 20 (docs/deploy.md's planning
figure), and one busy room at 1,000 events/s. Figures: Redis memory per event (`used_memory`, AOF buffer left out and no AOF rewrite,
grown by the write: the stream entry, the same in both layouts, plus the marker; the difference
is what the layout saves), Redis CPU µs per event for the whole write (markers + XADD; the
lower of two alternating runs), keys created. Not in the CPU figure: Redis later expiring the
per-id keys one by one (the buckets go one per partition every TTL / 4), so the baseline's
real cost is a little higher than shown.

Prints a table, then one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.process_stats import cpu_seconds
from ingest.writer import EventWriter
from livemon import keys
from livemon.redis_client import connect
from livemon.redis_server import EmbeddedRedis
from monitor.events import EncodedEvent, Event, EventType, Platform

BATCH = 2000
PARTITIONS = 8
TTL_S = 900
MAXLEN = 10_000_000
SHAPES = {"200 rooms x 8 events/s": (200, 8.0), "100 rooms x 20 events/s": (100, 20.0),
          "1 room x 1,000 events/s": (1, 1000.0)}

# The writer's script before time-bucket sets: one SET NX EX key per event id.
_PER_ID_KEYS = """
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[i + 1])
    added = added + 1
  end
end
return added
"""


def make_events(n: int, rooms: int, per_room_s: float) -> list[EncodedEvent]:
    """Likes spread over `rooms`, each room at `per_room_s` events per second of event time."""
    start_ms = int(time.time() * 1000) - 3_600_000
    step_ms = 1000.0 / (rooms * per_room_s)
    return [Event(id=f"dy-{7_000_000_000 + i}", session=f"room-{i % rooms}", type=EventType.LIKE,
                  ts=start_ms + int(i * step_ms), platform=Platform.DOUYIN, user=f"u{i % 5000}",
                  count=1).encoded() for i in range(n)]


def write_per_id_keys(url: str, events: list[EncodedEvent]) -> None:
    client = redis.Redis.from_url(url)
    script = client.register_script(_PER_ID_KEYS)
    for lo in range(0, len(events), BATCH):
        groups: dict[int, list[EncodedEvent]] = {}
        for e in events[lo:lo + BATCH]:
            groups.setdefault(keys.partition_of(e.session, PARTITIONS), []).append(e)
        pipe = client.pipeline(transaction=False)
        for partition, group in groups.items():
            marker_keys = [f"{keys.PREFIX}:dd:{{p{partition}}}:{e.session}:{e.id}" for e in group]
            script(keys=[keys.events_stream(partition), *marker_keys], args=[TTL_S, MAXLEN, *(e.wire for e in group)],
                   client=pipe)
        pipe.execute()
    client.close()


def write_time_bucket_sets(url: str, events: list[EncodedEvent]) -> None:
    async def run() -> None:
        client = connect(url)
        writer = EventWriter(client, PARTITIONS, TTL_S, MAXLEN)
        for lo in range(0, len(events), BATCH):
            await writer.append(events[lo:lo + BATCH])
        await client.aclose()

    asyncio.run(run())


def keys_memory(client: redis.Redis) -> int:
    """Redis memory without the AOF buffer: what the keys hold (plus fixed overheads)."""
    memory = client.info("memory")
    return int(memory["used_memory"]) - int(memory.get("mem_aof_buffer", 0))


def measure(server: EmbeddedRedis, layout: str, events: list[EncodedEvent]) -> dict[str, float]:
    """Write `events` into an empty Redis with `layout`; marker bytes, Redis CPU and keys per event."""
    client = redis.Redis.from_url(server.url)
    client.flushall()
    assert server.process is not None
    pid = server.process.pid
    # Keys only: an AOF rewrite buffers every write in used_memory while it runs (readings of 41
    # and -18 bytes per event came from rewrites starting or ending mid-run), so none is started
    # and the AOF buffer is left out; the previous run's connections must have closed, too.
    client.config_set("auto-aof-rewrite-percentage", 0)
    deadline = time.monotonic() + 5
    while client.info("clients")["connected_clients"] > 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    memory_before = keys_memory(client)
    cpu_before = cpu_seconds(pid)
    (write_per_id_keys if layout == "per-id keys" else write_time_bucket_sets)(server.url, events)
    redis_cpu = cpu_seconds(pid) - cpu_before
    grown = keys_memory(client) - memory_before
    markers = sum(1 for _ in client.scan_iter(match=f"{keys.PREFIX}:dd:*", count=10_000))
    client.close()
    return {"bytes_per_event": grown / len(events), "redis_cpu_us_per_event": redis_cpu / len(events) * 1e6,
            "keys": markers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis").start()
        try:
            for shape, (rooms, rate) in SHAPES.items():
                events = make_events(args.events, rooms, rate)
                runs = [(layout, measure(server, layout, events))
                        for _ in range(2) for layout in ("per-id keys", "time-bucket sets")]
                # two alternating runs each; CPU is the lower of the two (noise only ever adds)
                results[shape] = {layout: {**r, "redis_cpu_us_per_event": min(
                    x["redis_cpu_us_per_event"] for name, x in runs if name == layout)}
                    for layout, r in runs[2:]}
        finally:
            server.stop()
    print(f"\nde-dup markers, {args.events:,} events per run, bundled Redis (baseline: per-id keys)")
    print(f"{'traffic':<26}{'layout':<22}{'Redis B / event':>18}{'vs base':>9}{'Redis CPU us / event':>22}"
          f"{'vs base':>9}{'keys':>10}")
    for shape, by_layout in results.items():
        base = by_layout["per-id keys"]
        for layout, r in by_layout.items():
            print(f"{shape:<26}{layout:<22}{r['bytes_per_event']:>18.1f}"
                  f"{r['bytes_per_event'] / base['bytes_per_event']:>8.2f}x{r['redis_cpu_us_per_event']:>22.2f}"
                  f"{r['redis_cpu_us_per_event'] / base['redis_cpu_us_per_event']:>8.2f}x{r['keys']:>10,.0f}")
    print(orjson.dumps({"bench": "dedup_markers", "events": args.events, "baseline": "per-id keys",
                        "results": {s: {k: {m: round(v, 2) for m, v in r.items()} for k, r in by.items()}
                                    for s, by in results.items()}}).decode())


if __name__ == "__main__":
    main()
