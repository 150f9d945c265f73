"""Soak test: sustained ingest over many sessions with many websocket clients, on real processes.

Starts an embedded Redis, `livemon web` and `livemon engine`, offers events at a steady rate
from separate generator processes (bench/soak_load.py; comments carry their post time in
the text), keeps websocket clients subscribed (one session each), and measures:

* end-to-end latency, POST request → the comment's first appearance in a snapshot received on
  a websocket (each client times each comment once; the snapshot replayed on (re)connect is
  not timed, its comments predate the connection);
* where that time goes, per stage, for a sample of comments followed through Redis
  (bench/soak_stages.py): posted → stored → read by the engine → published → received,
  plus the POST round trip and the bench clients' own event-loop lag;
* events/s asked, offered by the generators and accepted by ingest, and POST errors;
* RSS of web, engine and Redis over time (trend in MB/min) and CPU seconds of every process,
  the bench's own (clients, generators) included, so it is clear what is CPU-bound.

A named baseline phase at a tenth of the rate runs first in the same run, so the table
compares like with like on this machine.

    python bench/soak.py --short            # 2 minutes (after a 20-s baseline)
    python bench/soak.py --minutes 30       # the full soak: 5,000 events/s, 20 sessions, 200 clients
    python bench/soak.py --short --rate 20000 --generators 3

Prints two tables, then ONE line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import soak_load
from bench.process_stats import cpu_seconds
from bench.soak_load import INGEST_KEY
from bench.soak_stages import STAGE_NAMES, STAGES, STAMP, StageTracer, loop_lag
from livemon.redis_server import EmbeddedRedis, free_port
from tests.support import create_token


@dataclass
class Observed:
    """What the websocket clients saw."""

    latencies_ms: list[float] = field(default_factory=list)
    disconnects: int = 0
    close_codes: dict[str, int] = field(default_factory=dict)
    messages: int = 0


async def watch(ws_url: str, session: str, until: float, seen: Observed, tracer: StageTracer) -> None:
    """One client: subscribe to one session; time each comment the first time it appears.

    The snapshot the server replays on (re)connect is not timed, only remembered: its
    comments were posted before this connection existed (or while it was down, which the
    disconnect count already reports), so their age is not a delivery latency.
    """
    known: set[str] = set()
    while time.time() < until:
        try:
            async with connect(ws_url, max_size=None, open_timeout=20) as ws:
                await ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": [session]}).decode())
                replayed = False
                while time.time() < until:
                    raw = await asyncio.wait_for(ws.recv(), timeout=max(0.1, until - time.time()))
                    received = time.time() * 1000
                    seen.messages += 1
                    for inner in orjson.loads(raw).get("messages", []):
                        if inner.get("type") != "snapshot":
                            continue
                        shown = inner["data"].get("recent_comments", [])
                        for comment in shown:
                            text = comment.get("text", "")
                            if replayed and text.startswith(STAMP) and comment["id"] not in known:
                                seen.latencies_ms.append(received - int(text[len(STAMP):].split()[0]))
                                tracer.on_received(comment["id"], int(received))
                        # a comment pushed out of the newest eight never comes back, so remembering
                        # the last snapshot's is enough (a set of every id seen would grow for the whole run)
                        known = {comment["id"] for comment in shown}
                        replayed = True
        except TimeoutError:
            return
        except ConnectionClosed as exc:  # counted by close code (4008 = cut for reading too slowly)
            seen.disconnects += 1
            code = str(exc.rcvd.code) if exc.rcvd else "none"
            seen.close_codes[code] = seen.close_codes.get(code, 0) + 1
            await asyncio.sleep(0.5)
        except Exception as exc:  # noqa: BLE001 - a failed connect is counted and the client retries, as a browser would
            seen.disconnects += 1
            seen.close_codes[type(exc).__name__] = seen.close_codes.get(type(exc).__name__, 0) + 1
            await asyncio.sleep(0.5)


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time."""
    if len(samples) < 3:
        return 0.0
    xs = [t / 60 for t, _ in samples]
    ys = [v for _, v in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p99 and max, rounded (NaN when there are none)."""
    ordered = sorted(values)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else float("nan")

    return {"p50": pct(0.50), "p99": pct(0.99), "max": round(ordered[-1], 1) if ordered else float("nan"),
            "n": len(ordered)}


async def phase(name: str, url: str, redis_url: str, rate: float, sessions: int, clients: int, seconds: float,
                pids: dict[str, int], token: str, generators: int, partitions: int) -> dict[str, object]:
    """Run generators, clients and the stage tracer for `seconds`; return figures."""
    procs, out = soak_load.start(url, rate, sessions, seconds, name, generators)
    seen = Observed()
    lags: list[float] = []
    until = time.time() + seconds
    tracer = StageTracer(redis_url, partitions)
    ws_url = url.replace("http", "ws", 1) + f"/ws?token={token}"
    tasks = [asyncio.create_task(watch(ws_url, f"room-{i % sessions}", until, seen, tracer)) for i in range(clients)]
    tasks += [asyncio.create_task(tracer.run(until)), asyncio.create_task(loop_lag(until, lags))]
    rss: dict[str, list[tuple[float, float]]] = {k: [] for k in pids}
    cpu_before = {k: cpu_seconds(pid) for k, pid in pids.items()}
    own_before = sum(os.times()[:2])
    started = time.time()
    while time.time() < until:
        for proc_name, pid in pids.items():
            rss[proc_name].append((time.time() - started, rss_mb(pid)))
        await asyncio.sleep(min(10.0, max(0.1, until - time.time())))
    cpu_used = {k: round(cpu_seconds(pid) - cpu_before[k], 1) for k, pid in pids.items()}
    cpu_used["clients"] = round(sum(os.times()[:2]) - own_before, 1)  # 200 clients + stage tracer, this process
    await asyncio.gather(*tasks)
    offered = await asyncio.to_thread(soak_load.collect, procs, out)
    cpu_used["generator"] = round(offered.cpu_s, 1)
    total = percentiles(seen.latencies_ms)
    assert offered.post_ms is not None
    stages = {"post_rtt": percentiles(offered.post_ms), **{s: percentiles(tracer.deltas[s]) for s in STAGES},
              "client_loop_lag": percentiles(lags)}
    return {
        "phase": name, "rate": rate, "offered": round(offered.offered / seconds),
        "achieved": round(offered.accepted / seconds), "seconds": seconds, "clients": clients,
        "samples": total["n"], "p50_ms": total["p50"], "p99_ms": total["p99"], "max_ms": total["max"],
        "stages_ms": stages, "stage_samples_lost": tracer.unread_lost,
        "post_errors": offered.errors, "post_error_kinds": offered.error_kinds, "requests": offered.requests,
        "ws_disconnects": seen.disconnects, "ws_close_codes": seen.close_codes, "cpu_s": cpu_used,
        "rss_mb": {k: round(v[-1][1], 1) for k, v in rss.items() if v},
        "rss_slope_mb_per_min": {k: round(slope_mb_per_min(v), 2) for k, v in rss.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--short", action="store_true", help="2-minute soak (default 30)")
    parser.add_argument("--quick", action="store_true", help="alias of --short (make bench)")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--rate", type=float, default=5000.0, help="events/s")
    parser.add_argument("--sweep", default="", help="more rates to run after the soak phase, e.g. 2500,10000 "
                                                     "(each as long as the soak), to find what this machine sustains")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--tick", type=float, default=1.0, help="engine tick, seconds (LIVEMON_TICK_S)")
    parser.add_argument("--publish", type=float, default=0.1, help="publish interval, seconds (LIVEMON_PUBLISH_S)")
    parser.add_argument("--checkpoint", type=float, default=5.0,
                        help="checkpoint interval, seconds (LIVEMON_CHECKPOINT_S)")
    parser.add_argument("--generators", type=int, default=2, help="load generator processes")
    args = parser.parse_args()
    minutes = args.minutes if args.minutes is not None else (2.0 if args.short or args.quick else 30.0)
    sweep = [float(r) for r in args.sweep.split(",") if r]
    # twice the highest rate asked: the soak measures capacity, so the per-key limit must never answer 429
    # (at exactly the limit, a backlog caught up in a burst did: 26-32 requests per 2-min 20,000/s phase)
    ingest_rate = 2 * max([args.rate, *sweep])

    workdir = Path(tempfile.mkdtemp(prefix="livemon-soak-"))
    redis_server = EmbeddedRedis(workdir / "redis").start()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, REDIS_URL=redis_server.url, PORT=str(port), LIVEMON_INGEST_KEY=INGEST_KEY,
               LIVEMON_DATA_DIR=str(workdir), LIVEMON_PSEUDONYM_SECRET="soak", LIVEMON_TICK_S=str(args.tick),
               LIVEMON_PUBLISH_S=str(args.publish), LIVEMON_CHECKPOINT_S=str(args.checkpoint),
               LIVEMON_WS_PER_TOKEN="10000", LIVEMON_INGEST_RATE=str(ingest_rate),
               LIVEMON_INGEST_BURST=str(int(ingest_rate * 2)),
               LIVEMON_LOG_LEVEL="WARNING")
    children = {name: subprocess.Popen([sys.executable, "-m", "livemon", name], env=env,
                                       stdout=subprocess.DEVNULL, stderr=(workdir / f"{name}.log").open("wb"))
                for name in ("web", "engine")}
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("web did not start; see " + str(workdir / "web.log"))
            time.sleep(0.2)
        token = create_token(redis_server.url, "wall")
        assert redis_server.process is not None
        pids = {"web": children["web"].pid, "engine": children["engine"].pid, "redis": redis_server.process.pid}
        partitions = int(env.get("LIVEMON_PARTITIONS", "8"))
        rows = [asyncio.run(phase(name, url, redis_server.url, rate, args.sessions, args.clients, seconds, pids, token,
                                  args.generators, partitions))
                for name, rate, seconds in (("baseline", args.rate / 10, 20), ("soak", args.rate, minutes * 60),
                                            *((f"at{r:g}", r, minutes * 60) for r in sweep))]
    finally:
        for child in children.values():
            child.terminate()
        for child in children.values():
            child.wait(timeout=15)
        redis_server.stop()

    report(rows, args)


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    """Print the tables and the JSON line."""
    print(f"\nlivemon soak: {args.sessions} sessions, {args.clients} websocket clients, tick {args.tick}s, "
          f"publish {args.publish}s, checkpoint {args.checkpoint}s, {args.generators} generator processes, "
          f"{os.cpu_count()} CPUs\n")
    print(f"{'phase':<9} {'asked/s':>8} {'offered':>8} {'accepted':>8} {'min':>5} {'samples':>8} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'post err':>8} {'ws drops':>8}  RSS MB (slope MB/min)")
    for r in rows:
        rss = ", ".join(f"{k} {r['rss_mb'][k]} ({r['rss_slope_mb_per_min'][k]:+})" for k in r["rss_mb"])
        print(f"{r['phase']:<9} {r['rate']:>8.0f} {r['offered']:>8} {r['achieved']:>8} {r['seconds'] / 60:>5.1f} "
              f"{r['samples']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['post_errors']:>8} "
              f"{r['ws_disconnects']:>8}  {rss}")
    print("\nwhere the time goes (p50 / p99 ms; stages from a sample of comments followed through Redis):")
    names = {"post_rtt": "POST request → 200 (per request)", **STAGE_NAMES,
             "client_loop_lag": "bench clients' event-loop lag"}
    print(f"  {'stage':<50}" + "".join(f"{r['phase']:>30}" for r in rows))
    for key, label in names.items():
        cells = "".join(f"{c['p50']:>9} / {c['p99']:>8} (n {c['n']:>6})" for r in rows for c in [r["stages_ms"][key]])
        print(f"  {label:<50}{cells}")
    print()
    for r in rows:
        cores = ", ".join(f"{k} {v} s ({v / r['seconds']:.2f} cores)" for k, v in r["cpu_s"].items())
        print(f"{r['phase']}: CPU {cores}; websocket closes by code {r['ws_close_codes']}; "
              f"POST errors by status {r['post_error_kinds']}")
    print(orjson.dumps({"bench": "soak", "tick_s": args.tick, "publish_s": args.publish,
                        "checkpoint_s": args.checkpoint, "sessions": args.sessions, "generators": args.generators,
                        "rows": rows}).decode())


if __name__ == "__main__":
    main()
