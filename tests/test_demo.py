"""`livemon demo` (the README's main command): it comes up, shows live rooms, and Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from livemon.redis_server import free_port
from tests.support import wait_for


def demo_env(port: int, data_dir: Path) -> dict[str, str]:
    """This environment without any Redis of its own (the demo embeds one), on `port` and `data_dir`."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "LIVEMON_REDIS_URL", "REDIS_CLUSTER_NODES")}
    env.update(PORT=str(port), LIVEMON_DATA_DIR=str(data_dir))
    return env


def run_demo_until_rooms_count(data_dir: Path, earlier: set[str]) -> tuple[list[dict[str, Any]], str]:
    """Start the demo, wait for two rooms of its own with events, Ctrl-C it; return every room and its output."""
    port = free_port()
    env = demo_env(port, data_dir)
    # its own process group, like a terminal's foreground job: Ctrl-C signals the whole group. SIGINT
    # starts out ignored, as for a job a non-interactive shell put in the background (CI does):
    # the demo must stop on it all the same
    demo = subprocess.Popen([sys.executable, "-m", "livemon", "demo", "--sessions", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # noqa: PLW1509
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

            def own_rooms_counting() -> list[dict[str, Any]] | None:
                rooms: list[dict[str, Any]] = http.get("/api/v1/sessions").json()["sessions"]
                own = [room for room in rooms if room["session"] not in earlier]
                return rooms if len(own) == 2 and all(room["events_total"] > 0 for room in own) else None

            rooms = wait_for(own_rooms_counting, 60, "two simulated rooms of this run with events counted")
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
    return rooms, output


def test_demo_serves_live_rooms_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    rooms, output = run_demo_until_rooms_count(tmp_path / "data", set())
    assert all(room["live"] for room in rooms)
    assert "ended 2 rooms" in output, output  # Ctrl-C ends the shows instead of leaving them live and silent


def test_demo_run_again_on_the_same_data_starts_new_shows_and_ends_the_old_ones(tmp_path: Path) -> None:
    first, _ = run_demo_until_rooms_count(tmp_path / "data", set())
    earlier = {room["session"] for room in first}
    # the second run's events are counted (not refused as the first run's duplicates) in rooms of its own
    rooms, _ = run_demo_until_rooms_count(tmp_path / "data", earlier)
    by_id = {room["session"]: room for room in rooms}
    assert earlier <= by_id.keys() and len(by_id) == 4
    assert [by_id[s]["live"] for s in sorted(earlier)] == [False, False]  # the first run's shows ended


def test_demo_refuses_a_port_already_in_use_instead_of_trusting_that_server(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "livemon", "demo"], check=False, env=demo_env(port, tmp_path / "data"),
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert f"port {port} is in use" in run.stderr
    assert not (tmp_path / "data").exists()  # nothing was started
