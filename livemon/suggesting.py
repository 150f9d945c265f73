"""Suggestions in the engine process: one Suggester per live session, fed every tick.

The engine runner owns one `SuggestionStage` per partition. Each tick it applies the host's
accept/skip choices (a Redis stream written by the web API, read here), ranks every session
from its fresh snapshot (`snapshot["suggestions"]`), and checkpoints the stage with the
engine state, so learning survives a restart. Each choice is applied once per partition:
the stage remembers the id of the last choice it applied.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import asdict
from typing import Any

import numpy as np

from livemon import keys
from livemon.command_streams import read_commands_since, stream_order
from monitor.product_signals import signals_from_snapshot
from monitor.suggestion_config import DEFAULT_CONFIG_PATH, SuggestionConfig, parse_suggestion_config
from monitor.suggestions import Suggester

log = logging.getLogger(__name__)

CHOICES_PER_TICK = 1000
# Rank each session at most this often: ranking costs ~0.1 ms per product (docs/performance.md),
# evidence accumulates between calls, and the overlay need not change faster than a host reads.
RANK_EVERY_S = 5.0
CHOICE_FIELD = "c"  # field of a choice entry: JSON {"session", "product", "accepted", "at"}


def load_suggestion_config() -> SuggestionConfig:
    """Read `config/suggestions.toml` (the versioned defaults)."""
    return parse_suggestion_config(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


class SuggestionStage:
    """The Suggesters of one partition's sessions, their tick counters and choice position."""

    def __init__(self, config: SuggestionConfig | None = None) -> None:
        self.config = config or load_suggestion_config()
        self.suggesters: dict[str, Suggester] = {}
        self.ticks: dict[str, int] = {}
        self.choice_id = "0-0"
        self._last: dict[str, tuple[float, list[dict[str, Any]], dict[str, Any]]] = {}  # not checkpointed
        self.failing: dict[str, str] = {}  # session -> the error its last ranking raised

    def apply(self, choices: list[tuple[str, dict[str, Any]]]) -> None:
        """Record accept/skip choices newer than the last applied, for sessions of this partition."""
        done = stream_order(self.choice_id)
        for choice_id, choice in choices:
            if stream_order(choice_id) <= done:
                continue
            self.choice_id = choice_id
            suggester = self.suggesters.get(str(choice.get("session")))
            product, at = choice.get("product"), choice.get("at")
            if suggester is None:
                continue  # another partition's session, or one this engine no longer holds
            if not isinstance(product, str) or not isinstance(at, (int, float)):
                log.warning("suggestion choice %s malformed, skipped: %r", choice_id, choice)
                continue
            suggester.record_choice(product, bool(choice.get("accepted")), float(at))
            self._last.pop(str(choice.get("session")), None)  # show the effect on the next tick

    def annotate(self, snapshot: dict[str, Any], now: float) -> None:
        """Put the session's ranked products in `snapshot["suggestions"]` (re-ranked every `RANK_EVERY_S`).

        Suggestions are advice: if ranking a session raises, its snapshot goes out without
        them (an empty list) rather than stopping the engine, and the next try is
        `RANK_EVERY_S` later; the traceback is logged when the error first appears.
        """
        session = snapshot["session"]
        last = self._last.get(session)
        if last is not None and now - last[0] < RANK_EVERY_S:
            snapshot["suggestions"], snapshot["suggestion_attribution"] = last[1], last[2]
            return
        try:
            self._rank(snapshot, session, now)
            self.failing.pop(session, None)
        except Exception as exc:  # one session's ranking bug must not stop every room
            error = f"{type(exc).__name__}: {exc}"
            if self.failing.get(session) != error:
                log.exception("suggestions for session %s failed; its snapshots go out without them", session)
            self.failing[session] = error
            snapshot["suggestions"], snapshot["suggestion_attribution"] = [], {}
            self._last[session] = (now, [], {})

    def _rank(self, snapshot: dict[str, Any], session: str, now: float) -> None:
        products = snapshot.get("products") or []
        suggester = self.suggesters.get(session)
        if suggester is None:
            suggester = self.suggesters[session] = Suggester(self.config, session_start=now)
        tick = self.ticks[session] = self.ticks.get(session, 0) + 1
        # Seeded per session and tick: a replayed tick draws the same suggestions.
        rng = np.random.default_rng([zlib.crc32(session.encode()), tick])
        online = snapshot.get("online")
        audience = max(1.0, float(online)) if isinstance(online, (int, float)) else None
        signals = signals_from_snapshot(products, snapshot.get("comments"), now)
        ranked = suggester.rank(signals, now, rng, audience=audience) if signals else []
        snapshot["suggestions"] = [s.to_dict() for s in ranked]
        snapshot["suggestion_attribution"] = asdict(suggester.attribution())
        self._last[session] = (now, snapshot["suggestions"], snapshot["suggestion_attribution"])

    def retain(self, sessions: set[str]) -> None:
        """Drop the Suggesters of sessions the engine no longer holds (purged or expired)."""
        for session in set(self.suggesters) - sessions:
            del self.suggesters[session]
            self.ticks.pop(session, None)
            self._last.pop(session, None)
            self.failing.pop(session, None)

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state for the partition checkpoint."""
        return {
            "choice_id": self.choice_id,
            "sessions": {s: {"ticks": self.ticks.get(s, 0), "suggester": g.to_state()}
                         for s, g in self.suggesters.items()},
        }

    @classmethod
    def from_state(cls, config: SuggestionConfig | None, state: dict[str, Any] | None) -> SuggestionStage:
        """Rebuild from `to_state` output; None (an older checkpoint) gives a fresh stage."""
        stage = cls(config)
        if not state:
            return stage
        stage.choice_id = state.get("choice_id", "0-0")
        for session, raw in state.get("sessions", {}).items():
            stage.suggesters[session] = Suggester.from_state(raw["suggester"], stage.config)
            stage.ticks[session] = int(raw["ticks"])
        return stage


async def read_choices(client: Any, stages: list[SuggestionStage]) -> list[tuple[str, dict[str, Any]]]:
    """Read host choices newer than the oldest stage position (each stage skips what it applied)."""
    return await read_commands_since(client, keys.SUGGESTION_CHOICES, CHOICE_FIELD, (s.choice_id for s in stages),
                                     CHOICES_PER_TICK, malformed={})
