"""The review reads what the live system writes: a real engine raises and records an alert,
a responder acknowledges it through the API, and the report names the incident with the
times of the audit trail."""

from __future__ import annotations

from typing import Any

from tests.events_factory import raw_event
from tests.support import Stack, wait_for

SESSION = "shop-review"


def _acknowledged_trail(stack: Stack, fingerprint: str) -> list[dict[str, Any]] | None:
    """The alert's audit trail once it holds the acknowledgement (the engine applies the ack on a tick)."""
    answer = stack.http.get(f"/api/v1/alerts/{fingerprint}")
    trail: list[dict[str, Any]] = answer.json()["transitions"] if answer.status_code == 200 else []
    return trail if any(r["event"] == "acknowledged" for r in trail) else None


def test_report_names_the_engines_alert_with_its_firing_and_ack_times(stack: Stack) -> None:
    # a pinned product reported out of stock: the engine's own sell-out detector fires at once
    posted = stack.post([
        raw_event("session_start", SESSION, title="review e2e", host="host-7",
                  products=[{"id": "sku-9", "name": "Scarf", "price": 59.0}]),
        raw_event("product_pin", SESSION, product="sku-9"),
        raw_event("product_click", SESSION, user="v1", product="sku-9"),
        raw_event("stock", SESSION, product="sku-9", stock=0),
    ])
    assert posted.status_code == 200, posted.text
    fired = wait_for(lambda: next((a for a in stack.http.get("/api/v1/alerts", params={"session": SESSION})
                                   .json()["alerts"] if a["rule"] == "out_of_stock_pinned"), None),
                     timeout_s=40, what="out_of_stock_pinned firing")
    fingerprint = fired["fingerprint"]
    acked = stack.http.post(f"/api/v1/alerts/{fingerprint}/ack", json={"note": "restocking"})
    assert acked.status_code == 202, acked.text
    trail = wait_for(lambda: _acknowledged_trail(stack, fingerprint), timeout_s=20,
                     what="the acknowledgement in the audit trail")
    firing = next(r for r in trail if r["state"] == "firing")
    ack = next(r for r in trail if r["event"] == "acknowledged")

    report = stack.http.get(f"/sessions/{SESSION}/report.json")
    assert report.status_code == 200, report.text
    [incident] = [i for i in report.json()["incidents"] if i["fingerprint"] == fingerprint]
    assert incident["rule"] == "out_of_stock_pinned" and incident["labels"] == {"product": "sku-9"}
    assert incident["fired_at"] == firing["at"] and incident["acked_at"] == ack["at"]
    assert incident["acked_by"] == ack["actor"] and incident["acked_by"]
    assert incident["time_to_ack_s"] == round(ack["at"] - firing["at"], 1)
    markers = {m["kind"] for m in report.json()["timeline"]["markers"]}
    assert {"alert_firing", "alert_acknowledged"} <= markers
