"""Text fingerprints: what a copy-paster can't vary cheaply, and answers to a host's call."""

from __future__ import annotations

import pytest

from monitor.text_fingerprint import FINGERPRINT_CACHE, fingerprint, is_call_answer


def test_text_fingerprint_ignores_case_punctuation_digits_and_repeated_units() -> None:
    assert fingerprint("骗子骗子！！") == fingerprint("骗子") == fingerprint("骗子2") == fingerprint("骗 子")
    assert fingerprint("SCAM scam!!") == fingerprint("scam")
    assert fingerprint("假货") != fingerprint("骗子")


def test_text_fingerprint_cache_holds_a_bounded_number_of_texts() -> None:
    texts = [f"骗子{chr(0x4E00 + i)}!!" for i in range(3 * FINGERPRINT_CACHE)]
    assert [fingerprint(t) for t in texts + texts[:5]] == [fingerprint.__wrapped__(t) for t in texts + texts[:5]]
    assert fingerprint.cache_info().currsize == FINGERPRINT_CACHE


@pytest.mark.parametrize("text", ["扣1", "1111", "已拍", "666666", "哈哈哈哈", "!!!"])
def test_text_fingerprint_call_answers_are_recognised(text: str) -> None:
    assert is_call_answer(text)


@pytest.mark.parametrize("text", ["骗子", "多少钱", "666好看"])
def test_text_fingerprint_other_texts_are_not_call_answers(text: str) -> None:
    assert not is_call_answer(text)
