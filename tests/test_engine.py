"""Engine behaviour with hand-built events and a manual wall clock."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from monitor.detectors import DetectorSuite
from monitor.engine import Engine, EngineConfig, TickResult
from monitor.event_parsing import parse_event
from monitor.events import Event

T0 = 1_700_000_000_000  # event time origin (ms); bins start on multiples of 10 s
WALL = 5_000.0  # wall clock origin (s): deliberately unrelated to event time


def ev(n: int, kind: str, at_s: float, session: str = "s1", **fields: Any) -> Event:
    """Build a validated event `at_s` seconds after T0."""
    return parse_event({"id": f"e{n}", "session": session, "type": kind, "ts": T0 + int(at_s * 1000), **fields})


def snap(result: TickResult, session: str = "s1") -> dict[str, Any]:
    return next(s for s in result.snapshots if s["session"] == session)


def test_engine_snapshot_has_the_contract_keys() -> None:
    engine = Engine()
    engine.apply([ev(1, "comment", 1, user="a", text="hi"), ev(2, "product_click", 2, user="a", product="p")])
    s = snap(engine.tick(WALL))
    contract = {
        "session",
        "platform",
        "title",
        "live",
        "ended_at",
        "online",
        "online_estimated",
        "peak_online",
        "unique_viewers",
        "comments_per_min",
        "likes_per_min",
        "orders_per_min",
        "gmv_total",
        "gmv_5m",
        "gpm",
        "conversion",
        "last_event_ts",
        "late_events",
        "trend",
        "series",
        "products",
        "markers",
    }
    assert contract <= set(s)
    row_keys = {
        "product",
        "name",
        "price",
        "margin",
        "stock",
        "pinned",
        "pin_started_ts",
        "pitch_count",
        "pitch_seconds_total",
        "last_pitch_end_ts",
        "clicks_5m",
        "carts_5m",
        "orders_5m",
        "gmv_5m",
        "clicks_total",
        "carts_total",
        "orders_total",
        "paid_total",
        "unpaid",
        "gmv_total",
        "refunds",
        "click_to_purchase",
        "sellout_eta_s",
        "pitch_uplift",
    }
    assert row_keys <= set(s["products"][0])
    orjson.dumps(s)  # JSON-ready


def test_engine_duplicate_ids_count_once_across_batches() -> None:
    engine = Engine()
    comment = ev(1, "comment", 1, user="a", text="hi")
    engine.apply([comment, comment])
    engine.apply([comment])
    assert snap(engine.tick(WALL))["comments_total"] == 1


def test_engine_apply_wire_hands_back_the_kept_kinds_decoded() -> None:
    engine = Engine()
    events = [ev(1, "comment", 1, user="a", text="hi"), ev(2, "like", 1, user="b", count=3), ev(3, "comment", 2, "s2", text="yo")]
    wire = [e.to_wire() for e in [*events, events[0]]]  # the last one a duplicate
    kept = engine.apply_wire(wire, frozenset({"comment"}))
    assert kept == [events[0].to_dict(), events[2].to_dict(), events[0].to_dict()]  # arrival order, as decoded
    assert engine.apply_wire([events[1].to_wire()]) == []
    assert snap(engine.tick(WALL))["comments_total"] == 1


def test_engine_same_id_in_two_sessions_are_two_events() -> None:
    engine = Engine()
    engine.apply([ev(1, "comment", 1, "s1", text="a"), ev(1, "comment", 1, "s2", text="b")])
    result = engine.tick(WALL)
    assert [s["comments_total"] for s in result.snapshots] == [1, 1]


def test_engine_bins_close_when_watermark_passes_their_end() -> None:
    # lateness 5 s; newest event at 14 s -> watermark 9 s: bin [0,10) still open
    #   event time  0 ──── 10 ──── 20
    #   bin         [ b0  )[ b1   )
    #   newest 14 s, watermark 9 s     -> nothing closed
    #   newest 15 s, watermark 10 s    -> b0 closed (once)
    engine = Engine(EngineConfig(lateness_s=5))
    engine.apply([ev(1, "comment", 3, text="x"), ev(2, "comment", 14, text="y")])
    assert engine.tick(WALL).bins == []
    engine.apply([ev(3, "comment", 15, text="z")])
    bins = engine.tick(WALL).bins
    assert [(b.start - T0 // 1000, b.comments) for b in bins] == [(0, 1)]
    assert engine.tick(WALL).bins == []


def test_engine_quiet_session_closes_bins_with_the_wall_clock() -> None:
    # one event at 3 s, then silence: each wall second moves event time by one second
    engine = Engine(EngineConfig(lateness_s=5))
    engine.apply([ev(1, "comment", 3, text="x")])
    assert engine.tick(WALL).bins == []  # clock 3 s, watermark -2 s
    assert engine.tick(WALL + 11).bins == []  # clock 14 s, watermark 9 s
    (closed,) = engine.tick(WALL + 12).bins  # clock 15 s, watermark 10 s
    assert closed.comments == 1 and closed.end == T0 // 1000 + 10
    s = snap(engine.tick(WALL + 70))  # clock 73 s: the comment has left the 1-min window
    assert s["comments_per_min"] == 0 and s["comments_total"] == 1


def test_engine_event_behind_a_closed_bin_is_late_but_still_counted() -> None:
    engine = Engine(EngineConfig(lateness_s=2))
    engine.apply([ev(1, "comment", 1, text="x"), ev(2, "comment", 30, text="y")])
    engine.tick(WALL)  # watermark 28 s: bins [0,10) [10,20) closed
    engine.apply([ev(3, "comment", 5, text="late")])
    result = engine.tick(WALL)
    s = snap(result)
    assert s["late_events"] == 1
    assert s["comments_total"] == 3
    assert s["comments_per_min"] == 3  # 5 s is still inside the last minute of the 30-s clock


@pytest.mark.parametrize(("kind", "behind_s"), [("product_click", 400), ("comment", 2_500), ("order", 400)])
def test_engine_event_older_than_every_window_counts_in_totals_only(kind: str, behind_s: int) -> None:
    """Beyond the rings' reach (the product ring ~330 s, the 1-s ring ~34 min) an event still counts once."""
    fields: dict[str, Any] = {"user": "a", "product": "p", "text": "x", "order_id": "o1", "status": "paid", "amount": 10.0}
    engine = Engine()
    engine.apply([ev(1, kind, behind_s, **fields)])
    engine.tick(WALL)
    engine.apply([ev(2, kind, 0, **{**fields, "order_id": "o2"})])
    s = snap(engine.tick(WALL + 1))
    totals = {"product_click": "clicks_total", "comment": "comments_total", "order": "orders_total"}
    assert s[totals[kind]] == 2
    assert s["late_events"] == 1


