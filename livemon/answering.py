"""Comment intelligence in the engine process: one `CommentStage` per partition, fed every batch.

Besides folding comments, the stage applies "question answered" commands from the overlay
(`lm:answers:cmd`, written by livemon/web/questions_api.py). Each command is applied once
per partition: the stage's position (`answer_id`) is checkpointed with the engine state.
"""

from __future__ import annotations

import logging
from typing import Any

from livemon import keys
from livemon.command_streams import read_commands_since, stream_order
from monitor.comment_stage import CommentStage

log = logging.getLogger(__name__)

ANSWER_FIELD = "a"  # field of an answer entry: JSON {"session", "group", "at"}
ANSWERS_PER_TICK = 1000


class AnsweringStage:
    """A partition's comment stage plus its position in the answers stream."""

    def __init__(self, comments: CommentStage, answer_id: str = "0-0") -> None:
        self.comments = comments
        self.answer_id = answer_id

    def apply(self, answers: list[tuple[str, dict[str, Any]]]) -> None:
        """Mark groups answered for commands newer than this stage's position."""
        done = stream_order(self.answer_id)
        for answer_id, answer in answers:
            if stream_order(answer_id) <= done:
                continue
            self.answer_id = answer_id
            session, group, at = answer.get("session"), answer.get("group"), answer.get("at")
            if not isinstance(session, str) or not isinstance(group, str) or not isinstance(at, (int, float)):
                log.warning("answer %s malformed, skipped", answer_id)
                continue
            self.comments.mark_answered(session, group, float(at))

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state for the partition checkpoint."""
        return {"answer_id": self.answer_id, "trackers": self.comments.to_state()}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> AnsweringStage:
        """Rebuild from `to_state` output; None (an older checkpoint) gives a fresh stage."""
        if not state:
            return cls(CommentStage())
        return cls(CommentStage.from_state(None, state.get("trackers")), state.get("answer_id", "0-0"))


async def read_answers(client: Any, stages: list[AnsweringStage]) -> list[tuple[str, dict[str, Any]]]:
    """Read answer commands newer than the oldest stage position (each stage skips what it applied)."""
    return await read_commands_since(client, keys.QUESTION_ANSWERS, ANSWER_FIELD, (s.answer_id for s in stages),
                                     ANSWERS_PER_TICK, malformed={})
