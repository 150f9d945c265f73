"""CPU time of a running process, read from Linux /proc, for the benches that time other processes."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_times(pid: int) -> tuple[float, float]:
    """User and system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # the name may hold spaces
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    return sum(cpu_times(pid))
