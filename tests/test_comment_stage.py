"""The comment stage joins comment intelligence to the engine's snapshots and closed bins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import pytest

from monitor import comment_stage
from monitor.comment_stage import LABEL_CACHE, CommentStage, label_texts, observe_stages
from monitor.comments import CommentTracker
from monitor.engine import Engine, EngineConfig
from monitor.event_parsing import parse_event
from monitor.events import Event
from monitor.sentiment import Label, score_batch

T0 = 1_795_000_000  # epoch seconds, a bin boundary


def event(n: int, kind: str, second: float, **fields: object) -> Event:
    return parse_event({"id": f"e{n}", "session": "room", "type": kind, "ts": int((T0 + second) * 1000), **fields})


def run(stage: CommentStage, engine: Engine, events: list[Event], now: float):  # type: ignore[no-untyped-def]
    engine.apply(events)
    stage.observe(events)
    return stage.enrich(engine.tick(now), now)


def test_comment_stage_fills_bins_with_negatives_and_topic() -> None:
    engine, stage = Engine(EngineConfig()), CommentStage()
    #  second:   0 ........ 9 | 10 ........ 19 | closed once the watermark passes 20 s
    #  bin 0:  6 chatter comments      bin 1: 5 complaints about fakes + 1 chatter
    chatter = [event(i, "comment", i, user=f"u{i}", text="多少钱") for i in range(6)]
    texts = ["假货", "质量太差了，假的吧", "收到是假货", "这是仿品吧 假货", "假货退钱"]  # varied: not a raid
    complaints = [event(10 + i, "comment", 10 + i, user=f"c{i}", text=t) for i, t in enumerate(texts)]
    complaints.append(event(20, "comment", 15.5, user="u1", text="几号链接"))
    first = run(stage, engine, chatter + complaints, T0 + 16)  # anchors the event clock to the wall clock
    result = run(stage, engine, [], T0 + 60)  # quiet: the watermark advances with the wall clock
    by_start = {b.start: b for b in first.bins + result.bins}
    assert (by_start[T0].comments, by_start[T0].negative) == (6, 0)
    assert (by_start[T0 + 10].comments, by_start[T0 + 10].negative) == (6, 5)
    assert by_start[T0 + 10].top_topic == "quality_fake"
    summary = result.snapshots[0]["comments"]
    assert summary["negative_share"] == round(5 / 12, 4)
    assert summary["topics"][0]["topic"] == "quality_fake"


def test_comment_stage_pin_and_mark_answered_close_question_groups() -> None:
    engine, stage = Engine(EngineConfig()), CommentStage()
    start = event(0, "session_start", 0, products=["sku-a", "sku-b", "sku-c"])
    asks = [event(1 + i, "comment", 1 + i, user=f"u{i}", text="3号链接多少钱") for i in range(3)]
    size = [event(9, "comment", 2, user="u9", text="有XL吗")]
    run(stage, engine, [start, *asks, *size], T0 + 3)
    result = run(stage, engine, [], T0 + 30)
    groups = {q["group"]: q for q in result.snapshots[0]["comments"]["open_questions"]}
    assert len(groups) == 2
    assert max(b.open_question_groups for b in result.bins) == 2
    assert max(b.question_askers for b in result.bins) == 3  # three viewers wait on #3
    # the pin of #3 answers its price; the first pin also answers what was asked before anything was pinned
    run(stage, engine, [event(20, "product_pin", 25, product="sku-c")], T0 + 31)
    result = run(stage, engine, [event(21, "comment", 26, user="u8", text="有XL吗")], T0 + 31)
    remaining = result.snapshots[0]["comments"]["open_questions"]
    (size_group,) = [q["group"] for q in remaining]
    assert size_group == "size:sku-c"
    assert stage.mark_answered("room", size_group, T0 + 32)
    assert not stage.mark_answered("room", size_group, T0 + 33)
    assert run(stage, engine, [], T0 + 34).snapshots[0]["comments"]["open_questions"] == []


def test_comment_stage_state_round_trip_continues_identically() -> None:
    events = [event(i, "comment", i, user=f"u{i % 4}", text="骗子" if i % 3 else "好看") for i in range(30)]
    engine_a, stage_a = Engine(EngineConfig()), CommentStage()
    run(stage_a, engine_a, events[:15], T0 + 15)
    saved = orjson.loads(orjson.dumps(stage_a.to_state()))
    stage_b = CommentStage.from_state(None, saved)
    engine_b = Engine.from_state(EngineConfig(), orjson.loads(orjson.dumps(engine_a.to_state(),
                                                                           option=orjson.OPT_SERIALIZE_NUMPY)))
    a = run(stage_a, engine_a, events[15:], T0 + 30)
    b = run(stage_b, engine_b, events[15:], T0 + 30)
    a = run(stage_a, engine_a, [], T0 + 90)
    b = run(stage_b, engine_b, [], T0 + 90)
    assert a.snapshots[0]["comments"] == b.snapshots[0]["comments"]
    assert a.bins == b.bins


def test_comment_stage_observe_stages_scores_all_partitions_at_once_with_each_sessions_own_labels() -> None:
    # Two partitions, sessions interleaved within each: complaints in x and z, praise in y. The
    # labels of the one shared scoring call must go back to the comments they belong to.
    def said(n: int, session: str, text: str) -> Event:
        return parse_event({"id": f"e{n}", "session": session, "type": "comment", "ts": (T0 + n) * 1000,
                            "user": f"u{n}", "text": text})

    first = [said(0, "x", "假货退钱"), said(1, "y", "太好看了爱了"), said(2, "x", "质量太差了"), said(3, "y", "好看")]
    second = [said(4, "z", "骗子"), parse_event({"id": "e5", "session": "z", "type": "like", "ts": (T0 + 5) * 1000}),
              said(6, "z", "发货太慢了")]
    stage_a, stage_b = CommentStage(), CommentStage()
    observe_stages([(stage_a, first), (stage_b, second)])
    for stage, events in ((stage_a, first), (stage_b, second)):
        for session, tracker in stage.trackers.items():
            alone = CommentTracker()
            alone.add_comments([e for e in events if e.session == session])  # scores its own comments
            assert tracker.to_state() == alone.to_state()
    assert stage_a.trackers["x"].summary(T0 + 10)["negative_share"] == 1.0
    assert stage_a.trackers["y"].summary(T0 + 10)["negative_share"] == 0.0


def test_comment_stage_remembered_labels_are_the_scorers_and_stay_bounded() -> None:
    repeated = ["假货退钱", "好看", "扣1", "太好看了爱了", "质量太差了"] * 40
    distinct = [f"第{i}次来 {'好喜欢' if i % 2 else '太差了'}" for i in range(3 * LABEL_CACHE)]
    for texts in (repeated, distinct, repeated + distinct[:50]):  # the last one again, partly remembered
        assert label_texts(texts) == [v.label for v in score_batch(texts)]
        assert len(comment_stage._labels) <= LABEL_CACHE
    assert {"negative", "positive"} <= set(label_texts(repeated))


def test_a_text_that_breaks_scoring_holds_out_only_its_own_session(monkeypatch: pytest.MonkeyPatch) -> None:
    # A comment the scorer cannot take (hostile text meeting a bug) must not stop the comment
    # analysis of every session of every partition; its own session is held out (`faults`).
    def said(n: int, session: str, text: str) -> Event:
        return parse_event({"id": f"e{n}", "session": session, "type": "comment", "ts": (T0 + n) * 1000,
                            "user": f"u{n}", "text": text})

    label = comment_stage.label_texts

    def breaks_on_poison(texts: Sequence[str]) -> list[Label]:
        if any("\u202e" in t for t in texts):
            raise UnicodeError("injected scorer bug")
        return label(texts)

    monkeypatch.setattr(comment_stage, "label_texts", breaks_on_poison)
    stage_a, stage_b = CommentStage(), CommentStage()
    first = [said(0, "x", "假货退钱"), said(1, "bad", "\u202e好看"), said(2, "x", "质量太差了")]
    second = [said(3, "z", "骗子")]
    observe_stages([(stage_a, first), (stage_b, second)])
    assert set(stage_a.faults) == {"bad"} and "UnicodeError: injected scorer bug" == stage_a.faults["bad"].error
    assert set(stage_a.trackers) == {"x"} and set(stage_b.trackers) == {"z"} and not stage_b.faults
    assert stage_a.trackers["x"].summary(T0 + 10)["negative_share"] == 1.0  # its own labels, in step
    observe_stages([(stage_a, [said(4, "bad", "好看")])])  # held out: takes nothing more
    assert "bad" not in stage_a.trackers


def test_a_session_whose_summary_raises_loses_its_snapshot_and_bins_not_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine, stage = Engine(EngineConfig()), CommentStage()
    events = [parse_event({"id": f"{room}{n}", "session": room, "type": "comment", "ts": (T0 + n) * 1000,
                           "user": f"u{n}", "text": "好看"}) for room in ("ok", "bad") for n in range(12)]
    engine.apply(events)
    stage.observe(events)
    broken, summary = stage.trackers["bad"], CommentTracker.summary

    def failing_summary(self: CommentTracker, now: float) -> dict[str, Any]:
        if self is broken:
            raise KeyError("injected")
        return summary(self, now)

    monkeypatch.setattr(CommentTracker, "summary", failing_summary)
    first = stage.enrich(engine.tick(T0 + 12), T0 + 12)  # anchors the event clock to the wall clock
    assert [s["session"] for s in first.snapshots] == ["ok"] and "comments" in first.snapshots[0]
    result = run(stage, engine, [], T0 + 60)  # the watermark passes both rooms' bins
    assert [s["session"] for s in result.snapshots] == ["ok"] and {b.session for b in result.bins} == {"ok"}
    assert set(stage.faults) == {"bad"} and set(stage.trackers) == {"ok"}
