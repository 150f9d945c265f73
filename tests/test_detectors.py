"""DetectorSuite: per-session state, ordering guard and checkpoints."""

from __future__ import annotations

import orjson

from monitor.bins import Bin, ProductBin
from monitor.detectors import DetectorConfig, DetectorSuite

T0 = 1_700_000_000


def b(session: str, i: int, **kw: object) -> Bin:
    base: dict[str, object] = {"viewers": 1000, "viewers_estimated": False, "comments": 30, "negative": 3,
                               "events": 80, "clicks": 60, "carts": 20, "orders": 6,
                               "products": (ProductBin("p1", clicks=60, carts=20, orders=6, stock=500, pinned=True),)}
    base.update(kw)
    return Bin(session=session, start=T0 + 10 * i, **base)  # type: ignore[arg-type]


def test_suite_keeps_sessions_apart() -> None:
    suite = DetectorSuite()
    for i in range(40):
        suite.observe(b("calm", i))
        suite.observe(b("crash", i))
    assert suite.observe(b("calm", 40)) == []
    assert [c.rule for c in suite.observe(b("crash", 40, viewers=300))] == ["viewer_crash"]


def test_suite_ignores_repeated_or_older_bins() -> None:
    suite = DetectorSuite()
    for i in range(3):
        suite.observe(b("s", i, events=0))
    assert [c.rule for c in suite.observe(b("s", 3, events=0))] == ["ingest_silence"]
    assert suite.observe(b("s", 3, events=0)) == [] and suite.observe(b("s", 1, events=0)) == []


def test_suite_checkpoint_round_trip_gives_identical_conditions() -> None:
    suite = DetectorSuite()
    for i in range(70):
        suite.observe(b("s", i, negative=3 if i < 60 else 12))
    restored = DetectorSuite.from_state(DetectorConfig(), orjson.loads(orjson.dumps(suite.to_state())))
    nxt = b("s", 70, negative=12, viewers=200)
    assert restored.observe(nxt) == suite.observe(nxt) != []


def test_suite_comparisons_and_forget() -> None:
    suite = DetectorSuite()
    for i in range(60):
        suite.observe(b("s", i))
    assert {c.metric for c in suite.comparisons("s")} >= {"orders", "viewers"}
    suite.forget("s")
    assert suite.comparisons("s") == [] and suite.to_state() == {}