def test_engine_out_of_order_within_lateness_lands_in_its_bin() -> None:
    engine = Engine(EngineConfig(lateness_s=5))
    engine.apply([ev(1, "product_click", 12, user="a", product="p")])
    engine.apply([ev(2, "product_click", 8, user="b", product="p")])  # older, watermark 7 s
    engine.apply([ev(3, "comment", 26, text="x")])
    bins = engine.tick(WALL).bins
    assert [b.clicks for b in bins] == [1, 1]
    assert [pb.clicks for b in bins for pb in b.products] == [1, 1]
    assert snap(engine.tick(WALL))["late_events"] == 0


def test_engine_orders_gmv_unpaid_and_refunds_follow_the_order_id() -> None:
    engine = Engine()
    engine.apply(
        [
            ev(1, "order", 1, product="p", order_id="o1", status="placed", amount=50),
            ev(2, "order", 2, product="p", order_id="o2", status="placed", amount=20),
            ev(3, "order", 3, product="p", order_id="o1", status="paid", amount=50, user="a"),
            ev(4, "order", 4, product="p", order_id="o1", status="paid", amount=50, user="a"),  # repeated notice
            ev(5, "order", 5, product="p", order_id="o3", status="placed", amount=10),
            ev(6, "order", 6, product="p", order_id="o3", status="cancelled", amount=10),
            ev(7, "order", 7, product="p", order_id="o1", status="refunded", amount=15),
        ]
    )
    s = snap(engine.tick(WALL))
    assert (s["orders_total"], s["paid_total"], s["unpaid"]) == (3, 1, 1)
    assert (s["gmv_total"], s["refund_amount"], s["gmv_net"]) == (50.0, 15.0, 35.0)
    assert s["payment_rate"] == round(1 / 3, 4)
    (row,) = s["products"]
    assert (row["orders_total"], row["paid_total"], row["unpaid"], row["gmv_total"]) == (3, 1, 1, 50.0)


def test_engine_paid_before_placed_counts_one_order_at_the_earlier_time() -> None:
    engine = Engine()
    engine.apply([ev(1, "order", 70, product="p", order_id="o1", status="paid", amount=9)])
    engine.apply([ev(2, "order", 5, product="p", order_id="o1", status="placed", amount=9)])
    s = snap(engine.tick(WALL))
    assert (s["orders_total"], s["unpaid"]) == (1, 0)
    assert s["orders_per_min"] == 0  # placed at 5 s, outside (10 s, 70 s]


