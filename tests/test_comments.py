"""CommentTracker: the `comments` snapshot object, bin counts, answers, spam exclusion, checkpoints."""

from __future__ import annotations

import orjson
import pytest

from monitor.comments import CommentConfig, CommentTracker
from monitor.events import Event, EventType

T0 = 1_700_000_000  # epoch seconds of the session start in every test


def comment(n: int, text: str, user: str, at_s: float) -> Event:
    return Event(id=f"c{n}", session="s", type=EventType.COMMENT, ts=int((T0 + at_s) * 1000), user=user, text=text)


def start(products: list[str]) -> Event:
    from monitor.events import PlannedProduct

    return Event(
        id="start",
        session="s",
        type=EventType.SESSION_START,
        ts=T0 * 1000,
        products=tuple(PlannedProduct(p) for p in products),
    )


def test_comments_summary_has_the_architecture_keys() -> None:
    tracker = CommentTracker()
    tracker.add_comments([comment(1, "质量太差了", "u1", 1)])
    summary = tracker.summary(T0 + 2)
    assert set(summary) == {
        "sentiment_index",
        "negative_share",
        "negative_per_min",
        "topics",
        "rising_phrases",
        "open_questions",
        "spam",
    }
    assert set(summary["topics"][0]) == {"topic", "count", "share", "evidence"}
    assert set(summary["spam"]) == {"flagged", "raid"}
    orjson.dumps(summary)


def test_comments_rates_topics_and_evidence() -> None:
    tracker = CommentTracker()
    texts = ["好看", "已拍", "假货", "还没发货", "一周了还没发货", "主播好美", "多少钱", "3号链接"]
    tracker.add_comments([comment(i, t, f"u{i}", i) for i, t in enumerate(texts)])
    summary = tracker.summary(T0 + 10)
    assert summary["negative_share"] == pytest.approx(3 / 8, abs=1e-4)
    assert summary["sentiment_index"] == pytest.approx((2 - 3) / 8, abs=1e-3)
    assert summary["negative_per_min"] == 3.0
    topics = {t["topic"]: t for t in summary["topics"]}
    assert topics["shipping_delivery"]["count"] == 2
    assert topics["shipping_delivery"]["share"] == pytest.approx(2 / 3, abs=1e-4)
    assert {e["id"] for e in topics["shipping_delivery"]["evidence"]} == {"c3", "c4"}
    assert topics["quality_fake"]["evidence"] == [{"id": "c2", "text": "假货"}]


def test_comments_chatter_storm_is_not_a_negative_storm() -> None:
    tracker = CommentTracker()
    chatter = ["已拍", "扣1", "上链接", "3号链接", "多少钱", "哈哈哈哈", "笑死", "[捂脸][捂脸]", "link?", "ordered"]
    tracker.add_comments([comment(i, chatter[i % len(chatter)], f"u{i}", i * 0.1) for i in range(200)])
    assert tracker.summary(T0 + 30)["negative_share"] <= 0.05


def test_comments_raid_of_scam_is_labelled_raid_and_leaves_the_rates() -> None:
    tracker = CommentTracker()
    praise = ["好看", "主播好美", "喜欢", "爱了", "真好看", "绝绝子", "yyds", "好看好看", "太划算了", "[比心]"]
    genuine = [comment(i, text, f"g{i}", i) for i, text in enumerate(praise)]
    raid = [comment(100 + i, "骗子骗子!", f"r{i}", 5 + i * 0.2) for i in range(20)]
    tracker.add_comments(genuine + raid)
    summary = tracker.summary(T0 + 12)
    assert summary["spam"]["raid"]["label"] == "negative"
    assert summary["spam"]["raid"]["accounts"] == 20
    assert summary["negative_share"] == 0.0  # the first raiders were un-counted when the raid was recognised
    assert tracker.bin_counts(T0, T0 + 10) == (10, 0, 20, 20, None)


