"""Scale-out on a real Redis Cluster: 3 masters, two engines, two web nodes, 50 simulated rooms, and crashes.

The cluster is the bundled redis-server in cluster mode on loopback (livemon/embedded_cluster.py).
Mid-run one engine and one web node are SIGKILLed. Afterwards every accepted event is
counted exactly once (the engines' `events_total` over all sessions equals the entries in
the partition streams and what the simulator was told was accepted), nothing is left
pending, a websocket client on either node saw every session, and the client that lost
its node and reconnected to the other with its last alert id received every alert
transition in the audit stream, in order, exactly once.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path

import orjson
import pytest
from redis.cluster import ClusterNode, RedisCluster
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from livemon import embedded_cluster, keys
from livemon.embedded_cluster import EmbeddedCluster
from tests import redis_sync
from tests.events_factory import mixed_batch
from tests.support import INGEST_KEY, LivemonProcess, Stack, wait_for

PARTITIONS = 8
SESSIONS = 50


class Watcher(threading.Thread):
    """A websocket client subscribed to every session; on a lost connection it moves to the next URL
    and resumes with the last alert id it saw, as the pages do."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__(daemon=True)
        self.urls = urls
        self.sessions: set[str] = set()
        self.alert_ids: list[str] = []
        self.connections = 0
        self.done = threading.Event()

    def run(self) -> None:
        last = "0-0"  # from the start of the audit stream, so the expected list is the whole stream
        for url in self.urls:
            try:
                with connect(url, open_timeout=10) as ws:
                    self.connections += 1
                    ws.send(orjson.dumps({"type": "subscribe", "v": 1, "sessions": "*", "last_alert_id": last}).decode())
                    while not self.done.is_set():
                        try:
                            message = orjson.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        for inner in message.get("messages", [message]):
                            if inner["type"] == "snapshot":
                                self.sessions.add(inner["session"])
                            elif inner["type"] == "alert":
                                self.alert_ids.append(inner["id"])
                                last = inner["id"]
                    return
            except (ConnectionClosed, OSError):
                continue  # the node died: next URL


def cluster_client(cluster: EmbeddedCluster) -> RedisCluster:
    return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in cluster.ports])


def lease_shares(client: RedisCluster) -> Counter[str]:
    owners = [redis_sync.get(client, keys.lease_key(p)) for p in range(PARTITIONS)]
    return Counter(raw.decode().split("#")[0] for raw in owners if raw is not None)


def streamed(client: RedisCluster) -> int:
    """Events in the partition streams (nothing is trimmed in this test)."""
    return len(redis_sync.stream_events(client, *(keys.events_stream(p) for p in range(PARTITIONS))))


def counted(client: RedisCluster) -> int:
    """Events the engines folded, by their published snapshots."""
    return sum(int(orjson.loads(raw)["events_total"]) for raw in client.hgetall(keys.SNAPSHOTS).values())


def pending(client: RedisCluster) -> int:
    return sum(int(client.xpending(keys.events_stream(p), keys.ENGINE_GROUP)["pending"]) for p in range(PARTITIONS))


