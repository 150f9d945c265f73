"""Open pages survive a web restart: they notice the drop, reconnect by themselves and show
fresh data without a reload (a wall has nobody to press F5)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import chromium
from tests.events_factory import raw_event
from tests.support import Stack, wait_for


def test_wall_overlay_and_console_reconnect_after_web_restart(stack: Stack) -> None:
    stack.post([raw_event("viewer_count", "room-r", viewers=1111),
                raw_event("session_start", "room-r", title="Reconnect room", host="Lin",
                          products=[{"id": "sku-9", "name": "Kettle", "price": 99.0, "stock": 50}]),
                raw_event("product_pin", "room-r", product="sku-9"),
                raw_event("stock", "room-r", product="sku-9", stock=50)])
    wait_for(lambda: stack.metrics("room-r"), what="room-r snapshot")
    with chromium() as browser:
        wall = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        overlay = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
        console = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="en-US")
        errors: list[str] = []
        for page in (wall, overlay, console):
            page.on("pageerror", lambda e: errors.append(str(e)))
        stack.sign_in(wall, "/wall")
        stack.sign_in(overlay, "/overlay/room-r")
        stack.sign_in(console, "/incidents")
        tile_online = wall.locator('.tile[data-session="room-r"] [data-metric="online"]')
        expect(tile_online).to_have_text("1,111", timeout=10_000)
        expect(overlay.locator("#stock-units")).to_have_text("50", timeout=10_000)
        expect(console.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
        pages = (wall, overlay, console)
        for page in pages:
            page.evaluate("window.__notReloaded = true")

        stack.web.stop()
        for page in pages:  # every page shows that it lost the server
            expect(page.locator("#connection")).to_have_attribute("data-state", "closed", timeout=10_000)
        stack.restart_web()
        for page in pages:
            expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=15_000)

        stack.post([raw_event("viewer_count", "room-r", viewers=2222),
                    raw_event("stock", "room-r", product="sku-9", stock=7)])
        expect(tile_online).to_have_text("2,222", timeout=10_000)
        expect(overlay.locator("#stock-units")).to_have_text("7", timeout=10_000)
        expect(wall.locator('.tile[data-session="room-r"]')).to_have_attribute("data-stale", "false")
        for page in pages:
            assert page.evaluate("window.__notReloaded === true")  # same document: no reload happened
    assert errors == []