def test_comments_undo_records_only_for_comments_the_spam_windows_hold() -> None:
    # a question and a call answer are never flagged, so nothing is kept to un-count them later;
    # a raid recognised at its fifth account still un-counts the four counted before it
    tracker = CommentTracker()
    tracker.add_comments([comment(1, "3号多少钱", "u1", 1), comment(2, "扣1", "u2", 1), comment(3, "骗子!", "r0", 1)])
    assert set(tracker.records) == {"c3"}
    tracker.add_comments([comment(4 + i, "骗子!", f"r{1 + i}", 2 + i) for i in range(4)])
    assert tracker.records == {} and tracker.bin_counts(T0, T0 + 10)[:4] == (2, 0, 5, 5)


def test_comments_raid_label_follows_the_raid_when_a_new_one_takes_over() -> None:
    tracker = CommentTracker()
    tracker.add_comments([comment(i, "骗子骗子!", f"r{i}", i * 0.2) for i in range(20)])
    assert tracker.summary(T0 + 5)["spam"]["raid"]["label"] == "negative"
    assert tracker.summary(T0 + 6)["spam"]["raid"]["label"] == "negative"  # the same raid, published again
    tracker.add_comments([comment(100 + i, "太好看了爱了!", f"p{i}", 60 + i * 0.2) for i in range(20)])
    raid = tracker.summary(T0 + 65)["spam"]["raid"]
    assert (raid["text"], raid["label"]) == ("太好看了爱了!", "positive")


def test_comments_praise_raid_cannot_hide_real_complaints() -> None:
    tracker = CommentTracker()
    complaints = [
        comment(i, text, f"c{i}", i) for i, text in enumerate(["假货", "退款", "质量太差", "骗人的", "还没发货"])
    ]
    praise = [comment(100 + i, "好好好", f"p{i}", i * 0.1) for i in range(50)]
    tracker.add_comments(praise + complaints)
    assert tracker.summary(T0 + 6)["negative_share"] == 1.0


def test_comments_open_questions_group_by_intent_and_product_until_pinned() -> None:
    tracker = CommentTracker()
    tracker.add_comments([start(["p1", "p2", "p3"])])
    tracker.add_comments(
        [
            comment(1, "3号多少钱", "a", 1),
            comment(2, "3号多少钱？", "b", 2),
            comment(3, "有XL吗", "c", 3),
            comment(4, "多少钱", "d", 4),
        ]
    )
    groups = {g["group"]: g for g in tracker.summary(T0 + 10)["open_questions"]}
    assert groups["price:p3"]["count"] == 2
    assert groups["price:p3"]["oldest_age_s"] == 9.0
    assert groups["price:p3"]["product"] == "p3"
    assert set(groups) == {"price:p3", "size:-", "price:-"}
    tracker.on_pin("p3", T0 + 11)
    # asked before anything was pinned, "-" groups name no product a later pin could: the first pitch answers them
    assert tracker.summary(T0 + 12)["open_questions"] == []


def test_comments_question_groups_count_distinct_askers_and_join_them_per_product() -> None:
    tracker = CommentTracker()
    tracker.add_comments([start(["p1", "p2", "p3"])])
    tracker.on_pin("p1", T0)
    tracker.add_comments(
        [
            comment(1, "3号多少钱", "a", 1),
            comment(2, "3号多少钱？", "a", 2),
            comment(3, "3号多少钱？", "b", 3),
            comment(4, "3号还有吗", "c", 4),
            comment(5, "多少钱", "d", 5),
        ]
    )
    groups = {g["group"]: g for g in tracker.summary(T0 + 10)["open_questions"]}
    assert groups["price:p3"]["count"] == 3 and groups["price:p3"]["askers"] == 2
    # price and stock of #3 are one crowd of three viewers, waiting since the first question
    assert tracker.most_waiting(T0 + 10) == (3, 9.0)
    tracker.on_pin("p3", T0 + 11)
    assert tracker.most_waiting(T0 + 12) == (1, 7.0)


