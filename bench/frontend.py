"""Wallboard main-thread cost: 16 live tiles updating for 60 s in headless Chromium.

Starts a real stack (embedded Redis, `livemon web`, `livemon engine`), feeds 16 sessions
with viewers, comments, likes, clicks and orders twice a second, opens `/wall` at
1920×1080 and reads Chromium's own counters through the DevTools protocol
(`Performance.getMetrics`): `TaskDuration` is the time the page's main thread spent in
tasks, so busy share = ΔTaskDuration / Δwall time. Also counts websocket frames the page
received (the hub paces each client: at most 20 batches and about MESSAGES_PER_S snapshots a
second, livemon/web/websocket.py) and snapshots inside them.

    python bench/frontend.py [--seconds 60] [--quick]

Target: busy < 20 %. Prints a table and ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import CDPSession

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livemon.redis_server import EmbeddedRedis
from tests.browser import chromium
from tests.events_factory import raw_event
from tests.support import Stack, wait_for

SESSIONS = [f"bench-{i:02d}" for i in range(16)]
FEED_EVERY_S = 0.5
TARGET_BUSY = 0.20
COUNTERS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "JSHeapUsedSize")


def feed(stack: Stack, rng: random.Random, viewers: dict[str, int]) -> int:
    """Post one round of events for every session; return how many were sent."""
    batch: list[dict[str, object]] = []
    for session in SESSIONS:
        viewers[session] = max(50, viewers[session] + rng.randint(-40, 45))
        batch.append(raw_event("viewer_count", session, viewers=viewers[session]))
        batch += [raw_event("comment", session, user=f"u{rng.randint(0, 999)}", text=rng.choice(
            ["好看", "多少钱", "上链接", "nice", "还有货吗", "太贵了"])) for _ in range(rng.randint(1, 4))]
        batch.append(raw_event("like", session, user=f"u{rng.randint(0, 999)}", count=rng.randint(1, 5)))
        batch.append(raw_event("product_click", session, user=f"u{rng.randint(0, 999)}", product="p1"))
        if rng.random() < 0.3:
            batch.append(raw_event("order", session, user=f"u{rng.randint(0, 999)}", product="p1", qty=1,
                                   amount=round(rng.uniform(9, 199), 2), status="paid"))
    response = stack.post(batch)
    response.raise_for_status()
    return len(batch)


def metrics(cdp: CDPSession) -> dict[str, float]:
    """Chromium's cumulative page counters (seconds for durations, bytes for the heap)."""
    reply = cdp.send("Performance.getMetrics")
    return {m["name"]: m["value"] for m in reply["metrics"] if m["name"] in COUNTERS}


def run(seconds: float, feed_every_s: float = FEED_EVERY_S) -> dict[str, float]:
    rng = random.Random(7)
    viewers = {s: 1000 + 100 * i for i, s in enumerate(SESSIONS)}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp) / "redis") as redis_server:
        stack = Stack(redis_server.url, Path(tmp)).start()
        try:
            feed(stack, rng, viewers)
            wait_for(lambda: stack.metrics(SESSIONS[-1]), what="last session snapshot")
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
                frames = {"n": 0, "snapshots": 0}

                def on_frame(payload: str | bytes) -> None:
                    frames["n"] += 1
                    text = payload.decode() if isinstance(payload, bytes) else payload
                    frames["snapshots"] += text.count('"type":"snapshot"')

                page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
                stack.sign_in(page, "/wall")
                page.locator(".tile").nth(15).wait_for(timeout=15_000)
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                feed(stack, rng, viewers)
                before, started = metrics(cdp), time.monotonic()
                frames.update(n=0, snapshots=0)
                events = 0
                next_feed = started
                while time.monotonic() - started < seconds:
                    events += feed(stack, rng, viewers)
                    next_feed += feed_every_s
                    page.wait_for_timeout(max(0.0, next_feed - time.monotonic()) * 1000)  # keeps Playwright's loop running
                after, elapsed = metrics(cdp), time.monotonic() - started
                stale = page.locator('.tile[data-stale="true"]').count()
        finally:
            stack.stop()
    delta = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in COUNTERS if k != "JSHeapUsedSize"}
    return {
        "seconds": round(elapsed, 1),
        "tiles": 16,
        "feed_every_s": feed_every_s,
        "events_posted": events,
        "busy_share": round(delta["TaskDuration"] / elapsed, 4),
        "script_share": round(delta["ScriptDuration"] / elapsed, 4),
        "layout_share": round(delta["LayoutDuration"] / elapsed, 4),
        "style_share": round(delta["RecalcStyleDuration"] / elapsed, 4),
        "ws_frames_per_s": round(frames["n"] / elapsed, 2),
        "snapshots_per_s": round(frames["snapshots"] / elapsed, 2),
        "js_heap_mb": round(after.get("JSHeapUsedSize", 0.0) / 1e6, 1),
        "stale_tiles_at_end": stale,
        "target_busy_share": TARGET_BUSY,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quick", action="store_true", help="a 10-s run for CI and smoke checks")
    parser.add_argument("--feed-every", type=float, default=FEED_EVERY_S,
                        help="seconds between rounds of events (0.1: every room busy, the wall's worst case)")
    args = parser.parse_args()
    result = run(10.0 if args.quick else args.seconds, args.feed_every)
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    verdict = "meets" if result["busy_share"] < TARGET_BUSY else "MISSES"
    print(f"main thread busy {result['busy_share']:.1%} {verdict} the < {TARGET_BUSY:.0%} target")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
