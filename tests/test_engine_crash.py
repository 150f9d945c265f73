"""Crash test (issue 3): ≥100k events through HTTP ingest, the engine SIGKILLed three times, totals exact.

The stream: six simulated rooms (`ingest.simulator`, advanced in 10-s chunks as
`livemon simulate --fast` does) plus a seeded order flow per room (placed → paid, some
cancelled, some refunded, some paid twice under a new id as platforms re-notify), shuffled
by up to 4 s of event time (within the engine's 5-s lateness), with about 1 % of events
sent again later under the same id. The ingest gate's de-duplication TTL is 1 s, so most
of those copies get past it and reach the event streams (some after a crash, their
original folded by the killed process): the engine's own de-duplication is what keeps
them from counting twice.

The events go through the real path: POST /api/v1/events in batches of 5,000, web and
engine as subprocesses, real Redis. After a seeded random batch, the test waits until
the running engine has folded a seeded random number of entries (`lm:stats:engine`),
posts the next batch, waits until entries are delivered but not yet checkpointed (XPENDING
> 0), and SIGKILLs the engine; a new one is started at once and waits out the dead one's
partition leases (TTL 3 s) while posting goes on.

At the end (nothing pending, every partition's checkpoint at its stream's last entry) each
room's published totals must equal a brute-force recomputation from the generated events
and an uninterrupted in-process `monitor.engine.Engine` fed the same batches.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import redis

from ingest.batch import validate_batch
from ingest.simulator import SimConfig, SimulatedSession
from livemon import keys
from monitor.config import load_engine_config
from monitor.engine import Engine
from tests import redis_sync
from tests.support import Stack, wait_for

SEED = 20_240_611
ROOMS = 6
RATE = 80.0  # events/s per room: 6 rooms × 300 s ≈ 107k simulated events
DURATION_S = 300
CHUNK_S = 10.0  # `livemon simulate --fast` steps
EXTRA_ORDERS = 400  # per room, on top of the simulator's few hundred
DISORDER_MS = 4_000  # < lateness_s (5 s): every event lands exactly in its window
DUPLICATE_SHARE = 0.01
BATCH = 5_000
KILLS = 3
PARTITIONS = 8
PSEUDONYM_SECRET = b"test-secret"  # what tests.support.stack_env gives the web process

# Session totals the crash run must reproduce exactly.
TOTALS = ("events_total", "comments_total", "likes_total", "follows_total", "shares_total", "clicks_total",
          "carts_total", "orders_total", "paid_total", "unpaid", "buyers", "gmv_total", "refunds", "refund_amount",
          "gmv_net", "unique_viewers", "views", "peak_online")
PRODUCT_TOTALS = ("clicks_total", "carts_total", "orders_total", "paid_total", "gmv_total", "refunds", "unpaid")
ORDER_FIGURES = ("orders_total", "paid_total", "gmv_total", "unpaid")
VIEWER_KINDS = {"join", "comment", "like", "share", "follow", "gift", "product_click", "add_to_cart"}


# ---------------------------------------------------------------------------------------------- the stream


def simulated(start: float) -> tuple[list[dict[str, Any]], list[SimulatedSession]]:
    """The rooms' events, chunked as `livemon simulate --fast` does."""
    config = SimConfig(rate=RATE, duration_s=DURATION_S)
    rooms = [SimulatedSession(f"crash-{i + 1}", SEED + i, RATE, start, config) for i in range(ROOMS)]
    events: list[dict[str, Any]] = []
    last = start
    while last - start < DURATION_S + 1:
        now = last + CHUNK_S
        events.extend(e for room in rooms for e in room.events_between(last, now))
        last = now
    return events, rooms


