"""Real processes for tests: livemon web/engine as subprocesses on free ports, and waiting helpers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import orjson

from livemon import keys
from livemon.processes import stop_children
from livemon.redis_client import connect
from livemon.redis_server import free_port
from livemon.tokens import TokenStore, parse_role, parse_sessions

T = TypeVar("T")
INGEST_KEY = "test-ingest-key"


def wait_for(predicate: Callable[[], T | None], timeout_s: float = 15.0, what: str = "condition") -> T:
    """Poll an observable condition until it holds; fail with `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}; last value: {last!r}")


def create_token(redis_url: str, role: str = "admin", sessions: str = "*", expires_at: float | None = None) -> str:
    """Store an access token the way `livemon token create` does and return it."""

    async def create() -> str:
        client = connect(redis_url)
        try:
            token, _grant = await TokenStore(client).create(parse_role(role), parse_sessions(sessions), expires_at)
            return token
        finally:
            await client.aclose()

    return asyncio.run(create())


class LivemonProcess:
    """One `livemon <command>` child with its own environment."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> LivemonProcess:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen([sys.executable, "-m", "livemon", *self.command], env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown path runs, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process:
            stop_children([self.process])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def stack_env(redis_url: str, data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        REDIS_URL=redis_url,
        PORT=str(port),
        LIVEMON_INGEST_KEY=INGEST_KEY,
        LIVEMON_DATA_DIR=str(data_dir),
        LIVEMON_PSEUDONYM_SECRET="test-secret",
        **extra,
    )
    return env


class Stack:
    """A running web process (and optionally engine) against one Redis."""

    def __init__(self, redis_url: str, workdir: Path, with_engine: bool = True, **extra_env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = stack_env(redis_url, workdir, self.port, **extra_env)
        self.workdir = workdir
        self.web = LivemonProcess(["web"], self.env, workdir / "web.log")
        self.engine = LivemonProcess(["engine"], self.env, workdir / "engine.log")
        self.with_engine = with_engine
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.admin_token = ""

    def start(self) -> Stack:
        # `self.http` and `ws_url` act as an admin, so tests about data need no sign-in steps.
        self.admin_token = create_token(self.env["REDIS_URL"], "admin")
        self.http.headers["Authorization"] = f"Bearer {self.admin_token}"
        self.web.start()
        if self.with_engine:
            self.engine.start()
        wait_for(self._healthy, 20, "web /healthz")
        return self

    def _healthy(self) -> bool:
        try:
            return self.http.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def token(self, role: str = "admin", sessions: str = "*") -> str:
        """A fresh access token for this stack's Redis."""
        return create_token(self.env["REDIS_URL"], role, sessions)

    @property
    def ws_url(self) -> str:
        """The websocket URL, signed in as admin through `?token=`."""
        return f"{self.url.replace('http', 'ws', 1)}/ws?token={self.admin_token}"

    def login_url(self, next_path: str = "/wall", token: str | None = None) -> str:
        """A URL that signs a browser in (session cookie) and lands on `next_path`."""
        return f"{self.url}/login?token={token or self.admin_token}&next={next_path}"

    def sign_in(self, page: Any, next_path: str = "/wall", token: str | None = None) -> None:
        """Sign a Playwright page in as a person would: open the sign-in link, press "Sign in"."""
        page.goto(self.login_url(next_path, token))
        with page.expect_navigation():
            page.click("button[type=submit]")

    def restart_engine(self) -> None:
        self.engine = LivemonProcess(["engine"], self.env, self.workdir / "engine.log").start()

    def restart_web(self) -> None:
        """Stop the web process and start a new one on the same port, as a deploy would."""
        self.web.stop()
        self.web = LivemonProcess(["web"], self.env, self.workdir / "web.log").start()
        wait_for(self._healthy, 20, "web /healthz after restart")

    def publish_snapshot(self, data: dict[str, object]) -> None:
        """Publish a snapshot the way the engine runner does (lm:snap hash + lm:updates stream).

        For page tests of snapshot-contract fields (docs/architecture.md) the engine does not fill yet.
        """
        import redis  # local: only page tests need a synchronous client here

        client = redis.Redis.from_url(self.env["REDIS_URL"])
        try:
            raw = orjson.dumps(data)
            client.hset(keys.SNAPSHOTS, str(data["session"]), raw)
            client.xadd(keys.UPDATES, {"s": str(data["session"]), "d": raw})
        finally:
            client.close()

    def post(self, body: bytes | list[dict[str, object]], key: str = INGEST_KEY, content_type: str = "application/json"
             ) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.http.post("/api/v1/events", content=content,
                              headers={"Authorization": f"Bearer {key}", "Content-Type": content_type})

    def metrics(self, session: str) -> dict[str, Any] | None:
        """The session's latest metrics snapshot (JSON), or None when the API has none to give."""
        response = self.http.get(f"/api/v1/sessions/{session}/metrics")
        return response.json() if response.status_code == 200 else None

    def stop(self) -> None:
        self.engine.stop()
        self.web.stop()
        self.http.close()
