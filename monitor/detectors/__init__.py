"""Detectors: closed 10-s bins in, conditions out, one stateful set per session.

Each module holds one detector and its settings. `DetectorSuite` runs all of them on
every closed `Bin`, keeps their state per session, and checkpoints it as JSON-ready
data. A detector that raises is a bug in that detector; the runner isolates it (the
suite does not swallow errors, so tests see them).

    suite = DetectorSuite(DetectorConfig())
    conditions = suite.observe(bin)        # list[Condition] holding at bin.end
    suite.comparisons(session)             # "last N min vs N min before", worst first
    state = suite.to_state(); DetectorSuite.from_state(config, state)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.bins import Bin
from monitor.detectors.carts import CartsConfig, CartsDetector
from monitor.detectors.condition import Condition, Severity, labels
from monitor.detectors.conversion import ConversionConfig, ConversionDetector
from monitor.detectors.dwell import DwellConfig, DwellDetector
from monitor.detectors.questions import QuestionsConfig, QuestionsDetector
from monitor.detectors.raid import RaidConfig, RaidDetector
from monitor.detectors.sellout import SelloutConfig, SelloutDetector
from monitor.detectors.silence import SilenceConfig, SilenceDetector
from monitor.detectors.storm import StormConfig, StormDetector
from monitor.detectors.trends import Comparison, TrendConfig, TrendDetector
from monitor.detectors.viewers import ViewerCrashConfig, ViewerCrashDetector

__all__ = ["Comparison", "Condition", "DetectorConfig", "DetectorSuite", "Severity", "labels"]


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Settings of every detector; defaults are the documented calibration."""

    storm: StormConfig = field(default_factory=StormConfig)
    raid: RaidConfig = field(default_factory=RaidConfig)
    conversion: ConversionConfig = field(default_factory=ConversionConfig)
    viewer_crash: ViewerCrashConfig = field(default_factory=ViewerCrashConfig)
    dwell: DwellConfig = field(default_factory=DwellConfig)
    carts: CartsConfig = field(default_factory=CartsConfig)
    sellout: SelloutConfig = field(default_factory=SelloutConfig)
    questions: QuestionsConfig = field(default_factory=QuestionsConfig)
    silence: SilenceConfig = field(default_factory=SilenceConfig)
    trends: TrendConfig = field(default_factory=TrendConfig)


class _Detector(Protocol):
    def observe(self, b: Bin) -> list[Condition]: ...

    def to_state(self) -> dict[str, Any]: ...


# name in DetectorConfig and in checkpoints -> detector class
_KINDS: dict[str, Any] = {
    "silence": SilenceDetector,
    "storm": StormDetector,
    "raid": RaidDetector,
    "conversion": ConversionDetector,
    "viewer_crash": ViewerCrashDetector,
    "dwell": DwellDetector,
    "carts": CartsDetector,
    "sellout": SelloutDetector,
    "questions": QuestionsDetector,
    "trends": TrendDetector,
}


class DetectorSuite:
    """All detectors for all sessions this engine owns."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self.sessions: dict[str, dict[str, _Detector]] = {}
        self.last_bin: dict[str, int] = {}

    def observe(self, b: Bin) -> list[Condition]:
        """Run every detector on one closed bin of its session.

        Bins of one session must arrive in order, each once (the engine's contract);
        a repeated or older bin is ignored rather than double-counted.
        """
        if b.start <= self.last_bin.get(b.session, -1):
            return []
        self.last_bin[b.session] = b.start
        detectors = self.sessions.get(b.session)
        if detectors is None:
            detectors = self.sessions[b.session] = {
                name: kind(getattr(self.config, name)) for name, kind in _KINDS.items()
            }
        out: list[Condition] = []
        for detector in detectors.values():
            out.extend(detector.observe(b))
        return out

    def comparisons(self, session: str) -> list[Comparison]:
        """Return the session's "last N min vs N min before" comparisons, worst first."""
        detectors = self.sessions.get(session)
        if detectors is None:
            return []
        trends = detectors["trends"]
        assert isinstance(trends, TrendDetector)
        return trends.comparisons()

    def forget(self, session: str) -> None:
        """Drop a session's state (it ended or moved to another engine)."""
        self.sessions.pop(session, None)
        self.last_bin.pop(session, None)

    def to_state(self) -> dict[str, Any]:
        """Return every session's detector state as JSON-ready data."""
        return {
            session: {"last_bin": self.last_bin[session], **{n: d.to_state() for n, d in detectors.items()}}
            for session, detectors in self.sessions.items()
        }

    @classmethod
    def from_state(cls, config: DetectorConfig, data: dict[str, Any]) -> DetectorSuite:
        """Rebuild a suite from `to_state` output."""
        suite = cls(config)
        for session, raw in data.items():
            suite.last_bin[session] = int(raw["last_bin"])
            suite.sessions[session] = {
                name: kind.from_state(getattr(config, name), raw[name]) for name, kind in _KINDS.items()
            }
        return suite