def test_engine_online_from_viewer_count_prefers_the_newest_by_event_time() -> None:
    engine = Engine()
    engine.apply([ev(1, "viewer_count", 9, viewers=120), ev(2, "viewer_count", 4, viewers=80)])
    s = snap(engine.tick(WALL))
    assert (s["online"], s["online_estimated"], s["peak_online"]) == (120, False, 120)


def test_engine_online_estimated_from_activity_expires_after_idle_timeout() -> None:
    # idle 30 s, lateness 0: a, b active at 1 s; b again at 20 s
    engine = Engine(EngineConfig(lateness_s=0, idle_timeout_s=30))
    engine.apply([ev(1, "join", 1, user="a"), ev(2, "join", 1, user="b"), ev(3, "like", 20, user="b")])
    s = snap(engine.tick(WALL))
    assert (s["online"], s["online_estimated"]) == (2, True)
    assert snap(engine.tick(WALL + 10))["online"] == 2  # clock 30 s
    assert snap(engine.tick(WALL + 11))["online"] == 1  # clock 31 s: a, silent since 1 s, is gone
    assert snap(engine.tick(WALL + 29))["online"] == 1
    assert snap(engine.tick(WALL + 30))["online"] == 0  # clock 50 s: b (last seen 20 s) is gone


def test_engine_watch_time_uses_explicit_leave_else_estimates() -> None:
    engine = Engine(EngineConfig(lateness_s=0, idle_timeout_s=30))
    engine.apply(
        [
            ev(1, "join", 0, user="a"),
            ev(2, "leave", 40, user="a"),  # explicit 40 s... but idle at 30
            ev(3, "join", 0, user="b"),
            ev(4, "comment", 20, user="b", text="x"),
            ev(5, "leave", 25, user="b"),
        ]
    )
    s = snap(engine.tick(WALL + 100))
    # a: no activity between 0 and 40 -> idle after 30 s, estimated 30 s; b: explicit 25 s
    assert (s["avg_watch_s"], s["median_watch_s"], s["watch_estimated"]) == (27.5, 25.0, True)


def test_engine_pitch_and_markers_follow_pins() -> None:
    engine = Engine()
    engine.apply(
        [
            ev(1, "product_pin", 10, product="p1"),
            ev(2, "product_pin", 40, product="p2"),
            ev(3, "product_unpin", 70, product="p2"),
        ]
    )
    s = snap(engine.tick(WALL))
    rows = {r["product"]: r for r in s["products"]}
    assert (rows["p1"]["pitch_seconds_total"], rows["p1"]["pinned"]) == (30.0, False)
    assert (rows["p2"]["pitch_seconds_total"], rows["p2"]["pitch_count"]) == (30.0, 1)
    assert [m["kind"] for m in s["markers"]] == ["pin", "pin", "unpin"]


def test_engine_markers_leave_out_cards_popped_to_answer_a_question() -> None:
    engine = Engine()
    engine.apply(
        [
            ev(1, "product_pin", 10, product="p1"),
            ev(2, "product_pin", 100.3, product="p2"),  # the host pops p2's card to answer about it...
            ev(3, "product_pin", 100.8, product="p1"),  # ...and is back on p1 within the second
            ev(4, "product_unpin", 200, product="p1"),
            ev(5, "product_pin", 200, product="p3"),  # a real switch: one marker, the new pitch
        ]
    )
    s = snap(engine.tick(WALL + 300))
    assert [(m["kind"], m["product"]) for m in s["markers"]] == [("pin", "p1"), ("pin", "p3")]


def test_engine_stock_and_sellout_eta_from_paid_velocity() -> None:
    engine = Engine()
    engine.apply(
        [
            parse_event(
                {
                    "id": "st",
                    "session": "s1",
                    "type": "session_start",
                    "ts": T0,
                    "products": [{"id": "p", "stock": 40, "price": 10}],
                }
            )
        ]
    )
    engine.apply([ev(i, "order", 100 + i, product="p", order_id=f"o{i}", status="paid", amount=10) for i in range(10)])
    (row,) = snap(engine.tick(WALL))["products"]
    assert row["stock"] == 30
    assert row["sellout_eta_s"] == 30 / (10 / 300)  # 10 items in the 5-min window


def test_engine_alerts_name_a_product_by_its_catalogue_name() -> None:
    engine = Engine(EngineConfig(lateness_s=0))
    start = {"id": "st", "session": "s1", "type": "session_start", "ts": T0,
             "products": [{"id": "sku-9", "name": "Serum 30 ml", "stock": 5, "price": 59}]}
    engine.apply([parse_event(start), ev(1, "product_pin", 1, product="sku-9"), ev(2, "stock", 2, product="sku-9", stock=0),
                  ev(3, "comment", 12, text="x")])
    [b] = [b for b in engine.tick(WALL).bins if b.products]
    [conditions] = [DetectorSuite().observe(b)]
    out_of_stock = next(c for c in conditions if c.rule == "out_of_stock_pinned")
    assert out_of_stock.summary == "Serum 30 ml is pinned but out of stock"  # a responder knows it by name
    assert dict(out_of_stock.labels)["product"] == "sku-9"  # the fingerprint keeps the id


