"""The wallboard in real headless Chromium: live numbers appear, hostile comment text stays text."""

from __future__ import annotations

from pathlib import Path

from tests.browser import chromium
from tests.events_factory import mixed_batch, raw_event
from tests.support import Stack, wait_for

HOSTILE = "<img src=x onerror=alert(1)>"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def test_wallboard_shows_live_number_and_comment_as_text(stack: Stack) -> None:
    stack.post(mixed_batch("room-w", comments=3, likes=2, orders=1, viewers=4321)
               + [raw_event("comment", "room-w", user="x", text=HOSTILE)])
    wait_for(lambda: stack.metrics("room-w"), what="room-w snapshot")
    dialogs: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(stack.login_url("/wall"))
        tile = page.locator('.tile[data-session="room-w"]')
        tile.locator('[data-metric="online"]', has_text="4,321").wait_for(timeout=10_000)
        comments = tile.locator(".comments li")
        assert HOSTILE in comments.all_text_contents()
        assert tile.locator(".comments img").count() == 0
        assert page.locator("#connection").get_attribute("data-state") == "open"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "wallboard.png"))
    assert dialogs == []
    assert errors == []