def order_flow(room: SimulatedSession, rng: np.random.Generator) -> Iterator[dict[str, Any]]:
    """Seeded orders on the room's products: placed, then mostly paid, some cancelled, refunded or paid twice."""
    start_ms = int(room.start * 1000)
    for n in range(EXTRA_ORDERS):
        product = room.products[int(rng.integers(len(room.products)))]
        order_id, buyer = f"{room.session}-x{n}", f"buyer-{int(rng.integers(300))}"
        placed = start_ms + int(rng.integers(5_000, (DURATION_S - 30) * 1000))
        common = {"session": room.session, "type": "order", "platform": room.platform, "user": buyer,
                  "product": product.product, "amount": product.price, "currency": "CNY", "order_id": order_id}
        yield {**common, "id": f"{order_id}-placed", "ts": placed, "status": "placed"}
        fate = rng.random()
        if fate < 0.10:
            yield {**common, "id": f"{order_id}-cancelled", "ts": placed + int(rng.integers(1_000, 20_000)),
                   "status": "cancelled"}
        elif fate < 0.85:
            paid = placed + int(rng.integers(1_000, 20_000))
            yield {**common, "id": f"{order_id}-paid", "ts": paid, "status": "paid"}
            if rng.random() < 0.10:  # the platform notifies the payment again, under a new event id
                yield {**common, "id": f"{order_id}-paid-again", "ts": paid + int(rng.integers(0, 3_000)),
                       "status": "paid"}
            if rng.random() < 0.05:  # a partial refund
                yield {**common, "id": f"{order_id}-refund", "ts": paid + int(rng.integers(1_000, 5_000)),
                       "status": "refunded", "amount": round(product.price / 2, 2)}
        # else: left unpaid (压单)


def generate_stream(rng: np.random.Generator, start: float) -> list[dict[str, Any]]:
    """All events in arrival order: disordered within the lateness, with later copies of some ids."""
    events, rooms = simulated(start)
    for room in rooms:
        events.extend(order_flow(room, rng))
    shuffle_key = np.array([e["ts"] for e in events]) + rng.integers(0, DISORDER_MS, len(events))
    arrival = [events[i] for i in np.argsort(shuffle_key, kind="stable")]
    copies = rng.choice(len(arrival), int(DUPLICATE_SHARE * len(arrival)), replace=False)
    later = [(int(i) + int(rng.integers(1, 40_000)), dict(arrival[int(i)])) for i in copies]
    for position, copy in sorted(later, key=lambda p: p[0], reverse=True):
        arrival.insert(min(position, len(arrival)), copy)
    return arrival


# ------------------------------------------------------------------------------------------- brute force


