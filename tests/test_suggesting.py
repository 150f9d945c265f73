"""The engine-side suggestion stage: snapshots in, suggestions out, choices once, state kept."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from livemon.suggesting import RANK_EVERY_S, SuggestionStage
from monitor.suggestions import Suggester

T0 = 1_767_225_600.0


def snapshot(session: str, clicks: int) -> dict[str, Any]:
    rows = [{"product": p, "price": 50.0, "stock": 0 if p == "gone" else 100, "clicks_total": clicks,
             "carts_total": clicks // 4, "orders_total": clicks // 10} for p in ("a", "b", "gone")]
    return {"session": session, "online": 500, "products": rows, "comments": None}


def test_stage_annotates_snapshots_and_reranks_on_its_cadence() -> None:
    stage = SuggestionStage()
    first = snapshot("s1", 10)
    stage.annotate(first, T0)
    assert [s["product"] for s in first["suggestions"]] in (["a", "b"], ["b", "a"])
    assert first["suggestion_attribution"]["pins"] == 0
    between = snapshot("s1", 20)
    stage.annotate(between, T0 + RANK_EVERY_S / 2)
    assert between["suggestions"] is first["suggestions"]  # reused, not re-ranked
    later = snapshot("s1", 30)
    stage.annotate(later, T0 + RANK_EVERY_S)
    assert later["suggestions"] is not first["suggestions"]


def test_stage_applies_each_choice_once_and_only_for_its_sessions() -> None:
    stage = SuggestionStage()
    stage.annotate(snapshot("s1", 10), T0)
    choices = [("1-0", {"session": "s1", "product": "a", "accepted": False, "at": T0 + 1}),
               ("2-0", {"session": "elsewhere", "product": "a", "accepted": True, "at": T0 + 1}),
               ("3-0", {})]
    stage.apply(choices)
    stage.apply(choices)
    assert stage.suggesters["s1"].attribution().skipped == 1
    assert stage.choice_id == "3-0"
    skipped = snapshot("s1", 10)
    stage.annotate(skipped, T0 + 2)
    assert skipped["suggestions"][0]["product"] == "b"  # re-ranked at once, a held off the top


def test_stage_state_round_trips_and_forgets_sessions_the_engine_dropped() -> None:
    stage = SuggestionStage()
    for session in ("s1", "s2"):
        stage.annotate(snapshot(session, 10), T0)
    restored = SuggestionStage.from_state(None, orjson.loads(orjson.dumps(stage.to_state())))
    assert set(restored.suggesters) == {"s1", "s2"} and restored.ticks == stage.ticks
    restored.retain({"s2"})
    assert set(restored.suggesters) == {"s2"}
    assert SuggestionStage.from_state(None, None).suggesters == {}


def test_a_session_whose_ranking_raises_goes_out_without_suggestions_and_is_retried(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rank = Suggester.rank
    broken = {"on": True}

    def failing_rank(self: Suggester, *args: Any, **kwargs: Any) -> Any:
        if broken["on"] and self is stage.suggesters.get("bad"):
            raise ZeroDivisionError("injected")
        return rank(self, *args, **kwargs)

    monkeypatch.setattr(Suggester, "rank", failing_rank)
    stage = SuggestionStage()
    good, bad = snapshot("good", 10), snapshot("bad", 10)
    stage.annotate(good, T0)
    stage.annotate(bad, T0)  # before this guard: the exception stopped the engine process
    assert good["suggestions"] and bad["suggestions"] == []
    assert stage.failing == {"bad": "ZeroDivisionError: injected"}
    for at in (T0 + RANK_EVERY_S, T0 + 2 * RANK_EVERY_S):
        stage.annotate(snapshot("bad", 20), at)
    assert sum("suggestions for session bad failed" in r.message for r in caplog.records) == 1  # logged once
    broken["on"] = False
    recovered = snapshot("bad", 30)
    stage.annotate(recovered, T0 + 3 * RANK_EVERY_S)
    assert recovered["suggestions"] and not stage.failing