def test_engine_ended_session_stops_producing_bins_after_its_end() -> None:
    engine = Engine(EngineConfig(lateness_s=0))
    engine.apply([ev(1, "comment", 1, text="x"), ev(2, "session_end", 15)])
    bins = engine.tick(WALL).bins + engine.tick(WALL + 1000).bins
    assert [b.start - T0 // 1000 for b in bins] == [0, 10]
    ended = snap(engine.tick(WALL + 2000))
    assert ended["live"] is False and ended["ended_at"] == T0 // 1000 + 15


def test_engine_series_sent_at_most_every_interval() -> None:
    engine = Engine(EngineConfig(series_interval_s=10))
    engine.apply([ev(1, "join", 1, user="a")])
    first = snap(engine.tick(WALL))
    assert len(first["series"]["entries"]) == 60 and first["series"]["entries"][-1] == 1
    assert "series" not in snap(engine.tick(WALL + 5))
    assert "series" in snap(engine.tick(WALL + 10))


def test_engine_trend_compares_last_n_minutes_with_the_n_before() -> None:
    engine = Engine(EngineConfig(trend_window_s=60))
    engine.apply([ev(i, "comment", 10 + i, text="x") for i in range(4)])  # before: 4
    engine.apply([ev(10 + i, "comment", 70 + i, text="y") for i in range(8)])  # now: 8
    t = snap(engine.tick(WALL))["trend"]["comments_per_min"]
    assert (t["now"], t["before"], t["delta"], t["direction"]) == (8.0, 4.0, 4.0, "up")


def test_engine_from_older_state_layout_starts_empty() -> None:
    assert Engine.from_state(None, {"s1": {"platform": "x"}}).session_ids() == []


def test_engine_rejects_bad_settings_with_the_key_name() -> None:
    with pytest.raises(ValueError, match="lateness_s"):
        EngineConfig(lateness_s=-1)


def test_engine_keeps_the_newest_comments_by_time_then_id_in_any_arrival_order() -> None:
    rng = random.Random(3)
    engine = Engine()
    comments = []
    for k in range(3):  # each batch newer than the last, shuffled inside, some comments at equal times
        batch = [
            ev(n, "comment", 10 * k + rng.randrange(40) / 4, rng.choice(["s1", "s2"]), text=f"t{n}")
            for n in range(100 * k, 100 * k + 100)
        ]
        rng.shuffle(batch)
        engine.apply(batch)
        comments += batch
    result = engine.tick(WALL)
    for session in ("s1", "s2"):
        mine = sorted((c.ts, c.id, c.text) for c in comments if c.session == session)[-8:]
        assert snap(result, session)["recent_comments"] == [{"id": i, "ts": t, "text": x} for t, i, x in mine]


def test_engine_releases_an_ended_show_after_ended_keep_s_and_drops_its_late_events() -> None:
    engine = Engine(EngineConfig(lateness_s=0, ended_keep_s=60, released_ttl_s=3600))
    engine.apply([ev(1, "comment", 1, text="x"), ev(2, "session_end", 15), ev(3, "comment", 5, session="s2", text="z")])
    engine.tick(WALL)
    assert engine.release_ended(WALL) == []  # a late payment may still come
    engine.tick(WALL + 50)
    assert engine.release_ended(WALL + 50) == []
    engine.tick(WALL + 60)  # the show's clock, idle since its end at 15 s, is now 60 s past it
    assert engine.release_ended(WALL + 60) == ["s1"]
    assert engine.session_ids() == ["s2"]  # a show still live is kept
    assert [s["session"] for s in engine.tick(WALL + 61).snapshots] == ["s2"]

    assert engine.checkpoint().state["released"] == {"s1": WALL + 60}  # what the runner stores
    restored = Engine.from_state(engine.config, engine.to_state())
    restored.apply([ev(4, "order", 70, product="p", order_id="o1", status="paid", amount=10)])
    assert restored.session_ids() == ["s2"] and restored.dropped_after_release == 1  # no new history under s1

    assert restored.release_ended(WALL + 60 + 3601) == [] and restored.released == {}  # the day is over
    restored.apply([ev(5, "comment", 80, text="y")])
    assert sorted(restored.session_ids()) == ["s1", "s2"]
