"""The simulator: deterministic by seed, realistic shape, and incidents that match their labels."""

from __future__ import annotations

import collections
import functools
from typing import Any

import pytest

from ingest import sim_text
from ingest.incidents import IncidentKind, IncidentLabel, parse_kinds
from ingest.simulator import SimConfig, SimulatedSession
from monitor.event_parsing import parse_event

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


def within(events: list[dict[str, Any]], label: IncidentLabel, kind: str) -> list[dict[str, Any]]:
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


def leaves_run(kinds: str, seed: int = 3) -> tuple[SimulatedSession, list[dict[str, Any]]]:
    """A room that emits `leave` events, so tests can see when viewers go."""
    room = SimulatedSession("room-1", seed, 8.0, START, SimConfig(rate=8.0, duration_s=1800.0, leaves=True,
                                                                   incidents=parse_kinds(kinds)))
    return room, list(room.events_between(START, START + 1802))


def test_simulator_dwell_drop_makes_viewers_already_present_leave_sooner() -> None:
    room, events = leaves_run("dwell_drop")
    (label,) = room.labels()
    _, calm = leaves_run("none")
    # a dull segment shortens the stay of everyone in the room, not only of new arrivals
    assert remaining_stay(events, label["start"]) < 0.5 * remaining_stay(calm, label["start"])


def remaining_stay(events: list[dict[str, Any]], at: int) -> float:
    """Median time viewers present at `at` (ms) still stay."""
    joined = {e["user"] for e in events if e["type"] == "join" and e["ts"] < at}
    left = {e["user"]: e["ts"] for e in events if e["type"] == "leave"}
    stays = sorted(left.get(u, (START + 1800) * 1000) - at for u in joined if left.get(u, at + 1) > at)
    return float(stays[len(stays) // 2])


def test_simulator_host_answers_most_questions_with_a_pin_within_half_a_minute() -> None:
    room, events = run()
    questions = [e for e in events if e["type"] == "comment" and e["text"] in _question_texts(room)]
    pins = sorted(e["ts"] for e in events if e["type"] == "product_pin")
    answered = sum(1 for q in questions if any(q["ts"] <= ts <= q["ts"] + 31_000 for ts in pins))
    assert len(questions) > 30 and answered > 0.6 * len(questions)
    show_changes = sum(1 for e in events if e["type"] == "product_unpin")
    assert len(pins) > 3 * show_changes  # most pins are answers, not run-of-show changes


def test_simulator_host_leaves_the_question_surge_unanswered() -> None:
    room, events = run("question_surge")
    (label,) = room.labels()
    assert not [e for e in within(events, label, "product_pin") if e["product"] == label["product"]]


def _question_texts(room: SimulatedSession) -> set[str]:
    """Every question the room's templates can produce about its products."""
    out = set()
    for lang in ("zh", "en"):
        for template in sim_text.QUESTIONS[lang]:
            for index, product in enumerate(room.products, start=1):
                out.add(template.format(n=index, name=product.name))
    return out


def test_simulator_sell_out_product_is_cut_to_three_units_as_its_pitch_begins() -> None:
    room, events = run("sell_out", duration=3600.0)
    (label,) = room.labels()
    stock = [e for e in events if e["type"] == "stock" and e["product"] == label["product"]]
    cut = next(e for e in stock if e["stock"] <= 3)
    assert cut["stock"] == 3  # "last 3" shown as the pitch begins ...
    assert any(e["type"] == "product_pin" and e["product"] == label["product"] and e["ts"] == cut["ts"]
               for e in events)
    planned = next(e for e in events if e["type"] == "session_start")["products"]
    assert next(p["stock"] for p in planned if p["id"] == label["product"]) > 3  # not scarce from the start
    assert label["start"] >= cut["ts"]


def test_simulator_sales_scale_multiplies_the_funnel() -> None:
    def carts(scale: float) -> int:
        room = SimulatedSession("room-1", 3, 8.0, START, SimConfig(rate=8.0, duration_s=600.0, sales_scale=scale))
        return sum(e["type"] == "add_to_cart" for e in room.events_between(START, START + 600.0))
    assert carts(10.0) > 5 * max(1, carts(1.0))


def test_simulator_endless_room_stopped_early_ends_once_after_its_last_event() -> None:
    room = SimulatedSession("room-9", 5, 8.0, START, SimConfig(rate=8.0))  # endless, as in the demo
    last = max(e["ts"] for e in room.events_between(START, START + 120) if isinstance(e["ts"], int))
    (end,) = room.end(START + 60)  # a stop signal handled a little behind the simulated clock
    assert end["type"] == "session_end" and isinstance(end["ts"], int) and end["ts"] >= last
    parse_event(end)
    assert room.end(START + 200) == []
