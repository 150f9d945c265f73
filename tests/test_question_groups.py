"""The question book: groups keyed intent:product, answered by pins or by hand, kept bounded."""

from __future__ import annotations

from typing import Any

import orjson

from monitor.question_groups import MAX_ASKERS, QuestionBook

T0 = 1_700_000_000.0


def test_question_groups_index_maps_to_the_planned_product_and_no_product_to_the_pinned_one() -> None:
    book = QuestionBook(examples=2, max_groups=10)
    book.products = ["p1", "p2", "p3"]
    book.ask("c1", "a", "3号多少钱", "price", "3", T0)
    book.ask("c2", "b", "9号多少钱", "price", "9", T0)  # beyond the run of show: kept as said
    book.ask("c3", "c", "多少钱", "price", None, T0)
    book.on_pin("p2", T0 + 5)  # answers the unnamed group asked before the pin
    book.ask("c4", "d", "多少钱", "price", None, T0 + 6)
    assert set(book.groups) == {"price:p3", "price:9", "price:-", "price:p2"}
    assert [row["group"] for row in book.open_questions(T0 + 6)] == ["price:p3", "price:9", "price:p2"]


def test_question_groups_rank_by_count_then_age_and_cap_askers() -> None:
    book = QuestionBook(examples=2, max_groups=10)
    book.ask("c1", "a", "有货吗", "stock", "p1", T0)
    for i in range(MAX_ASKERS + 5):
        book.ask(f"q{i}", f"u{i}", "多少钱", "price", "p2", T0 + 1)
    rows = book.open_questions(T0 + 11)
    assert [(r["group"], r["count"], r["askers"], r["oldest_age_s"]) for r in rows] == [
        ("price:p2", MAX_ASKERS + 5, MAX_ASKERS, 10.0),
        ("stock:p1", 1, 1, 11.0),
    ]
    assert len(rows[0]["examples"]) == 2


def test_question_groups_prune_drops_answered_then_stalest_open_groups() -> None:
    #   answered: a (t0)        open: b (t0+1), c (t0+2), d (t0+3)     keep 2 -> d, c
    book = QuestionBook(examples=1, max_groups=2)
    for i, product in enumerate("abcd"):
        book.ask(f"c{i}", f"u{i}", "多少钱", "price", product, T0 + i)
    assert book.mark_answered("price:a", T0 + 4)
    book.prune()
    assert set(book.groups) == {"price:c", "price:d"}


def test_question_groups_read_a_checkpoint_written_before_askers_were_kept() -> None:
    old: dict[str, Any] = {"groups": [["price:p1", "price", "p1", 4, T0, [{"id": "c1", "text": "多少钱"}], None]],
           "products": ["p1"], "pinned": None}
    book = QuestionBook.from_state(3, 10, orjson.loads(orjson.dumps(old)))
    assert book.open_questions(T0 + 1)[0]["askers"] == 0
    assert book.most_waiting(T0 + 1) == (0, 1.0)
    assert orjson.loads(orjson.dumps(book.to_state()))["groups"][0][:7] == old["groups"][0]
