"""Reading product signals from the snapshot contract."""

from __future__ import annotations

from monitor.product_signals import signals_from_snapshot

NOW = 1_767_225_600.0


def test_signals_read_snapshot_rows_and_tie_comment_issues_to_products() -> None:
    products = [
        {"product": "dress", "price": 199.0, "stock": 14, "pinned": True, "pin_started_ts": (NOW - 30) * 1000,
         "last_pitch_end_ts": None, "clicks_5m": 40, "carts_5m": 9, "orders_5m": 3, "unpaid": 2,
         "sellout_eta_s": 180.0},
        {"product": "bag", "stock": 0, "last_pitch_end_ts": NOW - 600},
    ]
    comments = {
        "open_questions": [{"group": "g1", "intent": "sizing", "product": "dress", "count": 3},
                           {"group": "g2", "intent": "shipping", "product": None, "count": 5}],
        "topics": [{"topic": "size", "count": 4, "product": "dress"},
                   {"topic": "pretty", "count": 9, "product": "bag"},
                   {"topic": "smell", "count": 2, "product": "bag", "negative": True}],
    }
    dress, bag = signals_from_snapshot(products, comments, NOW)
    assert dress.pinned and dress.pin_started_ts == NOW - 30  # epoch ms read as seconds
    assert (dress.stock, dress.clicks_5m, dress.carts_5m, dress.unpaid, dress.sellout_eta_s) == (14, 40, 9, 2, 180.0)
    assert (dress.open_questions, dress.question_intents, dress.complaint_topics) == (3, ("sizing",), ("size",))
    assert bag.out_of_stock and not dress.out_of_stock
    assert bag.complaint_topics == ("smell",) and bag.open_questions == 0
    assert bag.last_pitch_end_ts == NOW - 600 and bag.price is None


def test_signals_clamp_future_pitch_times_to_now() -> None:
    (row,) = signals_from_snapshot([{"product": "a", "last_pitch_end_ts": NOW + 90}], None, NOW)
    assert row.last_pitch_end_ts == NOW
