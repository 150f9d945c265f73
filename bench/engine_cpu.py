"""Engine-process CPU per 1,000 events: the whole `livemon engine` (reads, fold, comment stage, publish).

Usage: .venv/bin/python bench/engine_cpu.py [--baseline-tree DIR] [--rate N] [--seconds S] [--repeat K] [--backlog]

bench/engine.py times the core (`Engine.apply_wire`) alone; this bench times what a user
pays for: one real `livemon engine` process on 8 partitions of a real embedded Redis, fed at
a steady rate through the ingest path's writer (`ingest.writer.EventWriter`: the same Lua
de-dup + XADD as `POST /api/v1/events`). The load is simulated rooms
(`ingest.simulator.SimulatedSession`, after a 30-s warm-up whose session starts are kept):
joins, comments (questions, spam, emoji), likes, gifts, carts and orders in the simulator's mix.

The figure is the engine process's user + system CPU seconds (/proc) from the first write
until the engine reports every event folded (`lm:stats:engine`, written each tick), per
1,000 events: its reads, fold, comment stage, tick, publishes and checkpoints, as deployed.
CPU seconds move less than wall time when other processes share the cores, but two things
still do, so each run shows them: a slower engine reads bigger batches (events per
XREADGROUP), which cost less per event, so it looks cheaper than it is; and publishing costs
CPU per wall second, so a run that overran its seconds reads higher.

Named baseline: `--baseline-tree` is another checkout (e.g. a `git worktree` of an earlier
commit); its engine runs on the same events in the same run, alternating with this tree's
engine `--repeat` times each, and the table shows the median of each. The writer and the
events always come from this tree, so only the engine's code differs (an engine from before
stop 22 cannot read this writer's entries of several events: docs/storage.md). `--gc-off`
adds a third engine: this tree with `LIVEMON_GC_THRESHOLD=0` (CPython's garbage-collector
defaults, livemon/gc_policy.py), to tell the collector policy apart from everything else
that differs from the baseline.

Memory: each run reads the engine's RSS when it has folded everything and its peak RSS
(VmHWM, start-up included) from /proc.

Prints a table, then one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_stats import cpu_times
from ingest.simulator import SimConfig, SimulatedSession
from ingest.writer import EventWriter
from livemon import keys
from livemon.redis_client import connect
from livemon.redis_server import EmbeddedRedis
from monitor.event_parsing import parse_event
from monitor.events import Event
from tests.support import wait_for

PARTITIONS = 8
ROOMS = 40
WARMUP_S = 30.0
STEP_S = 0.05  # the writer sends what has come due every 50 ms
EVENTS_PER_RATE = 0.49  # the simulator's rooms emit about half their nominal rate once warmed up


def simulate(rate: float, seconds: float) -> list[dict[str, Any]]:
    """Events of ROOMS rooms over `seconds` after a warm-up, ts relative to the first measured second (ms)."""
    per_room = rate / ROOMS / EVENTS_PER_RATE
    rooms = [SimulatedSession(f"room-{i}", 7000 + i, per_room, 0.0, SimConfig(rate=per_room)) for i in range(ROOMS)]
    out: list[dict[str, Any]] = []
    for room in rooms:
        out += [e for e in room.events_between(0.0, WARMUP_S) if e["type"] == "session_start"]
        out += room.events_between(WARMUP_S, WARMUP_S + seconds)
    out.sort(key=lambda e: e["ts"])
    for e in out:
        e["ts"] = max(0, e["ts"] - int(WARMUP_S * 1000))
    return out


def rss_mb(pid: int) -> tuple[float, float]:
    """The process's resident set now and at its peak (VmRSS, VmHWM), MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024  # kB


async def folded(client: Any, name: str) -> int:
    raw = await client.hget(keys.ENGINE_STATS, name)
    return int(orjson.loads(raw)["events"]) if raw else 0


async def xreadgroup_calls(client: Any) -> int:
    """XREADGROUP calls Redis has served (INFO commandstats): the engine's reads, empty ones included."""
    stats = await client.info("commandstats")
    return int(stats.get("cmdstat_xreadgroup", {}).get("calls", 0))


