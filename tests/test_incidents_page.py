"""The incident console (and the overlay's critical banner) in real headless Chromium.

The alert API (`GET /api/v1/alerts`, ack/resolve/silence) is `livemon/web/alerts_api.py` and
the websocket feed `livemon/web/alert_feed.py`. One storm is injected through a real AlertBook
and written where the engine writes transitions; another is raised by the engine's own storm
detector from the comment intelligence in the engine's bins.
"""

from __future__ import annotations

import time

import orjson
import redis
from playwright.sync_api import Page, expect

from livemon import keys
from monitor.alerts import AlertBook
from monitor.detectors.condition import Condition, Severity
from monitor.topics import TOPIC_NAMES
from tests.browser import chromium, dismiss_dialogs, screenshot_path
from tests.events_factory import raw_event
from tests.support import Stack, wait_for

HOSTILE = "<img src=x onerror=alert(1)>"


def watch(page: Page) -> tuple[list[str], list[str]]:
    dialogs: list[str] = []
    errors: list[str] = []
    dismiss_dialogs(page, dialogs)
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the strict CSP must hold: a blocked inline script or style shows up as a console error
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return dialogs, errors


def test_incidents_console_lists_live_sessions_and_filters(stack: Stack) -> None:
    stack.post([raw_event("viewer_count", "room-i", viewers=900), raw_event("comment", "room-i", user="a", text="hi")])
    wait_for(lambda: stack.metrics("room-i"), what="room-i snapshot")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="en-US")
        dialogs, errors = watch(page)
        stack.sign_in(page, "/incidents?severity=critical")
        expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
        expect(page.locator('#session-filter option[value="room-i"]')).to_have_count(1, timeout=10_000)
        assert page.locator('select[name="severity"]').input_value() == "critical"  # filters come from the URL
        page.locator("#session-filter").select_option("room-i")
        assert "session=room-i" in page.url  # and go back into it, so a link shares the view
        expect(page.locator("#api-missing")).to_be_hidden()  # GET /api/v1/alerts answered
        expect(page.locator("#detail")).to_have_attribute("data-empty", "true")
    assert dialogs == [] and errors == []


def inject_storm(stack: Stack, session: str) -> dict[str, object]:
    """Raise a critical negative-comment storm through a real AlertBook and write its transitions
    the way the engine's alert stage does (lm:alerts audit stream + lm:alerts:active); return the alert."""
    book = AlertBook()
    condition = Condition(rule="negative_storm", session=session, severity=Severity.CRITICAL, value=0.62,
                          threshold=0.10, summary="Negative comments 62 % of the last minute (baseline 10 %)",
                          evidence=({"id": "c1", "text": HOSTILE}, {"id": "c2", "text": "太差了，退货！"}))
    transitions = book.evaluate([condition], {session}, time.time())
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    try:
        for transition in transitions:
            client.xadd(keys.ALERTS, {keys.ALERT_SESSION_FIELD: session,
                                      keys.ALERT_RECORD_FIELD: orjson.dumps(transition.to_dict())})
        alert = next(iter(book.alerts.values())).to_dict()
        client.hset(keys.ALERTS_ACTIVE, str(alert["fingerprint"]), orjson.dumps(alert))
    finally:
        client.close()
    assert alert["state"] == "firing"
    return alert


