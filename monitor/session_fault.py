"""A session whose code raised, held out so that the other sessions of its partition go on.

One session's bug (or data the code mishandles) must not stop a partition's other rooms,
nor, by crashing the process again after every restart, every engine that takes the
partition over. The engine and the comment stage run each session's steps through
`guarded`; the runner keeps held-out sessions visible and recoverable (livemon/quarantine.py).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class SessionFault:
    """Why a session is held out, and how many of its events were not folded since."""

    error: str  # the exception, one line
    trace: str  # the traceback, for the log
    skipped: int = 0


def guarded(step: Callable[[], T], session: str, state: dict[str, Any], faults: dict[str, SessionFault]) -> T | None:
    """Run one session's step; if it raises, move the session from `state` to `faults` and return None."""
    try:
        return step()
    except Exception as exc:  # noqa: BLE001 - any bug of one session, by design
        state.pop(session, None)
        faults[session] = SessionFault(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        return None