def test_comments_questions_while_pinned_belong_to_the_pinned_product_and_reopen() -> None:
    tracker = CommentTracker()
    tracker.on_pin("sku-9", T0)
    tracker.add_comments([comment(1, "多少钱", "a", 1)])
    (group,) = tracker.summary(T0 + 2)["open_questions"]
    assert group["group"] == "price:sku-9"
    assert tracker.mark_answered("price:sku-9", T0 + 3) is True
    assert tracker.mark_answered("price:sku-9", T0 + 3) is False
    assert tracker.summary(T0 + 4)["open_questions"] == []
    tracker.add_comments([comment(2, "多少钱？", "b", 5)])
    (group,) = tracker.summary(T0 + 6)["open_questions"]
    assert group["count"] == 1 and group["oldest_age_s"] == 1.0


def test_comments_mark_answered_unknown_group() -> None:
    assert CommentTracker().mark_answered("price:-", T0) is False


def test_comments_bin_counts_use_event_time_seconds() -> None:
    #  second:   0    5    9   | 10   11
    #  text:     好看 假货 已拍 | 退货 骗人
    tracker = CommentTracker()
    texts = [(0, "好看"), (5, "假货"), (9, "已拍"), (10, "退货"), (11, "骗人")]
    tracker.add_comments([comment(i, t, f"u{i}", s) for i, (s, t) in enumerate(texts)])
    assert tracker.bin_counts(T0, T0 + 10) == (3, 1, 0, 0, "quality_fake")
    assert tracker.bin_counts(T0 + 10, T0 + 20) == (2, 2, 0, 0, "price_deception")


def test_comments_rising_phrase_after_a_quiet_baseline() -> None:
    tracker = CommentTracker()
    quiet = [comment(i, "主播好美", f"q{i}", i * 10) for i in range(60)]  # ten minutes of compliments
    burst = [comment(100 + i, f"怎么还没发货{'!' * i}", f"b{i}", 600 + i) for i in range(8)]
    tracker.add_comments(quiet + burst)
    phrases = [p["phrase"] for p in tracker.summary(T0 + 610)["rising_phrases"]]
    assert any("发货" in p for p in phrases)
    assert not any("主播" in p for p in phrases)


def test_comments_state_round_trip_through_json() -> None:
    tracker = CommentTracker()
    tracker.add_comments([start(["p1", "p2"]), comment(1, "2号多少钱", "a", 1), comment(2, "假货", "b", 2)])
    tracker.add_comments([comment(10 + i, "骗子", f"r{i}", 3 + i) for i in range(4)])
    restored = CommentTracker.from_state(None, orjson.loads(orjson.dumps(tracker.to_state())))
    assert restored.summary(T0 + 9) == tracker.summary(T0 + 9)
    more = [comment(20, "骗子", "r9", 8)]
    tracker.add_comments(more)
    restored.add_comments(more)  # the fifth raider completes the raid in both
    assert restored.summary(T0 + 9) == tracker.summary(T0 + 9)
    assert restored.summary(T0 + 9)["spam"]["raid"] is not None


def test_comments_memory_stays_bounded_over_a_long_session() -> None:
    tracker = CommentTracker(CommentConfig(keep_s=900))
    for minute in range(360):  # six hours, 20 comments a minute, every text different
        batch = [
            comment(minute * 100 + i, f"第{minute}分钟 评论{i} 质量差", f"u{minute}-{i}", minute * 60 + i * 3)
            for i in range(20)
        ]
        tracker.add_comments(batch)
    assert len(tracker.seconds) <= 901
    assert len(tracker.records) <= 20 * 2 + 1
    assert len(tracker.phrases.recent) <= 62
    assert len(tracker.negatives) <= 20 * 6
    assert len(tracker.phrases.baseline) <= tracker.config.max_baseline_phrases
    assert len(tracker.spam.by_user) <= 40


def test_comments_config_explains_bad_windows() -> None:
    with pytest.raises(ValueError, match="window_s"):
        CommentConfig(window_s=5)
