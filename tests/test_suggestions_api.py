"""Suggestions end to end: events in, ranked products in the snapshot, host skip through the API."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.support import Stack, wait_for

SESSION = "room-sug"


def events(now_ms: int) -> list[dict[str, Any]]:
    """A session with three products, one of them out of stock and one selling well."""
    out: list[dict[str, Any]] = [{
        "id": "start", "session": SESSION, "type": "session_start", "ts": now_ms - 60_000,
        "products": [{"id": "hot", "price": 99.0, "stock": 200}, {"id": "cold", "price": 99.0, "stock": 200},
                     {"id": "gone", "price": 99.0, "stock": 0}],
    }]
    for i in range(30):
        out.append({"id": f"c{i}", "session": SESSION, "type": "product_click", "product": "hot",
                    "ts": now_ms - 30_000 + i * 500, "user": f"u{i}"})
    for i in range(10):
        out.append({"id": f"o{i}", "session": SESSION, "type": "order", "product": "hot", "amount": 99.0,
                    "ts": now_ms - 20_000 + i * 500, "user": f"u{i}"})
    return out


def suggestions(stack: Stack) -> list[dict[str, Any]] | None:
    snapshot = stack.metrics(SESSION)
    return snapshot.get("suggestions") if snapshot else None


def test_suggestions_reach_the_snapshot_and_a_skip_demotes_the_top(stack: Stack) -> None:
    assert stack.post(events(int(time.time() * 1000))).status_code == 200
    ranked = wait_for(lambda: suggestions(stack), 20, "suggestions in the snapshot")
    products = [s["product"] for s in ranked]
    assert "gone" not in products and set(products) == {"hot", "cold"}
    assert all(s["reason"] and s["reason_zh"] for s in ranked)
    top = ranked[0]["product"]

    response = stack.http.post(f"/api/v1/sessions/{SESSION}/suggestions/{top}/skip")
    assert response.status_code == 202 and response.json()["accepted"] is False

    def skipped() -> list[dict[str, Any]] | None:
        now = suggestions(stack) or []
        mine = [s for s in now if s["product"] == top and "host_skipped" in s["reason_codes"]]
        return now if mine and now[0]["product"] != top else None

    wait_for(skipped, 20, f"{top} skipped and off the top")


def test_suggestions_api_validates_path_and_permission(stack: Stack) -> None:
    assert stack.http.post(f"/api/v1/sessions/{SESSION}/suggestions/bad%20id/accept").status_code == 400
    wall = httpx.Client(base_url=stack.url, timeout=10,
                        headers={"Authorization": f"Bearer {stack.token('wall')}"})
    with wall:
        assert wall.post(f"/api/v1/sessions/{SESSION}/suggestions/hot/accept").status_code == 403
    accepted = stack.http.post(f"/api/v1/sessions/{SESSION}/suggestions/hot/accept")
    assert accepted.status_code == 202 and accepted.json()["product"] == "hot"
