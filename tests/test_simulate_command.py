"""`livemon simulate` against a real web node: a refused key is one clear line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

from tests.support import Stack


def test_simulate_with_a_wrong_ingest_key_says_so_and_exits_1(stack: Stack) -> None:
    run = subprocess.run([sys.executable, "-m", "livemon", "simulate", "--url", stack.url, "--key", "wrong",
                          "--fast", "--duration", "30"], check=False, capture_output=True, text=True, timeout=60,
                         env={**stack.env, "LIVEMON_INGEST_KEY": ""})
    assert run.returncode == 1, run.stderr
    assert "Error: ingest refused a batch (401)" in run.stderr and "ingest key" in run.stderr
    assert "Traceback" not in run.stderr
