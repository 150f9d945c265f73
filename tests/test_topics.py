"""Complaint topics and rising phrases."""

from __future__ import annotations

from collections import Counter

import pytest

from monitor.topics import (
    PHRASE_CACHE,
    PHRASE_CACHE_CHARS,
    TOPICS,
    _cached_phrases,
    _phrases,
    classify_topic,
    count_phrases,
    phrases,
    rising_phrases,
)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("假货", "quality_fake"),
        ("穿一次就起球", "quality_fake"),
        ("its fake", "quality_fake"),
        ("太贵了 割韭菜", "price_deception"),
        ("this is a scam", "price_deception"),
        ("一周了还没发货", "shipping_delivery"),
        ("where is my order", "shipping_delivery"),
        ("尺码偏小 穿不上", "size_fit"),
        ("too small", "size_fit"),
        ("申请退款了没人理", "refund_service"),
        ("customer service ignored me", "refund_service"),
        ("主播态度太差", "host_conduct"),
        ("stop deleting my comments", "host_conduct"),
        ("又卡了 画面黑屏", "stream_quality"),
        ("no sound again, so laggy", "stream_quality"),
        ("用完烂脸了", "safety_health"),
        ("gave me a rash", "safety_health"),
        ("垃圾", "other"),
    ],
)
def test_topics_classify_complaints(text: str, topic: str) -> None:
    assert classify_topic(text) == topic


def test_topics_safety_outranks_price_when_both_are_named() -> None:
    assert classify_topic("这么贵还过敏") == "safety_health"


def test_topics_every_result_is_a_known_topic() -> None:
    assert {classify_topic(t) for t in ["假货", "x", "发货慢", "😡"]} <= set(TOPICS)


def test_topics_phrases_count_once_per_comment() -> None:
    assert count_phrases(["假货假货", "假货"])["假货"] == 2
    assert "my order" in phrases("Where is my order")


def test_topics_phrases_of_danmaku_with_and_without_latin_words() -> None:
    assert phrases("好看好看") == {"好看", "看好", "好看好", "看好看"}
    assert phrases("好看 so good") == {"好看", "good", "so good"}
    assert phrases("'' ''' 好看") == {"好看", "'''", "'' '''"}  # apostrophes alone still make words


def test_topics_rising_phrase_jumps_against_baseline() -> None:
    # Session of 600 s: "发货" said 6 times in total, all in the last 60 s; "好看" steady all along.
    baseline = Counter({"发货": 6, "好看": 60})
    recent = Counter({"发货": 6, "好看": 6})
    ranked = rising_phrases(recent, baseline, recent_s=60, baseline_s=600)
    assert [r["phrase"] for r in ranked] == ["发货"]


def test_topics_rising_phrases_need_a_minimum_count_and_drop_contained_phrases() -> None:
    baseline = Counter({"假货": 5, "假货吧": 5, "骗": 2})
    recent = Counter({"假货": 5, "假货吧": 5, "骗": 2})
    ranked = rising_phrases(recent, baseline, recent_s=60, baseline_s=3600)
    assert len(ranked) == 1 and ranked[0]["phrase"] in {"假货", "假货吧"}


def test_topics_phrase_cache_holds_a_bounded_number_of_short_texts() -> None:
    texts = [f"{chr(0x4E00 + i)}{chr(0x4E80 + i)}好看" for i in range(3 * PHRASE_CACHE)]
    assert [phrases(t) for t in texts + texts[:5]] == [_phrases(t) for t in texts + texts[:5]]
    assert _cached_phrases.cache_info().currsize == PHRASE_CACHE
    misses = _cached_phrases.cache_info().misses
    assert phrases("质量" * PHRASE_CACHE_CHARS) == {"质量", "量质", "质量质", "量质量"}
    assert _cached_phrases.cache_info().misses == misses  # a longer text bypasses the cache
