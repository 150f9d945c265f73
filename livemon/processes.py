"""Child-process hygiene: children die with their parent, so a killed demo leaves no orphans."""

from __future__ import annotations

import ctypes
import signal
import subprocess

_PR_SET_PDEATHSIG = 1


def child_preexec() -> None:
    """Ask Linux to SIGTERM this child when the parent process dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: children are still stopped by the parent's normal shutdown path


def stop_children(processes: list[subprocess.Popen[bytes]], timeout_s: float = 10.0) -> None:
    """SIGTERM every running child at once (so they shut down in parallel), then wait; SIGKILL any still up."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
