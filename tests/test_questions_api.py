"""Open questions reach the snapshot, and a host marks one answered from the overlay's endpoint."""

from __future__ import annotations

from typing import Any

import httpx

from tests.events_factory import raw_event
from tests.support import Stack, wait_for


def open_questions(stack: Stack, session: str) -> list[dict[str, Any]]:
    metrics = stack.metrics(session) or {}
    return list((metrics.get("comments") or {}).get("open_questions", []))


def test_questions_are_answered_by_a_host_of_the_room_only(stack: Stack) -> None:
    stack.post([raw_event("comment", "room-q", user=f"v{i}", text="有XL吗") for i in range(3)]
               + [raw_event("comment", "room-q", user="v9", text="质量太差了，假货")])
    (group,) = wait_for(lambda: open_questions(stack, "room-q"), what="the size question group in the snapshot")
    assert group["intent"] == "size" and group["count"] == 3
    comments = (stack.metrics("room-q") or {})["comments"]
    assert comments["negative_share"] > 0
    path = f"/api/v1/sessions/room-q/questions/{group['group']}/answered"
    with httpx.Client(base_url=stack.url, timeout=10) as other_host:
        other_host.headers["Authorization"] = f"Bearer {stack.token('host', 'room-x')}"
        assert other_host.post(path).status_code == 403
    with httpx.Client(base_url=stack.url, timeout=10) as host:
        host.headers["Authorization"] = f"Bearer {stack.token('host', 'room-q')}"
        answered = host.post(path)
    assert answered.status_code == 202
    wait_for(lambda: open_questions(stack, "room-q") == [], what="the answered group to leave the snapshot")


def test_questions_answered_refuses_a_malformed_session(stack: Stack) -> None:
    response = stack.http.post("/api/v1/sessions/bad%20room/questions/g/answered")
    assert response.status_code == 400
    assert "session" in response.json()["error"]
    response = stack.http.post("/api/v1/sessions/room-q/questions/price%0A/answered")
    assert response.status_code == 400
