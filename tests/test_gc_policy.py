"""The engine's garbage-collector policy as an operator sets it: `LIVEMON_GC_THRESHOLD` on `livemon engine`.

Each test runs the real `engine` command in this process against a Redis that is not there:
the policy is applied once start-up is done, before the first Redis call fails, so the
collector's state afterwards is what a running engine would have.
"""

from __future__ import annotations

import gc
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from livemon.cli import main


@pytest.fixture
def collector() -> Iterator[tuple[int, int, int]]:
    """This process's thresholds before the test; thresholds and the permanent generation restored after."""
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    yield before
    gc.unfreeze()
    gc.set_threshold(*before)


def run_engine(tmp_path: Path, gc_threshold: str) -> str:
    """`livemon engine` with LIVEMON_GC_THRESHOLD set, on a closed port; its output (a Redis error)."""
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "LIVEMON_DATA_DIR": str(tmp_path),
           "LIVEMON_PSEUDONYM_SECRET": "test", "LIVEMON_GC_THRESHOLD": gc_threshold}
    result = CliRunner().invoke(main, ["engine"], env=env)
    assert result.exit_code == 1, result.output
    assert "Cannot reach Redis" in result.output
    return result.output


def test_gc_policy_zero_keeps_cpython_defaults(collector: tuple[int, int, int], tmp_path: Path) -> None:
    run_engine(tmp_path, "0")
    assert gc.get_threshold() == collector
    assert gc.get_freeze_count() == 0


def test_gc_policy_threshold_freezes_start_up_and_raises_gen0(collector: tuple[int, int, int],
                                                            tmp_path: Path) -> None:
    made_before = {"a dict": ["made before the engine started"]}
    run_engine(tmp_path, "30000")
    assert gc.get_threshold() == (30_000, *collector[1:])
    assert gc.get_freeze_count() > 1000  # modules, configs, this test's own objects
    assert not any(o is made_before for o in gc.get_objects())  # frozen: no generation holds it


def test_gc_policy_negative_threshold_is_refused(collector: tuple[int, int, int], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["engine"], env={"LIVEMON_GC_THRESHOLD": "-1",
                                                       "LIVEMON_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "Invalid value for '--gc-threshold': -1" in result.output
    assert gc.get_threshold() == collector