@pytest.mark.timeout(240)
def test_cluster_two_engines_two_web_nodes_survive_kills_with_exact_totals_and_alerts(tmp_path: Path) -> None:
    with EmbeddedCluster(tmp_path / "cluster", masters=3) as cluster:
        client = cluster_client(cluster)
        env = {"REDIS_CLUSTER_NODES": cluster.nodes, "LIVEMON_LEASE_TTL_S": "3",
               "LIVEMON_PARTITIONS": str(PARTITIONS)}
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        node_a = Stack(cluster.url, tmp_path / "a", with_engine=True, LIVEMON_ENGINE_NAME="engine-a", **env).start()
        node_b = Stack(cluster.url, tmp_path / "b", with_engine=False, **env).start()
        engine_b = LivemonProcess(["engine"], {**node_a.env, "LIVEMON_ENGINE_NAME": "engine-b"},
                                  tmp_path / "engine-b.log").start()
        simulator = LivemonProcess(
            ["simulate", "--sessions", str(SESSIONS), "--rate", "6", "--duration", "24", "--seed", "11",
             "--prefix", "cl", "--url", node_a.url, "--key", INGEST_KEY],
            node_a.env, tmp_path / "simulate.log")
        on_a = Watcher([node_a.ws_url])
        on_b = Watcher([node_b.ws_url, node_a.ws_url.replace(node_a.admin_token, node_b.admin_token)])
        try:
            wait_for(lambda: lease_shares(client) == {"engine-a": 4, "engine-b": 4}, 30, "4 partitions per engine")
            on_a.start()
            on_b.start()
            simulator.start()
            # Real alert transitions from the engines: rooms that go quiet raise `ingest_silence` after
            # 30 s (config/alerts.toml), three now and three about ten seconds later.
            quiet = [f"quiet-{i}" for i in range(6)]
            for room in quiet[:3]:
                assert node_a.post(mixed_batch(room, comments=2, likes=1, orders=1, viewers=9)).status_code == 200

            wait_for(lambda: counted(client) >= 1500, 40, "both engines counting the simulated rooms")
            engine_b.kill()
            wait_for(lambda: streamed(client) >= counted(client) + 500 or lease_shares(client)["engine-a"] == 8,
                     20, "more events while engine-b is dead")
            for room in quiet[3:]:
                assert node_a.post(mixed_batch(room, comments=2, likes=1, orders=1, viewers=9)).status_code == 200
            wait_for(lambda: client.exists(keys.ALERTS) and client.xlen(keys.ALERTS) >= 1, 60,
                     "the first quiet rooms' silence alerts")
            node_b.web.kill()  # its client resumes on node a with the last alert id it saw
            assert simulator.process is not None
            assert simulator.process.wait(timeout=90) == 0, simulator.log()
            wait_for(lambda: client.xlen(keys.ALERTS) >= len(quiet), 40, "every quiet room's silence alert")

            posted = re.search(r"posted: accepted (\d+), duplicates (\d+)", simulator.log())
            assert posted is not None, simulator.log()
            accepted = int(posted.group(1)) + sum(1 + 2 + 1 + 1 for _ in quiet)  # + the quiet rooms' batches
            wait_for(lambda: lease_shares(client) == {"engine-a": PARTITIONS}, 15, "engine-a owns every partition")
            wait_for(lambda: counted(client) == accepted and pending(client) == 0, 40,
                     "every accepted event counted exactly once and acknowledged")
            assert streamed(client) == accepted

            transitions = [raw_id.decode() for raw_id, _ in redis_sync.xrange(client, keys.ALERTS)] if client.exists(
                keys.ALERTS) else []
            assert transitions, "the simulated rooms raised no alert transition to check delivery with"
            wait_for(lambda: on_b.alert_ids == transitions and on_a.alert_ids == transitions, 15,
                     "every alert transition on both clients, in order, once")
            assert on_b.connections == 2  # it did lose node b and resumed on node a
            expected_sessions = {f"cl-{i + 1}" for i in range(SESSIONS)} | set(quiet)
            assert on_a.sessions == expected_sessions
            assert on_b.sessions == expected_sessions
        finally:
            on_a.done.set()
            on_b.done.set()
            simulator.stop()
            engine_b.stop()
            node_b.stop()
            node_a.stop()
            client.close()


def test_cluster_ports_are_distinct_and_clear_of_each_others_bus_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    # A port is free when picked but not held, so the OS can hand the same one out twice (seen:
    # [54181, 53121, 53121]); such a node never joins and the cluster never comes up.
    offered = iter([41000, 41000, 51000, 42000, 43000])  # a repeat, then 41000's bus port
    monkeypatch.setattr(embedded_cluster, "free_port", lambda: next(offered))
    assert embedded_cluster.cluster_ports(3) == [41000, 42000, 43000]
