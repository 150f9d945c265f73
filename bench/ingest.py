"""Ingest throughput per adapter path, with and without de-duplication, on this machine.

Starts an embedded Redis and one `livemon web` process (uvicorn, one worker), then pushes
simulator events through every ingest path and reports accepted events per second of wall
time, client included (the client runs in this process, on the same cores):

- **events API**: `POST /api/v1/events`, JSON arrays of 1,000 new events (dedup marker + XADD);
- **events API, resent**: the same batches again, every event a duplicate (dedup hit path);
- **douyin HTTP / websocket**: webcast chat messages, 1,000 per request / frame;
- **shopify / doudian**: signed webhooks as the platforms send them (one order of 5 lines; 10
  messages per push), so these measure per-request cost;
- **events API, 5 per request**: the per-request baseline for the webhooks;
- **writer, no HTTP**: `EventWriter.append` straight into Redis (validation done beforehand);
- **baseline: XADD only, no de-dup**: the same events, same shape (one Lua call per partition in
  one pipeline) but without the de-dup sets: the figure de-duplication is measured against;
- **validate, read_batch**: decoding and validating HTTP bodies of 1,000 simulator events in this
  process (`ingest.batch.read_batch`: msgspec first, the per-field validator for a batch it
  refuses), against its baseline **validate, per field**: `split_body` + `validate_batch` on
  the same bodies, the path every body took before.

Usage: .venv/bin/python bench/ingest.py [--quick]
Prints a table, then one line of JSON with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import redis
import redis.asyncio as aioredis
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.batch import read_batch, split_body, validate_batch
from ingest.simulator import SimConfig, SimulatedSession
from ingest.writer import EventWriter
from livemon import keys
from livemon.redis_server import EmbeddedRedis, free_port

_XADD_ONLY = """
for i = 2, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'e', ARGV[i])
end
return #ARGV - 1
"""
KEY, SHOPIFY, DD_KEY, DD_SECRET = "bench-key", "bench-shopify", "dd-key", "dd-secret"
BATCH = 1000


def simulated(n: int, prefix: str) -> list[dict[str, object]]:
    rooms = [SimulatedSession(f"{prefix}-{i}", 100 + i, 200.0, 1_795_356_000.0, SimConfig(rate=200.0, duration_s=0))
             for i in range(4)]
    out: list[dict[str, object]] = []
    t = 1_795_356_000.0
    while len(out) < n:
        out.extend(e for room in rooms for e in room.events_between(t, t + 10))
        t += 10
    return out[:n]


def timed(label: str, events: int, run: Callable[[], object], rows: list[tuple[str, int, float]]) -> None:
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    rows.append((label, events, events / seconds))
    print(f"  {label:<38} {events:>8} events  {events / seconds:>10,.0f} /s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k events per path instead of 100k")
    n = 20_000 if parser.parse_args().quick else 100_000
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as server:
        port = free_port()
        env = dict(os.environ, REDIS_URL=server.url, PORT=str(port), LIVEMON_INGEST_KEY=KEY,
                   LIVEMON_DATA_DIR=tmp, LIVEMON_PSEUDONYM_SECRET="bench", LIVEMON_SHOPIFY_SECRET=SHOPIFY,
                   LIVEMON_DOUDIAN_APP_KEY=DD_KEY, LIVEMON_DOUDIAN_APP_SECRET=DD_SECRET,
                   LIVEMON_INGEST_RATE="100000000", LIVEMON_INGEST_BURST="100000000")
        attribution = Path(tmp) / "attribution.toml"
        attribution.write_text('[[window]]\nsession = "dd-room"\nstart = 946684800000\nend = 4102444800000\n')
        env["LIVEMON_ATTRIBUTION_CONFIG"] = str(attribution)
        web = subprocess.Popen([sys.executable, "-m", "livemon", "web"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {KEY}"})
        client = redis.Redis.from_url(server.url)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("livemon web did not start")
                time.sleep(0.1)
            t0 = time.perf_counter()
            events = simulated(n, "api")
            generated = n / (time.perf_counter() - t0)
            rows.append(("simulator, generate only", n, generated))
            print(f"  {'simulator, generate only':<38} {n:>8} events  {generated:>10,.0f} /s")
            bodies = [orjson.dumps(events[i:i + BATCH]) for i in range(0, n, BATCH)]
            post = lambda: [http.post("/api/v1/events", content=b).raise_for_status() for b in bodies]
            timed("events API (new ids)", n, post, rows)
            timed("events API (all duplicates)", n, post, rows)

            chats = [{"common": {"method": "WebcastChatMessage", "msgId": str(10**12 + i), "roomId": "7311",
                                 "createTime": str(1_795_356_000_000 + i)}, "user": {"id": str(i % 5000)},
                      "content": "3号链接多少钱"} for i in range(n)]
            chat_bodies = [orjson.dumps(chats[i:i + BATCH]) for i in range(0, n, BATCH)]
            timed("douyin messages HTTP", n, lambda: [http.post("/api/v1/douyin/messages", content=b)
                                                       .raise_for_status() for b in chat_bodies], rows)
            ws_chats = [{**c, "common": {**common, "msgId": "w" + str(common["msgId"])}}
                        for c in chats if isinstance(common := c["common"], dict)]
            frames = [orjson.dumps(ws_chats[i:i + BATCH]).decode() for i in range(0, n, BATCH)]

            def over_websocket() -> None:
                with connect(url.replace("http", "ws") + "/ws/ingest/douyin",
                             additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
                    for frame in frames:
                        ws.send(frame)
                        assert "accepted" in orjson.loads(ws.recv(timeout=30))

            timed("douyin websocket", n, over_websocket, rows)

            webhooks = max(1, n // 50)
            small = [orjson.dumps(events[i:i + 5]) for i in range(0, webhooks * 5, 5)]
            fresh_small = [b.replace(b'"id":"', b'"id":"s') for b in small]
            timed(f"events API, 5 per request ({webhooks} req)", webhooks * 5,
                  lambda: [http.post("/api/v1/events", content=b).raise_for_status() for b in fresh_small], rows)

            def shopify() -> None:
                for i in range(webhooks):
                    body = orjson.dumps({"id": i, "created_at": "2026-11-22T21:00:00+08:00", "currency": "USD",
                                         "note_attributes": [{"name": "livemon_session", "value": "shop-room"}],
                                         "customer": {"id": i}, "line_items": [
                                             {"id": k, "product_id": 7000 + k, "quantity": 1, "price": "9.90"}
                                             for k in range(5)]})
                    sig = base64.b64encode(hmac.new(SHOPIFY.encode(), body, hashlib.sha256).digest()).decode()
                    http.post("/api/v1/webhooks/shopify", content=body, headers={
                        "X-Shopify-Hmac-SHA256": sig, "X-Shopify-Topic": "orders/create"}).raise_for_status()

            timed(f"shopify webhook ({webhooks} × 5 lines)", webhooks * 5, shopify, rows)

            def doudian() -> None:
                for i in range(webhooks):
                    body = orjson.dumps([{"tag": "101", "msg_id": f"m{i}-{k}", "data": orjson.dumps(
                        {"p_id": i * 10 + k, "pay_amount": 990, "pay_time": 1795356000}).decode()}
                        for k in range(10)])
                    sign = hashlib.md5(DD_KEY.encode() + body + DD_SECRET.encode()).hexdigest()
                    http.post("/api/v1/webhooks/doudian", content=body, headers={
                        "app-id": DD_KEY, "event-sign": sign}).raise_for_status()

            timed(f"doudian push ({webhooks} × 10 msgs)", webhooks * 10, doudian, rows)

            direct = simulated(n, "direct")[:BATCH]
            loops = max(1, n // BATCH)

            # fresh ids each loop, so every append takes the "new event" path (validated and encoded before timing)
            fresh = [validate_batch([{**e, "id": f"{e['id']}-{k}"} for e in direct], b"bench") for k in range(loops)]

            async def writer_run() -> None:
                aclient = aioredis.Redis.from_url(server.url)
                writer = EventWriter(aclient, 8, 900, 10_000_000)
                for batch in fresh:
                    await writer.append(batch)
                await aclient.aclose()

            async def plain_xadd() -> None:
                # Same shape as the writer (one Lua call per partition, one pipeline) minus the SET NX marker.
                aclient = aioredis.Redis.from_url(server.url)
                script = aclient.register_script(_XADD_ONLY)
                for batch in fresh:
                    groups: dict[int, list[bytes]] = {}
                    for e in batch:
                        groups.setdefault(keys.partition_of(e.session, 8), []).append(e.wire)
                    async with aclient.pipeline(transaction=False) as pipe:
                        for partition, wires in groups.items():
                            await script(keys=[keys.events_stream(partition) + ":plain"],
                                         args=[10_000_000, *wires], client=pipe)
                        await pipe.execute()
                await aclient.aclose()

            timed("writer, no HTTP (dedup + XADD, Lua)", loops * BATCH, lambda: asyncio.run(writer_run()), rows)
            timed("baseline: XADD only, no de-dup", loops * BATCH, lambda: asyncio.run(plain_xadd()), rows)

            events = simulated(n, "validate")
            bodies = [orjson.dumps(events[i:i + BATCH]) for i in range(0, n, BATCH)]
            kind = "application/json"
            timed("validate, read_batch (msgspec first)", n,
                  lambda: [read_batch(body, kind, b"bench") for body in bodies], rows)
            timed("baseline: validate, per field", n,
                  lambda: [validate_batch(split_body(body, kind), b"bench") for body in bodies], rows)
        finally:
            http.close()
            client.close()
            web.terminate()
            web.wait(timeout=10)
    figures = {label: round(rate) for label, _, rate in rows}
    print()
    print("| path | events | events/s |")
    print("|---|---|---|")
    for label, count, rate in rows:
        print(f"| {label} | {count:,} | {rate:,.0f} |")
    print(orjson.dumps({"bench": "ingest", "events_per_s": figures}).decode())



if __name__ == "__main__":
    main()
