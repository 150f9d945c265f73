"""Structured logs: LIVEMON_LOG_FORMAT=json gives one JSON object per line from a real livemon process."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import orjson
import redis

from livemon.logs import JsonFormatter
from tests.support import LivemonProcess, stack_env, wait_for


def test_logs_json_formatter_writes_only_the_formatted_message_and_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("livemon.engine_runner", logging.WARNING, __file__, 1, "partition %d lost", (3,),
                               exc_info)
    record.viewer = "u-123"  # an extra attribute must not leak into the line
    line = orjson.loads(JsonFormatter().format(record))
    assert set(line) == {"ts", "level", "logger", "msg", "process", "exc"}
    assert (line["level"], line["logger"], line["msg"]) == ("WARNING", "livemon.engine_runner", "partition 3 lost")
    assert "ValueError: boom" in line["exc"] and line["ts"].endswith("Z")
    assert "u-123" not in JsonFormatter().format(record)


def test_logs_json_format_from_the_environment_in_a_real_engine(
    redis_client: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    env = stack_env(redis_url, tmp_path, 0, LIVEMON_LOG_FORMAT="json", LIVEMON_ENGINE_NAME="json-logs")
    engine = LivemonProcess(["engine", "--partitions", "0"], env, tmp_path / "engine.log").start()
    try:
        wait_for(lambda: "consuming partitions" in engine.log(), 20, "the engine's start-up line")
    finally:
        engine.stop()
    lines = [orjson.loads(line) for line in engine.log().splitlines() if line.strip()]
    assert any(line["msg"] == "engine json-logs consuming partitions [0]" for line in lines)
    assert all(line["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} for line in lines)