async def feed(url: str, raw: list[dict[str, Any]], seconds: float, pid: int, name: str,
               backlog: bool) -> dict[str, float]:
    """Write the events paced over `seconds` (event time = wall time); the engine's CPU until all are folded.

    `backlog`: write them all while the engine is stopped (SIGSTOP), then let it catch up: every
    read brings about `READ_EVENTS` events, as when the engine is behind, whatever the load on the machine.
    """
    client = connect(url)
    writer = EventWriter(client, PARTITIONS, 900, 1_000_000)
    start_ms = int(time.time() * 1000) + 2000  # parsing below takes about a second
    events: list[Event] = [parse_event({**e, "ts": e["ts"] + start_ms}) for e in raw]
    encoded = [e.encoded() for e in events]
    while time.time() * 1000 < start_ms:
        await asyncio.sleep(0.01)
    if backlog:
        os.kill(pid, signal.SIGSTOP)
        for i in range(0, len(events), 2000):
            await writer.append(encoded[i : i + 2000])
    reads_before = await xreadgroup_calls(client)
    cpu_before = cpu_times(pid)
    started = time.perf_counter()
    if backlog:
        os.kill(pid, signal.SIGCONT)
    sent, step = len(events) if backlog else 0, 0
    while sent < len(events):
        step += 1
        due_ms = start_ms + step * STEP_S * 1000
        upto = sent
        while upto < len(events) and events[upto].ts <= due_ms:
            upto += 1
        if upto > sent:
            await writer.append(encoded[sent:upto])
            sent = upto
        await asyncio.sleep(max(0.0, started + step * STEP_S - time.perf_counter()))
    written = time.perf_counter()
    while await folded(client, name) < len(events):
        await asyncio.sleep(0.02)
    done = time.perf_counter()
    rss, peak = rss_mb(pid)
    user, system = (after - before for after, before in zip(cpu_times(pid), cpu_before, strict=True))
    cpu = user + system
    reads = await xreadgroup_calls(client) - reads_before
    await client.aclose()
    return {"events": len(events), "cpu_ms_per_1k": cpu * 1000 / (len(events) / 1000), "sys_share": system / cpu,
            "wall_s": done - started, "lag_s": done - written, "events_per_read": len(events) / max(reads, 1),
            "rss_mb": rss, "peak_rss_mb": peak}


