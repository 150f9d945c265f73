"""Sentiment scorer: the danmaku behaviours the issue names, plus the batch contract."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.lexicon import Entry, Kind, Lexicon
from monitor.sentiment import (
    MAX_MODEL_CHARS,
    Scorer,
    Sentiment,
    detect_languages,
    hashed_features,
    normalise,
    score,
    score_batch,
)


@pytest.mark.parametrize("text", ["不好看", "一点也不好看", "so bad", "not good", "真不好用"])
def test_sentiment_negation_of_praise_and_degree_are_negative(text: str) -> None:
    assert score(text).label == "negative"


@pytest.mark.parametrize("text", ["一点也不差", "一点都不贵", "not bad", "not bad at all"])
def test_sentiment_negated_complaint_is_positive(text: str) -> None:
    assert score(text).label == "positive"


def test_sentiment_degree_word_strengthens_the_score() -> None:
    assert score("so bad").score < score("bad").score
    assert score("太好看了").score > score("好看").score


@pytest.mark.parametrize(
    ("text", "label"), [("好好好好", "positive"), ("退退退", "negative"), ("好好好好好好好好", "positive")]
)
def test_sentiment_repeated_characters_keep_their_meaning(text: str, label: str) -> None:
    assert score(text).label == label


@pytest.mark.parametrize(
    ("text", "label"), [("😡", "negative"), ("🤮🤮", "negative"), ("👍", "positive"), ("[比心][比心]", "positive")]
)
def test_sentiment_emoji_and_douyin_codes_carry_valence(text: str, label: str) -> None:
    assert score(text).label == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("yyds", "positive"),
        ("绝绝子", "positive"),
        ("666", "positive"),
        ("踩雷了", "negative"),
        ("纯纯智商税", "negative"),
        ("又来割韭菜", "negative"),
        ("大家避雷", "negative"),
        ("已拉黑", "negative"),
    ],
)
def test_sentiment_live_slang(text: str, label: str) -> None:
    assert score(text).label == label


@pytest.mark.parametrize(
    "text",
    [
        "已拍",
        "上链接",
        "3号链接",
        "多少钱",
        "扣1",
        "1111",
        "link?",
        "ordered",
        "how much?",
        "几号链接？",
        "有XL吗",
        "会起球吗",
    ],
)
def test_sentiment_shopping_chatter_and_questions_are_neutral(text: str) -> None:
    assert score(text).label == "neutral"


@pytest.mark.parametrize(
    "text", ["退出直播间了", "笑死", "笑死我了", "离谱", "[捂脸][捂脸][捂脸][捂脸]", "各退一步", "差不多"]
)
def test_sentiment_platform_false_negative_traps_are_not_negative(text: str) -> None:
    # PLATFORMS.md section 5: words that look negative but are not.
    assert score(text).label != "negative"


def test_sentiment_explicit_complaints_win_over_chatter_markers() -> None:
    assert score("已拍，质量太差了").label == "negative"
    assert score("where is my order").label == "negative"


STREAM_COMPLAINTS = [
    "卡了",
    "卡卡卡",
    "好卡啊",
    "声音听不见",
    "没声音了",
    "画面糊了",
    "画面黑屏了",
    "直播间卡死了",
    "听不到声音",
    "lagging",
    "no sound",
    "stream froze",
]


@pytest.mark.parametrize("text", STREAM_COMPLAINTS)
def test_sentiment_stream_quality_complaints_are_negative(text: str) -> None:
    # Issue #4/#5: a burst of 卡了 / 没声音 means the broadcast is broken and viewers leave.
    assert score(text).label == "negative"


def test_sentiment_stream_lag_repeats_and_degree_are_more_negative() -> None:
    plain = score("卡了").score
    for stronger in ("卡卡卡", "好卡", "太卡了", "卡死了"):
        assert score(stronger).score < plain, stronger
    assert score("so laggy").score < score("lagging").score


@pytest.mark.parametrize(
    "text",
    [
        "信用卡可以用吗",
        "银行卡",
        "会员卡",
        "卡券",
        "优惠卡",
        "礼品卡",
        "卡包",
        "购物卡",
        "卡号",
        "打卡",
        "来打卡了",
        "刷卡了",
        "卡点",
        "好卡点",
        "卡路里",
        "卡其色",
        "好卡其",
        "卡通",
        "好卡通",
        "卡扣",
        "卡西欧",
        "糊涂",
        "浆糊",
        "黑芝麻糊",
        "flag",
        "collagen",
        "red flag lol",
    ],
)
def test_sentiment_card_khaki_calorie_and_lookalikes_are_not_negative(text: str) -> None:
    # 卡 is also "card" (and part of 卡其 khaki, 卡路里 calorie, 卡通 cartoon); "lag" sits inside "flag".
    assert score(text).label != "negative"


@pytest.mark.parametrize("text", ["声音好好听", "主播声音好甜", "主播声音好好听"])
def test_sentiment_voice_praise_stays_positive(text: str) -> None:
    assert score(text).label == "positive"


@pytest.mark.parametrize("text", ["卡了吗", "是不是卡了", "is it lagging for anyone"])
def test_sentiment_asking_whether_the_stream_lags_is_not_a_complaint(text: str) -> None:
    assert score(text).label == "neutral"


def test_sentiment_cant_is_not_a_can_question() -> None:
    # "can't hear" once matched the hedge for "can …?" questions and was damped to neutral.
    assert score("can't hear").label == "negative"


def test_sentiment_language_detection_per_comment() -> None:
    assert detect_languages(["好看", "love it", "主播 ok 吗", "👍", "123"]) == ["zh", "en", "zh", "und", "und"]
    assert [s.lang for s in score_batch(["好看", "love it"])] == ["zh", "en"]


def test_sentiment_batch_matches_single_scoring_and_keeps_order() -> None:
    texts = ["假货", "", "love it", "好看\n真的", "已拍", "so bad"]
    batch = score_batch(texts)
    assert batch == [score(t) for t in texts]
    assert [s.label for s in batch] == ["negative", "neutral", "positive", "positive", "neutral", "negative"]


def test_sentiment_scores_are_bounded() -> None:
    for verdict in score_batch(["垃圾垃圾垃圾骗子骗子假货😡😡😡" * 10, "好好好好爱了爱了yyds👍👍" * 10]):
        assert -1.0 <= verdict.score <= 1.0


def test_sentiment_empty_batch() -> None:
    assert score_batch([]) == []


def test_sentiment_many_empty_comments_keep_their_count() -> None:
    # Found by the property test below: a run of empty comments once collapsed like 好好好好.
    assert len(score_batch([""] * 5)) == 5


def test_sentiment_without_model_still_uses_the_lexicon() -> None:
    scorer = Scorer(Lexicon([Entry("好看", Kind.POSITIVE, 1.2)]), None)
    liked, unknown = scorer.score_batch(["好看", "难看"])
    assert liked.label == "positive"
    assert unknown == Sentiment("neutral", 0.0, "zh")


def test_sentiment_ngrams_just_after_a_negator_get_their_own_columns() -> None:
    # 不好用: 好, 用 and 好用 start within three characters after 不, so none shares a column
    # with the 好用 of praise; in 不过这个真的好用 the negator is too far back to matter.
    _, plain, _ = hashed_features(["好用"], 18)
    _, negated, _ = hashed_features(["不好用"], 18)
    _, far, _ = hashed_features(["不过这个真的好用"], 18)
    assert not set(plain.tolist()) & set(negated.tolist())
    assert set(plain.tolist()) <= set(far.tolist())


def _reference_columns(text: str, bits: int) -> list[int]:
    """The hashed columns of one text, n-gram by n-gram in plain integers: order 1-4, then position."""
    mask = 2**64 - 1
    primes = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)
    cps = [ord(c) for c in text[:MAX_MODEL_CHARS]]
    negated = {i for i in range(len(cps)) if any(i - k >= 0 and chr(cps[i - k]) in "不没别" for k in (1, 2, 3))}
    cols = []
    for order in (1, 2, 3, 4):
        for i in range(len(cps) - order + 1):
            h = order
            for j in range(order):
                h = ((h ^ cps[i + j]) * primes[j]) & mask
            if i in negated:
                h ^= 0x5BD1E9955BD1E995
            h ^= h >> 31
            h = (h * 0xFF51AFD7ED558CCD) & mask
            cols.append(h >> (64 - bits))
    return cols


def test_sentiment_hashed_features_match_hashing_each_text_alone() -> None:
    # One batch, hashed as one run of code points: no n-gram and no negation scope may cross from
    # one text into the next (不 ends the first text), and texts come out in length bands.
    texts = ["好用不", "好用", "", "x", "不过这个真的好用" * 3, "a" * 300, "没" + "好" * 70, "别走", "ok 不错"]
    rows, cols, vals = hashed_features(texts, 18)
    for row, text in enumerate(texts):
        mine = rows == row
        expected = _reference_columns(text, 18)
        assert cols[mine].tolist() == expected
        assert np.all(vals[mine] == np.float32(1.0 / np.sqrt(max(len(expected), 1))))
    bands = np.searchsorted([16, 32, 64, 128], [min(len(texts[r]), MAX_MODEL_CHARS) for r in rows], side="right")
    assert np.all(np.diff(bands) >= 0)


def test_sentiment_normalise_folds_width_case_and_long_runs() -> None:
    assert normalise("ＹＹＤＳ好好好好好") == "yyds好好好"


def test_sentiment_labelled_live_set_is_mostly_right_and_chatter_is_not_negative() -> None:
    # The shipped evaluation set (bench/sentiment.py prints the full figures).
    raw = (resources.files("monitor") / "data" / "live_comments_labelled.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(raw.splitlines()))
    assert len(rows) >= 600
    verdicts = score_batch([r["text"] for r in rows])
    accuracy = sum(r["label"] == v.label for r, v in zip(rows, verdicts, strict=True)) / len(rows)
    neutral = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "neutral"]
    assert accuracy >= 0.85
    assert sum(v.label == "negative" for v in neutral) / len(neutral) <= 0.05


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=8))
def test_sentiment_any_text_batch_is_scored_one_to_one(texts: list[str]) -> None:
    batch = score_batch(texts)
    assert len(batch) == len(texts)
    assert batch == [score(t) for t in texts]
    assert all(-1.0 <= s.score <= 1.0 and s.lang in ("zh", "en", "und") for s in batch)
