"""The wallboard in real headless Chromium: live numbers appear, hostile comment text stays text."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import orjson
import redis
from playwright.sync_api import expect

from livemon import keys
from tests import redis_sync
from tests.browser import chromium, dismiss_dialogs, screenshot_path
from tests.events_factory import mixed_batch, raw_event
from tests.support import Stack, wait_for

HOSTILE = "<img src=x onerror=alert(1)>"


def test_wallboard_shows_live_number_and_comment_as_text(stack: Stack) -> None:
    stack.post(mixed_batch("room-w", comments=3, likes=2, orders=1, viewers=4321)
               + [raw_event("comment", "room-w", user="x", text=HOSTILE)])
    wait_for(lambda: stack.metrics("room-w"), what="room-w snapshot")
    dialogs: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        dismiss_dialogs(page, dialogs)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        stack.sign_in(page, "/wall")
        tile = page.locator('.tile[data-session="room-w"]')
        tile.locator('[data-metric="online"]', has_text="4,321").wait_for(timeout=10_000)
        comments = tile.locator(".comments li")
        assert HOSTILE in comments.all_text_contents()
        assert tile.locator(".comments img").count() == 0
        assert page.locator("#connection").get_attribute("data-state") == "open"
        page.screenshot(path=screenshot_path("wallboard.png"))
    assert dialogs == []
    assert errors == []


def focus_events(session: str) -> list[dict[str, object]]:
    """A room with a pinned product selling out and unpaid orders on another (压单)."""
    now = int(time.time() * 1000)
    products = [{"id": "sku-1", "name": "Serum", "price": 59.9, "stock": 30, "margin": 0.4},
                {"id": "sku-2", "name": "Cleanser", "price": 29.9, "stock": 500, "margin": 0.3}]
    batch = [raw_event("session_start", session, ts=now - 5000, title="Autumn skincare", host="Lin",
                       products=products),
             raw_event("viewer_count", session, ts=now - 4000, viewers=2500),
             raw_event("product_pin", session, ts=now - 3000, product="sku-1")]
    batch += [raw_event("product_click", session, user=f"v{i}", product="sku-1") for i in range(12)]
    batch += [raw_event("order", session, user=f"v{i}", product="sku-1", qty=1, amount=59.9, status="paid")
              for i in range(5)]
    batch += [raw_event("order", session, user=f"w{i}", product="sku-2", qty=1, amount=29.9, status="placed")
              for i in range(3)]
    batch += [raw_event("stock", session, product="sku-1", stock=6)]
    return batch


def test_wallboard_focus_view_shows_product_table_funnel_and_curves(stack: Stack) -> None:
    stack.post(focus_events("room-f"))
    wait_for(lambda: stack.metrics("room-f"), what="room-f snapshot")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        stack.sign_in(page, "/wall?focus=room-f")
        focus = page.locator("#focus")
        expect(focus.locator(".focus-title")).to_have_text("Autumn skincare", timeout=10_000)
        serum = focus.locator('.products tr[data-product="sku-1"]')
        expect(serum).to_have_attribute("data-pinned", "true")
        expect(serum.locator("td").nth(0)).to_have_text("12")  # clicks in the last 5 min
        expect(serum).to_have_attribute("data-low-stock", "true")
        expect(focus.locator('.funnel li[data-step="paid"] .value')).to_have_text("5")
        expect(focus.locator('[data-chart="online"] canvas')).to_have_count(1, timeout=15_000)
        # a show minutes old is drawn over its first 10 minutes, not as a sliver of the engine's hour
        expect(focus.locator('[data-chart="online"]')).to_have_attribute("data-minutes", "10")
        expect(page.locator("#tiles")).to_be_hidden()

        focus.locator('[data-filter="unpaid"]').click()  # 压单: only the product with unpaid orders
        expect(focus.locator(".products tbody tr")).to_have_count(1)
        expect(focus.locator('.products tr[data-product="sku-2"] td').nth(3)).to_have_text("3")
        focus.locator('[data-filter="all"]').click()
        page.screenshot(path=screenshot_path("wallboard-focus.png"))

        page.locator("#back").click()  # back to the grid, and a tile click focuses again
        tile = page.locator('.tile[data-session="room-f"]')
        expect(tile).to_be_visible()
        tile.click()
        expect(focus).to_be_visible()
    assert errors == []


def test_wallboard_grid_fits_16_sessions_in_chinese_and_marks_stale_tiles_and_delay(stack: Stack) -> None:
    sessions = [f"room-{i:02d}" for i in range(16)]
    stack.post([raw_event("viewer_count", s, viewers=1000 + i) for i, s in enumerate(sessions)])
    wait_for(lambda: stack.metrics(sessions[-1]), what="last room snapshot")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        stack.sign_in(page, "/wall")
        tiles = page.locator(".tile")
        expect(tiles).to_have_count(16, timeout=10_000)
        expect(page.locator("#connection")).to_have_text("实时")
        expect(tiles.first.locator(".kpi-online .label")).to_have_text("在线人数")
        assert page.evaluate("getComputedStyle(document.getElementById('tiles')).gridTemplateColumns.split(' ').length") == 4
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight")  # kiosk: nothing off-screen
        last = tiles.nth(15).bounding_box()
        assert last is not None and last["y"] + last["height"] <= 1080
        english = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        stack.sign_in(english, "/wall")  # the sandbox has no CJK font, so the picture is in English
        expect(english.locator(".tile")).to_have_count(16, timeout=10_000)
        english.screenshot(path=screenshot_path("wallboard-16.png"))
        english.set_viewport_size({"width": 3840, "height": 2160})  # 4K: same layout, twice the pixels
        assert english.evaluate("getComputedStyle(document.documentElement).fontSize") == "40px"
        assert english.evaluate("document.documentElement.scrollHeight <= innerHeight")
        english.close()

        stack.engine.stop()  # no more snapshots: every tile shows it is stale after 5 s
        expect(page.locator('.tile[data-stale="true"]')).to_have_count(16, timeout=12_000)
        expect(tiles.first.locator(".age")).to_contain_text("无数据")
        # the link is fine but the engine is silent: after 10 s the page-level indicator says so
        expect(page.locator("#connection")).to_have_attribute("data-state", "delayed", timeout=20_000)
        expect(page.locator("#connection")).to_have_text("数据延迟")


def test_wallboard_sends_the_screen_to_sign_in_when_its_token_is_revoked(stack: Stack) -> None:
    token = stack.token("wall")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="en-US")
        stack.sign_in(page, "/wall?focus=room-w", token=token)
        expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
        subprocess.run([sys.executable, "-m", "livemon", "token", "revoke", token.split("_")[1]],
                       env=stack.env, check=True, capture_output=True)
        page.wait_for_url("**/login?next=%2Fwall%3Ffocus%3Droom-w", timeout=20_000)
        expect(page.locator("input[name=token]")).to_be_visible()


def test_wallboard_marks_a_tile_whose_session_the_engine_holds_out(stack: Stack, redis_client: redis.Redis) -> None:
    stack.post(mixed_batch("room-f", comments=2, likes=0, orders=1, viewers=800))
    wait_for(lambda: stack.metrics("room-f"), what="room-f snapshot")
    stack.engine.stop()
    # What the engine publishes for a held-out session (livemon/quarantine.py): its last
    # snapshot with a `fault`, republished every tick.
    raw = redis_sync.hget(redis_client, keys.SNAPSHOTS, "room-f")
    assert raw is not None
    frozen = orjson.loads(raw)
    frozen["fault"] = {"error": "RuntimeError: boom", "since": time.time() - 125, "skipped": 42}
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="en-US")
        stack.sign_in(page, "/wall")
        tile = page.locator('.tile[data-session="room-f"]')
        expect(tile).to_have_attribute("data-fault", "false", timeout=10_000)
        stack.publish_snapshot(frozen)
        expect(tile).to_have_attribute("data-fault", "true", timeout=10_000)
        expect(tile.locator(".age")).to_contain_text("engine fault: figures frozen 2m")
        expect(tile.locator('[data-metric="online"]')).to_have_text("800")  # the frozen figures stay readable


def show(session: str, started_ms: int, ended_ms: int | None) -> list[dict[str, object]]:
    """A room with an audience, ended at `ended_ms` unless None."""
    batch = [raw_event("session_start", session, ts=started_ms, title=f"Show {session}", host="Lin"),
             raw_event("viewer_count", session, ts=started_ms + 1000, viewers=700)]
    return batch + ([raw_event("session_end", session, ts=ended_ms)] if ended_ms is not None else [])


def test_wallboard_dims_a_show_that_just_ended_and_leaves_out_older_ones(stack: Stack) -> None:
    now = int(time.time() * 1000)
    stack.post(show("room-live", now - 60_000, None) + show("room-done", now - 60_000, now - 5_000))

    def ended_show() -> dict[str, Any] | None:
        snapshot = stack.metrics("room-done")
        return snapshot if snapshot is not None and snapshot["live"] is False else None

    done_snapshot = wait_for(ended_show, what="an ended show")
    assert done_snapshot["ended_at"] == (now - 5_000) / 1000
    # the engine stops publishing a room 10 min after its last event; its last snapshot stays in Redis
    stack.publish_snapshot({**done_snapshot, "session": "room-earlier", "ended_at": now / 1000 - 20 * 60})
    wait_for(lambda: stack.metrics("room-live"), what="room-live snapshot")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        page.clock.install()  # real time now; fast-forwarded below
        stack.sign_in(page, "/wall")
        done = page.locator('.tile[data-session="room-done"]')
        expect(done).to_have_attribute("data-ended", "true", timeout=10_000)
        expect(done.locator(".age")).to_contain_text("Show ended")
        expect(page.locator('.tile[data-session="room-live"]')).to_have_attribute("data-ended", "false")
        expect(page.locator('.tile[data-session="room-earlier"]')).to_have_count(0)
        page.clock.fast_forward("11:00")  # ten minutes after its end the ended show leaves the wall
        expect(done).to_have_count(0, timeout=5_000)
        expect(page.locator('.tile[data-session="room-live"]')).to_have_count(1)