def run_once(tree: Path, raw: list[dict[str, Any]], seconds: float, workdir: Path, backlog: bool,
             profile: Path | None, engine_env: dict[str, str]) -> dict[str, float]:
    """One fresh Redis and one engine of `tree` (with `engine_env` added to its environment); feed the events."""
    name = "bench-cpu"
    with EmbeddedRedis(workdir / "redis") as server:
        env = {**os.environ, "REDIS_URL": server.url, "LIVEMON_PARTITIONS": str(PARTITIONS),
               "LIVEMON_DATA_DIR": str(workdir), "LIVEMON_PSEUDONYM_SECRET": "bench", "LIVEMON_ENGINE_NAME": name,
               "LIVEMON_LOG_LEVEL": "WARNING", "PYTHONPATH": str(tree),
               "LIVEMON_LEASE_TTL_S": "300", **engine_env}  # leases outlast a stopped engine (--backlog)
        with (workdir / "engine.log").open("ab") as log:
            engine = subprocess.Popen([sys.executable, "-m", "livemon", "engine"], env=env, cwd=tree,
                                      stdout=log, stderr=subprocess.STDOUT)
        spy = None
        try:
            async def leased() -> bool:
                client = connect(server.url)
                owners = [await client.get(keys.lease_key(p)) for p in range(PARTITIONS)]
                await client.aclose()
                return all(o is not None for o in owners)

            wait_for(lambda: asyncio.run(leased()), 120, "the engine to lease every partition")
            if profile is not None:
                spy = subprocess.Popen(["/tmp/pyspy/v/bin/py-spy", "record", "-p", str(engine.pid), "-o",
                                        str(profile), "--format", "raw", "-r", "200"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return asyncio.run(feed(server.url, raw, seconds, engine.pid, name, backlog))
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            engine.send_signal(signal.SIGTERM)
            try:
                engine.wait(timeout=60)
            except subprocess.TimeoutExpired:
                engine.kill()
                engine.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-tree", type=Path, default=None, help="checkout whose engine is the baseline")
    parser.add_argument("--rate", type=float, default=5_000, help="events/s offered (about)")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each engine, alternating")
    parser.add_argument("--backlog", action="store_true",
                        help="write everything while the engine is stopped, then time its catch-up")
    parser.add_argument("--gc-off", action="store_true",
                        help="also run this tree's engine with LIVEMON_GC_THRESHOLD=0 (CPython's GC defaults)")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw profile of this tree's last run")
    args = parser.parse_args()
    if args.backlog and args.profile:
        parser.error("--profile does not go with --backlog: py-spy's sampling keeps the stopped engine from resuming")
    raw = simulate(args.rate, args.seconds)
    kinds: dict[str, int] = {}
    for e in raw:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    trees: dict[str, tuple[Path, dict[str, str]]] = {"baseline": (args.baseline_tree, {})} if args.baseline_tree else {}
    if args.gc_off:
        trees["GC off"] = (ROOT, {"LIVEMON_GC_THRESHOLD": "0"})
    trees["this tree"] = (ROOT, {})
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for k in range(args.repeat):
        for name, (tree, engine_env) in trees.items():
            last = name == "this tree" and k == args.repeat - 1
            with tempfile.TemporaryDirectory() as tmp:
                runs[name].append(run_once(tree.resolve(), raw, args.seconds, Path(tmp), args.backlog,
                                           args.profile if last else None, engine_env))
    mix = ", ".join(f"{kind} {n / len(raw):.0%}" for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
    how = "written while the engine is stopped, then caught up" if args.backlog else \
        f"in {args.seconds:.0f} s (~{len(raw) / args.seconds:,.0f}/s)"
    print(f"\nengine process CPU, {len(raw):,} events over {ROOMS} rooms {how}, {PARTITIONS} partitions, "
          f"median of {args.repeat}; mix: {mix}")
    print("(per run: CPU ms / 1k events @ events per XREADGROUP, wall s: see the module docstring; RSS MB when all "
          "is folded, peak)")
    print(f"{'engine':<12}{'CPU ms / 1k ev':>16}{'vs base':>9}{'system':>8}{'wall s':>8}{'RSS MB':>8}{'peak':>7}   runs")
    summary: dict[str, dict[str, float]] = {}
    for name, results in runs.items():
        summary[name] = {m: statistics.median(r[m] for r in results)
                         for m in ("cpu_ms_per_1k", "sys_share", "wall_s", "events_per_read", "rss_mb",
                                   "peak_rss_mb")}
    base = summary.get("baseline", summary["this tree"])["cpu_ms_per_1k"]
    for name, results in runs.items():
        runs_txt = "  ".join(f"{r['cpu_ms_per_1k']:.1f} @ {r['events_per_read']:.0f}, {r['wall_s']:.1f} s"
                             for r in results)
        print(f"{name:<12}{summary[name]['cpu_ms_per_1k']:>16.1f}{summary[name]['cpu_ms_per_1k'] / base:>8.2f}x"
              f"{summary[name]['sys_share']:>8.0%}{summary[name]['wall_s']:>8.1f}{summary[name]['rss_mb']:>8.0f}"
              f"{summary[name]['peak_rss_mb']:>7.0f}   {runs_txt}")
    print(orjson.dumps({"bench": "engine_cpu", "events": len(raw), "rate": None if args.backlog else args.rate,
                        "backlog": args.backlog, "repeat": args.repeat,
                        "baseline": "baseline" if args.baseline_tree else None, "gc_off": args.gc_off,
                        "results": {k: {m: round(v, 2) for m, v in r.items()} for k, r in summary.items()}}).decode())


if __name__ == "__main__":
    main()