def test_injected_storm_reaches_console_and_overlay_within_2s(stack: Stack) -> None:
    stack.post([raw_event("viewer_count", "room-s", viewers=3000)])
    wait_for(lambda: stack.metrics("room-s"), what="room-s snapshot")
    with chromium() as browser:
        console = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="en-US")
        overlay = browser.new_page(viewport={"width": 1280, "height": 800}, locale="en-US")
        console_dialogs, console_errors = watch(console)
        overlay_dialogs, overlay_errors = watch(overlay)
        wall = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="en-US")
        wall_dialogs, wall_errors = watch(wall)
        stack.sign_in(console, "/incidents")
        stack.sign_in(overlay, "/overlay/room-s")
        stack.sign_in(wall, "/wall?focus=room-s")
        for page in (console, overlay, wall):
            expect(page.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
        expect(console.locator("#api-missing")).to_be_hidden()

        fired_at = time.monotonic()
        alert = inject_storm(stack, "room-s")
        row = console.locator(f'tr[data-fingerprint="{alert["fingerprint"]}"]')
        row.wait_for(timeout=2_000)
        expect(overlay.locator("#critical")).to_be_visible(timeout=2_000)
        assert time.monotonic() - fired_at <= 2.0
        expect(overlay.locator("#critical")).to_have_attribute("data-rule", "negative_storm")
        expect(overlay.locator("#critical .critical-rule")).to_have_text("Negative-comment storm")
        expect(wall.locator(".ticker li").first).to_have_attribute("data-severity", "critical")  # focus ticker
        wall.locator("#back").click()
        tile = wall.locator('.tile[data-session="room-s"]')
        expect(tile).to_have_attribute("data-alert", "critical")  # badge and border on the wall tile
        badge = tile.locator('.badge[data-severity="critical"]')
        expect(badge).to_have_attribute("data-rule", "negative_storm")
        expect(badge).to_have_text("Negative-comment storm")

        started = row.locator("td").last.bounding_box()  # the list fits its pane: the start time is in view
        pane = console.locator(".list-pane").bounding_box()
        assert started is not None and pane is not None and started["x"] + started["width"] <= pane["x"] + pane["width"]
        row.click()  # detail: evidence as text, the firing transition in the audit trail
        detail = console.locator("#detail")
        expect(detail).to_have_attribute("data-empty", "false")
        expect(detail.locator("#evidence li").first).to_have_text(HOSTILE)
        assert detail.locator("img").count() == 0
        expect(detail.locator("#audit li").first).to_contain_text("firing")
        console.locator("#note").fill("muted the raid accounts")
        console.locator("#ack").click()  # the API accepts it as a command for the engine (202)
        expect(console.locator("#action-status")).to_have_attribute("data-outcome", "sent", timeout=5_000)
        expect(detail.locator("#timeline canvas")).to_have_count(1, timeout=15_000)  # series come every 10 s
        console.screenshot(path=screenshot_path("incidents.png"))
    assert console_dialogs == overlay_dialogs == wall_dialogs == []
    assert console_errors == overlay_errors == wall_errors == []


NEGATIVE = ["太差了", "退货", "骗子", "垃圾", "差评", "质量差", "失望", "假货", "退款", "不行"]


def test_detected_storm_reaches_console_within_2s_of_firing(stack: Stack) -> None:
    stack.post([raw_event("viewer_count", "room-d", viewers=3000)]
               + [raw_event("comment", "room-d", user=f"n{i}", text=f"好看 喜欢 {i}") for i in range(30)])
    wait_for(lambda: (stack.metrics("room-d") or {}).get("comments"), what="room-d comment intelligence")
    with chromium() as browser:
        console = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="en-US")
        dialogs, errors = watch(console)
        stack.sign_in(console, "/incidents")
        expect(console.locator("#connection")).to_have_attribute("data-state", "open", timeout=10_000)
        stack.post([raw_event("comment", "room-d", user=f"s{i}", text=f"{NEGATIVE[i % 10]}，{NEGATIVE[(i * 7) % 10]}！{i}")
                    for i in range(150)])
        fired = wait_for(lambda: next((a for a in stack.http.get("/api/v1/alerts").json()["alerts"]
                                       if a["session"] == "room-d" and a["rule"] == "negative_storm"
                                       and a["state"] == "firing"), None), timeout_s=60, what="storm firing")
        seen_by_api = time.monotonic()
        console.locator(f'tr[data-fingerprint="{fired["fingerprint"]}"]').wait_for(timeout=2_000)
        assert time.monotonic() - seen_by_api <= 2.0
        console.locator(f'tr[data-fingerprint="{fired["fingerprint"]}"]').click()
        names = console.locator("#topics li span:first-child")
        expect(names.first).not_to_be_empty(timeout=5_000)
        # complaint topics by their names (the server's table, as alerts use), never by id
        known = {n["en"][0].upper() + n["en"][1:] for n in TOPIC_NAMES.values()}
        assert set(names.all_inner_texts()) <= known
    assert dialogs == [] and errors == []


def test_console_tells_apart_rooms_whose_ids_differ_only_at_the_end(stack: Stack) -> None:
    rooms = ["evening-show-2026-11-24-room-1", "evening-show-2026-11-24-room-2"]
    for room in rooms:
        stack.post([raw_event("viewer_count", room, viewers=3000)])
        inject_storm(stack, room)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="en-US")
        stack.sign_in(page, "/incidents")
        cells = page.locator("#alert-rows tr td:nth-child(3)")
        expect(cells).to_have_count(2, timeout=10_000)
        shown = sorted(cells.all_inner_texts())
        assert shown[0] != shown[1] and shown[0].endswith("room-1") and shown[1].endswith("room-2")
        assert sorted(cells.evaluate_all("cells => cells.map(c => c.title)")) == rooms
        for cell in cells.all():  # the whole short form fits: nothing cut by the column's own ellipsis
            assert cell.evaluate("c => c.scrollWidth <= c.clientWidth")