def brute_force(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every compared total per session, straight from docs/metrics.md, counting each (session, id) once.

    Per product (under "products"): the order figures, an order's product being the one on its first event.
    """
    distinct: dict[str, dict[str, dict[str, Any]]] = {}
    for e in events:
        distinct.setdefault(e["session"], {}).setdefault(e["id"], e)
    return {session: session_totals(list(by_id.values())) for session, by_id in distinct.items()}


def session_totals(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Brute-force totals of one session's distinct events."""
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    counts = [e for e in events if e["type"] == "viewer_count"]
    by_order: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        if e["type"] == "order":
            by_order.setdefault(e.get("order_id") or e["id"], []).append(e)
    products: dict[str, dict[str, float]] = {}
    orders = paid = unpaid = 0
    gmv = 0.0
    buyers: set[str] = set()
    for evs in by_order.values():
        first = min(evs, key=lambda e: (e["ts"], e["id"]))
        product = products.setdefault(first.get("product") or "", dict.fromkeys(ORDER_FIGURES, 0.0))
        statuses = {e["status"] for e in evs}
        paid_events = [e for e in evs if e["status"] == "paid"]
        buyers |= {e["user"] for e in paid_events if e.get("user")}
        if statuses & {"placed", "paid"}:
            orders += 1
            product["orders_total"] += 1
        if paid_events:  # GMV: the amount of each order's earliest payment (ties by id), once
            amount = min(paid_events, key=lambda e: (e["ts"], e["id"]))["amount"]
            paid += 1
            gmv += amount
            product["paid_total"] += 1
            product["gmv_total"] += amount
        if "placed" in statuses and not statuses & {"paid", "cancelled"}:
            unpaid += 1
            product["unpaid"] += 1
    refunds = [e for e in events if e["type"] == "order" and e["status"] == "refunded"]
    refund_amount = sum(e["amount"] for e in refunds)
    return {
        "events_total": len(events), "comments_total": kinds.get("comment", 0),
        "likes_total": sum(e.get("count") or 1 for e in events if e["type"] == "like"),
        "follows_total": kinds.get("follow", 0), "shares_total": kinds.get("share", 0),
        "clicks_total": kinds.get("product_click", 0), "carts_total": kinds.get("add_to_cart", 0),
        "orders_total": orders, "paid_total": paid, "unpaid": unpaid, "buyers": len(buyers),
        "gmv_total": round(gmv, 2), "refunds": len(refunds), "refund_amount": round(refund_amount, 2),
        "gmv_net": round(gmv - refund_amount, 2),
        "unique_viewers": len({e["user"] for e in events if e["type"] in VIEWER_KINDS and e.get("user")}),
        # views: the platform's cumulative viewers (the engine keeps the largest), else joins
        "views": max((e.get("total_viewers") or 0 for e in counts), default=0) or kinds.get("join", 0),
        "peak_online": max((e["viewers"] for e in counts), default=0),
        "products": {name: {k: round(v, 2) for k, v in figures.items()} for name, figures in products.items()},
    }


def uninterrupted(batches: list[list[dict[str, Any]]], now: float) -> dict[str, dict[str, Any]]:
    """Snapshots of one in-process engine fed every batch (copies included), as the runner folds them."""
    engine = Engine(load_engine_config())
    for batch in batches:
        engine.apply_wire([e.wire for e in validate_batch(batch, PSEUDONYM_SECRET)])
    return {snap["session"]: snap for snap in engine.tick(now).snapshots}


# ---------------------------------------------------------------------------------------- observing Redis


def pending(client: redis.Redis) -> int:
    """Entries delivered to an engine and not yet checkpointed (XACKed with the checkpoint)."""
    with client.pipeline(transaction=False) as pipe:
        for p in range(PARTITIONS):
            pipe.xpending(keys.events_stream(p), keys.ENGINE_GROUP)
        replies = pipe.execute(raise_on_error=False)
    return sum(r["pending"] for r in replies if isinstance(r, dict))


def folded_since(client: redis.Redis, started_at: float) -> int:
    """Entries the engine started at `started_at` has folded, as of its last tick (0 before its first)."""
    raw = client.hget(keys.ENGINE_STATS, "engine-1")
    stats = orjson.loads(raw) if raw else {}
    return int(stats["events"]) if stats and stats["at"] > started_at else 0


def fully_checkpointed(client: redis.Redis) -> bool:
    """Every stream's last entry is at or below its partition's checkpointed position."""
    for p in range(PARTITIONS):
        last = redis_sync.xrevrange(client, keys.events_stream(p), count=1)
        if not last:
            continue
        raw = client.get(keys.checkpoint_key(p))
        if raw is None:
            return False
        done = tuple(map(int, orjson.loads(raw)["last_id"].split("-")))
        if done < tuple(map(int, last[0][0].decode().split("-"))):
            return False
    return True


def stream_entries(client: redis.Redis) -> int:
    return len(redis_sync.stream_events(client, *(keys.events_stream(p) for p in range(PARTITIONS))))


def differences(got: dict[str, Any], want: dict[str, Any], names: tuple[str, ...]) -> dict[str, tuple[Any, Any]]:
    """{name: (got, want)} for each named figure that differs."""
    return {k: (got.get(k), want.get(k)) for k in names if got.get(k) != want.get(k)}


# ----------------------------------------------------------------------------------------------- the test


@pytest.mark.timeout(240)
def test_engine_crash_three_sigkills_give_the_brute_force_and_uninterrupted_totals(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    rng = np.random.default_rng(SEED)
    start = time.time() - DURATION_S - 30  # the stream ends ~30 s ago: snapshots are published (quiet < 10 min)
    stream = generate_stream(rng, start)
    batches = [stream[i:i + BATCH] for i in range(0, len(stream), BATCH)]
    assert len(stream) >= 100_000
    # odd batch numbers, so two kills are at least two batches apart (the next engine has some to fold)
    kill_after = sorted(2 * int(k) + 1 for k in rng.choice((len(batches) - 3) // 2, KILLS, replace=False))

    generated_s = time.monotonic() - began
    stack = Stack(redis_url, tmp_path, LIVEMON_LEASE_TTL_S="3", LIVEMON_PARTITIONS=str(PARTITIONS),
                  LIVEMON_DEDUP_TTL_S="1",  # copies sent a second or more later pass the gate and reach the engine
                  LIVEMON_INGEST_RATE="10000000", LIVEMON_INGEST_BURST="10000000").start()
    kills: list[dict[str, Any]] = []
    started = time.monotonic()
    try:
        engine_started_at = time.time()
        accepted_since_start = 0
        kill_next = False
        for index, batch in enumerate(batches):
            response = stack.post(batch)
            assert response.status_code == 200, response.text
            accepted_since_start += response.json()["accepted"]
            if kill_next:  # the batch just posted is being read: kill before its checkpoint
                in_flight = wait_for(lambda: pending(redis_client), 20, "entries delivered, not yet checkpointed")
                stack.engine.kill()
                kills[-1]["pending_at_kill"] = in_flight
                engine_started_at = time.time()
                stack.restart_engine()
                accepted_since_start = 0
                kill_next = False
            if index in kill_after:
                target = int(rng.integers(1, accepted_since_start + 1))

                def folded(at: float = engine_started_at, n: int = target) -> bool:
                    return folded_since(redis_client, at) >= n

                wait_for(folded, 30, f"the engine to fold {target} entries before kill {len(kills) + 1}")
                kills.append({"after_batch": index, "folded_at_least": target})
                kill_next = True
        posted_s = time.monotonic() - started

        expected = brute_force(stream)
        sessions = sorted(expected)

        # A tick publishes its snapshots before it checkpoints, so once every entry is checkpointed the
        # published snapshots hold every fold.
        wait_for(lambda: pending(redis_client) == 0 and fully_checkpointed(redis_client), 60,
                 "the last engine to fold and checkpoint every entry")
        settled_s = time.monotonic() - started
        published = {s: stack.metrics(s) for s in sessions}
        reference = uninterrupted(batches, time.time())
        checked_s = time.monotonic() - started

        entries = stream_entries(redis_client)
        distinct = sum(t["events_total"] for t in expected.values())
        assert entries > distinct, "no duplicate got past the ingest gate: the engine's de-duplication went untested"
        assert len(kills) == KILLS and all(k["pending_at_kill"] > 0 for k in kills)

        for session in sessions:
            got = published[session]
            assert got is not None, session
            assert not differences(got, expected[session], TOTALS), f"{session}: crash run vs brute force"
            assert not differences(got, reference[session], TOTALS), f"{session}: crash run vs uninterrupted"
            crash_products = {p["product"]: {k: p[k] for k in PRODUCT_TOTALS} for p in got["products"]}
            reference_products = {p["product"]: {k: p[k] for k in PRODUCT_TOTALS}
                                  for p in reference[session]["products"]}
            assert crash_products == reference_products, f"{session}: per-product totals vs uninterrupted"
            brute_products = {name: {k: crash_products.get(name, {}).get(k) for k in ORDER_FIGURES}
                              for name in expected[session]["products"]}
            assert brute_products == expected[session]["products"], f"{session}: per-product orders vs brute force"
        print(f"\n{len(stream)} events ({distinct} distinct, {entries} stream entries), {len(batches)} batches; "
              f"kills {kills}; generated in {generated_s:.1f} s, posted in {posted_s:.1f} s, settled at "
              f"{settled_s:.1f} s, reference run done at {checked_s:.1f} s; "
              f"late_events crash {sum(published[s]['late_events'] for s in sessions)} "  # type: ignore[index]
              f"vs uninterrupted {sum(reference[s]['late_events'] for s in sessions)}")
    finally:
        stack.stop()
