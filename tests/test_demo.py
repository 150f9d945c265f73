"""`livemon demo` (the README's main command): it comes up, shows live rooms, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from livemon.redis_server import free_port
from tests.support import wait_for


def test_demo_serves_live_rooms_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LIVEMON_REDIS_URL", "REDIS_CLUSTER_NODES")}
    env.update(PORT=str(port), LIVEMON_DATA_DIR=str(tmp_path / "data"))
    # its own process group, like a terminal's foreground job: Ctrl-C signals the whole group
    demo = subprocess.Popen([sys.executable, "-m", "livemon", "demo", "--sessions", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(line.decode(errors="replace") for line in demo.stdout or ()))
    reader.start()
    try:
        link = wait_for(lambda: next((m for line in lines if (m := re.search(r"admin:\s+(\S+)", line))), None),
                        60, "the demo's printed links")
        token = re.search(r"token=([^&]+)", link.group(1))
        assert token is not None and link.group(1).startswith(f"http://127.0.0.1:{port}/login")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10,
                          headers={"Authorization": f"Bearer {token.group(1)}"}) as http:

            def live_rooms() -> list[dict[str, object]] | None:
                rooms = http.get("/api/v1/sessions").json()["sessions"]
                return rooms if len(rooms) == 2 and all(room["events_total"] > 0 for room in rooms) else None

            wait_for(live_rooms, 60, "two simulated rooms with events counted")
    finally:
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C
        code = demo.wait(60)
        reader.join(10)
        if demo.stdout is not None:
            demo.stdout.close()
    output = "".join(lines)
    assert code == 0, output
    assert "livemon demo stopped." in output
    assert "Traceback" not in output, output  # Redis outlives the processes that use it
    assert "final checkpoint skipped" not in output, output
