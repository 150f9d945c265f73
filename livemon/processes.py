"""Child-process hygiene: children die with their parent, so a killed demo leaves no orphans."""

from __future__ import annotations

import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def child_preexec() -> None:
    """Ask Linux to SIGTERM this child when the parent process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: children are still stopped by the parent's normal shutdown path
