"""Question detection: intent, product reference, and what is not a question."""

from __future__ import annotations

import pytest

from monitor.questions import QUESTION_CACHE, Question, detect_question, product_reference


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("多少钱", "price"),
        ("这个多少钱？", "price"),
        ("how much?", "price"),
        ("有XL吗", "size"),
        ("160穿什么码", "size"),
        ("does it run small?", "size"),
        ("还有货吗", "stock"),
        ("sold out?", "stock"),
        ("什么时候发货", "shipping"),
        ("包邮吗", "shipping"),
        ("when does it ship", "shipping"),
        ("怎么拍？", "how_to_buy"),
        ("how do i buy", "how_to_buy"),
        ("几号链接", "link"),
        ("上链接", "link"),
        ("链接找不到", "link"),
        ("link?", "link"),
        ("有优惠券吗", "coupon"),
        ("any coupon?", "coupon"),
    ],
)
def test_questions_detect_intent(text: str, intent: str) -> None:
    found = detect_question(text)
    assert found is not None and found.intent == intent


@pytest.mark.parametrize("text", ["已拍", "好看", "质量太差了", "3号链接", "ordered", "价格很美丽"])
def test_questions_statements_are_not_questions(text: str) -> None:
    assert detect_question(text) is None


@pytest.mark.parametrize(
    ("text", "product"),
    [("3号多少钱", "3"), ("第2个有货吗", "2"), ("#12 price?", "12"), ("link 4 pls", "4"), ("多少钱", None)],
)
def test_questions_product_reference(text: str, product: str | None) -> None:
    assert product_reference(text) == product


def test_questions_carry_product_index() -> None:
    assert detect_question("5号链接怎么拍") == Question("link", "5")


def test_questions_cache_holds_a_bounded_number_of_texts() -> None:
    texts = [f"{i}号多少钱" for i in range(3 * QUESTION_CACHE)]
    assert [detect_question(t) for t in texts] == [detect_question.__wrapped__(t) for t in texts]
    assert detect_question.cache_info().currsize == QUESTION_CACHE
