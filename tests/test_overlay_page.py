"""The host overlay in real headless Chromium: live pinned-product stock from the engine, and the
suggestion/question/mood parts of the snapshot contract with buttons that survive a missing endpoint."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Browser, Page, expect

from tests.browser import chromium, dismiss_dialogs, screenshot_path
from tests.events_factory import raw_event
from tests.support import Stack, wait_for

HOSTILE = "<img src=x onerror=alert(1)>"


def watch(page: Page) -> tuple[list[str], list[str]]:
    """Collect dialogs (there must be none) and uncaught page errors."""
    dialogs: list[str] = []
    errors: list[str] = []
    dismiss_dialogs(page, dialogs)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the strict CSP must hold: a blocked inline script or style shows up as a console error
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return dialogs, errors


def host_snapshot(session: str) -> dict[str, object]:
    """A snapshot with the comment and suggestion parts of the contract (docs/architecture.md)."""
    return {
        "session": session, "platform": "kuaishou", "title": "Evening tea", "live": True, "online": 812,
        "products": [
            {"product": "tea-1", "name": "Oolong 250 g", "pinned": True, "stock": 9, "sellout_eta_s": 240,
             "clicks_5m": 40, "gmv_5m": 880.0, "unpaid": 2},
            {"product": "tea-2", "name": "Jasmine gift box", "pinned": False, "stock": 120, "sellout_eta_s": None,
             "clicks_5m": 12, "gmv_5m": 150.0, "unpaid": 0},
        ],
        "suggestions": [{"product": "tea-2", "rank": 1, "score": 310.0, "reason": "Strong clicks, not pitched for 20 min",
                         "reason_zh": "点击多，20分钟未讲解", "reason_codes": ["clicks"]}],
        "comments": {
            "sentiment_index": -0.6, "negative_share": 0.4, "topics": [],
            "open_questions": [
                {"group": "q-size", "intent": "size", "product": "tea-1", "count": 7, "oldest_age_s": 95.0,
                 "examples": [{"id": "c1", "text": HOSTILE}]},
                {"group": "q-ship", "intent": "shipping", "product": None, "count": 3, "oldest_age_s": 20.0,
                 "examples": [{"id": "c2", "text": "When does it ship?"}]},
            ],
        },
        "recent_comments": [], "last_event_ts": int(time.time() * 1000),
    }


def open_tablet(browser: Browser, stack: Stack, session: str) -> tuple[Page, list[str], list[str]]:
    """A signed-in landscape tablet on `session`'s overlay, connected, watched for dialogs and errors."""
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
    dialogs, errors = watch(page)
    stack.sign_in(page, f"/overlay/{session}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
    return page, dialogs, errors


def test_overlay_shows_pinned_product_stock_from_the_engine(stack: Stack) -> None:
    stack.post([
        raw_event("session_start", "room-o", title="Skincare live", host="Lin",
                  products=[{"id": "sku-3", "name": "Serum", "price": 59.9, "stock": 300, "margin": 0.4}]),
        raw_event("viewer_count", "room-o", viewers=1500),
        raw_event("product_pin", "room-o", product="sku-3"),
        raw_event("stock", "room-o", product="sku-3", stock=14),
    ])
    wait_for(lambda: stack.metrics("room-o"), what="room-o snapshot")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
        dialogs, errors = watch(page)
        stack.sign_in(page, "/overlay/room-o")
        expect(page.locator("#stock-product")).to_have_text("Serum", timeout=10_000)
        expect(page.locator("#stock-units")).to_have_text("14")
        expect(page.locator("#title")).to_have_text("Skincare live")
        expect(page.locator("#connection")).to_have_attribute("data-state", "open")
        expect(page.locator("#questions .none")).to_have_text("No open questions")
    assert dialogs == [] and errors == []


def test_overlay_shows_suggestion_and_questions_and_survives_missing_endpoints(stack: Stack) -> None:
    with chromium() as browser:
        page, dialogs, errors = open_tablet(browser, stack, "room-h")
        stack.publish_snapshot(host_snapshot("room-h"))
        expect(page.locator("#next-product")).to_have_text("Jasmine gift box", timeout=5_000)
        expect(page.locator("#next-reason")).to_have_text("Strong clicks, not pitched for 20 min")
        questions = page.locator("#questions .question")
        expect(questions).to_have_count(2)
        expect(questions.first.locator(".question-text")).to_have_text(HOSTILE)  # oldest first, as text
        assert page.locator("#questions img").count() == 0
        expect(questions.first).to_have_attribute("data-old", "true")
        expect(page.locator("#mood")).to_have_attribute("data-level", "bad")
        expect(page.locator("#stock-units")).to_have_text("9")
        expect(page.locator("#stock")).to_have_attribute("data-level", "low")

        # The accept/skip/answered endpoints belong to the suggestions and comments work; whether
        # they exist yet or not, the page reports the outcome and keeps working.
        page.locator("#accept").click()
        status = page.locator("#next-status")
        expect(status).to_have_attribute("data-outcome", re.compile("^(sent|unavailable)$"), timeout=5_000)
        first = questions.first
        first.locator(".answered").click()
        wait_for(lambda: page.locator("#questions .action-status[data-outcome]").count()
                 or page.locator("#questions .question").count() == 1, what="answered outcome")
        assert page.locator("#connection").get_attribute("data-state") == "open"
        page.screenshot(path=screenshot_path("overlay.png"))
        page.set_viewport_size({"width": 800, "height": 1280})  # portrait: one column, all parts visible
        for part in ("#next", "#questions", "#mood", "#stock"):
            expect(page.locator(part)).to_be_visible()
        page.screenshot(path=screenshot_path("overlay-portrait.png"))
    assert dialogs == [] and errors == []


def test_overlay_dims_and_says_so_when_the_engine_holds_the_session_out(stack: Stack) -> None:
    with chromium() as browser:
        page, _, _ = open_tablet(browser, stack, "room-q")
        stack.publish_snapshot(host_snapshot("room-q"))
        expect(page.locator("#next-product")).to_have_text("Jasmine gift box", timeout=5_000)
        expect(page.locator("#overlay")).to_have_attribute("data-stale", "false")
        # What the engine republishes for a held-out session (livemon/quarantine.py)
        frozen = {**host_snapshot("room-q"), "fault": {"error": "RuntimeError: boom", "since": time.time() - 70,
                                                       "skipped": 5}}
        stack.publish_snapshot(frozen)
        expect(page.locator("#overlay")).to_have_attribute("data-stale", "true", timeout=5_000)
        expect(page.locator("#age")).to_contain_text("engine fault: figures frozen 1m")


def test_overlay_says_it_is_waiting_before_the_show_and_stops_its_buttons_after_it_ends(stack: Stack) -> None:
    with chromium() as browser:
        page, dialogs, errors = open_tablet(browser, stack, "room-w")
        # a tablet opened before the show: it says so rather than looking like a quiet room
        expect(page.locator("#overlay")).to_have_attribute("data-state", "waiting")
        expect(page.locator("#age")).to_have_text("Waiting for this room's first data…")

        stack.publish_snapshot(host_snapshot("room-w"))
        expect(page.locator("#overlay")).to_have_attribute("data-state", "live", timeout=5_000)
        expect(page.locator("#age")).to_have_text("")
        expect(page.locator("#accept")).to_be_enabled()
        expect(page.locator("#questions .answered").first).to_be_enabled()

        # left on after the show: it says the show ended, is not "no data", and nothing can be pressed
        stack.publish_snapshot({**host_snapshot("room-w"), "live": False, "ended_at": time.time() - 70})
        expect(page.locator("#overlay")).to_have_attribute("data-state", "ended", timeout=5_000)
        expect(page.locator("#overlay")).to_have_attribute("data-stale", "false")
        expect(page.locator("#age")).to_contain_text("Show ended 1m")
        expect(page.locator("#accept")).to_be_disabled()
        expect(page.locator("#skip")).to_be_disabled()
        expect(page.locator("#questions .answered").first).to_be_disabled()
    assert dialogs == [] and errors == []
