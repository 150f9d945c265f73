"""The simulator: deterministic by seed, realistic shape, and incidents that match their labels."""

from __future__ import annotations

import collections
import functools
from typing import Any

import pytest

from ingest import sim_text
from ingest.incidents import IncidentKind, parse_kinds
from ingest.simulator import SimConfig, SimulatedSession
from monitor.events import parse_event

START = 1_795_356_000.0


@functools.lru_cache(maxsize=16)
def run(kinds: str = "none", seed: int = 3, duration: float = 1800.0, chunk: float = 60.0
        ) -> tuple[SimulatedSession, list[dict[str, Any]]]:
    """Simulate one room (cached: tests only read the result)."""
    room = SimulatedSession("room-1", seed, 8.0, START, SimConfig(rate=8.0, duration_s=duration,
                                                                   incidents=parse_kinds(kinds)))
    events: list[dict[str, Any]] = []
    t = START
    while t < START + duration + 2:
        events.extend(room.events_between(t, t + chunk))
        t += chunk
    return room, events


def within(events: list[dict[str, Any]], label: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and label["start"] <= e["ts"] < label["end"]]


def test_simulator_same_seed_gives_same_events_whatever_the_chunking() -> None:
    _, coarse = run("all", chunk=300.0)
    _, fine = run("all", chunk=7.5)
    _, other = run("all", seed=4)
    assert coarse == fine
    assert coarse != other


def test_simulator_events_are_valid_schema_v1_with_unique_ids() -> None:
    _, events = run("all")
    for event in events:
        parse_event(event)
    assert len({e["id"] for e in events}) == len(events)
    kinds = collections.Counter(e["type"] for e in events)
    assert {"session_start", "join", "viewer_count", "comment", "like", "gift", "product_pin", "product_click",
            "add_to_cart", "order", "stock", "session_end"} <= set(kinds)


def test_simulator_orders_are_placed_then_paid_on_the_same_order_id() -> None:
    _, events = run()
    placed = {e["order_id"]: e["ts"] for e in events if e["type"] == "order" and e["status"] == "placed"}
    paid = [e for e in events if e["type"] == "order" and e["status"] == "paid"]
    assert paid and all(e["order_id"] in placed and e["ts"] > placed[e["order_id"]] for e in paid)


def test_simulator_labels_every_planned_incident_inside_the_session() -> None:
    room, _ = run("all")
    labels = room.labels()
    assert {label["kind"] for label in labels} == {k.value for k in IncidentKind}
    assert all(START * 1000 <= label["start"] < label["end"] <= (START + 1800) * 1000 for label in labels)


def test_simulator_ingest_silence_has_no_events_in_its_window() -> None:
    room, events = run("ingest_silence")
    (label,) = room.labels()
    assert not [e for e in events if label["start"] + 1000 <= e["ts"] < label["end"] - 1000]


def test_simulator_negative_storm_raises_complaints_on_its_topic() -> None:
    room, events = run("negative_storm")
    (label,) = room.labels()
    phrases = set(sim_text.COMPLAINTS[str(label["topic"])]["zh"]) | set(sim_text.COMPLAINTS[str(label["topic"])]["en"])
    on_topic = [e for e in within(events, label, "comment") if any(str(e["text"]).startswith(p) for p in phrases)]
    seconds = (label["end"] - label["start"]) / 1000
    _, calm = run("none")
    calm_rate = sum(any(str(e["text"]).startswith(p) for p in phrases) for e in calm if e["type"] == "comment") / 1800
    assert len(on_topic) / seconds > 5 * calm_rate


def test_simulator_viewer_crash_cuts_online_viewers() -> None:
    room, events = run("viewer_crash")
    (label,) = room.labels()
    counts = [(e["ts"], e["viewers"]) for e in events if e["type"] == "viewer_count"]
    before = [v for ts, v in counts if label["start"] - 60_000 <= ts < label["start"]]
    during = [v for ts, v in counts if label["start"] + 30_000 <= ts < label["end"]]
    assert max(during) < 0.6 * min(before)


def test_simulator_sell_out_label_starts_when_stock_reaches_zero() -> None:
    room, events = run("sell_out", duration=3600.0)
    (label,) = room.labels()
    zero = [e for e in events if e["type"] == "stock" and e["product"] == label["product"] and e["stock"] == 0]
    assert zero and zero[0]["ts"] == label["start"]


def test_simulator_raid_is_many_near_duplicate_lines_from_fresh_accounts() -> None:
    room, events = run("raid")
    (label,) = room.labels()
    raid_lines = [e for e in within(events, label, "comment") if str(e["user"]).startswith("raid")]
    assert len(raid_lines) > 100 and len({e["user"] for e in raid_lines}) <= 40


def test_simulator_config_names_the_bad_field() -> None:
    with pytest.raises(ValueError, match="rate"):
        SimConfig(rate=0)
    with pytest.raises(ValueError, match="incident kind"):
        parse_kinds("storm")


def test_simulator_question_surge_asks_about_a_product_not_on_screen() -> None:
    room, events = run("question_surge")
    (label,) = room.labels()
    pins = [e for e in events if e["type"] == "product_pin" and e["ts"] < label["end"]]
    assert pins[-1]["product"] != label["product"]
    index = next(k + 1 for k, p in enumerate(room.products) if p.product == label["product"])
    name = room.products[index - 1].name
    refs = (f"{index}号", f"#{index}", name)
    naming = [e for e in within(events, label, "comment") if any(r in str(e["text"]) for r in refs)]
    seconds = (label["end"] - label["start"]) / 1000
    assert len(naming) / seconds > 0.5
