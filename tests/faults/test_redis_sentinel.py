"""Redis behind Sentinel (``REDIS_SENTINELS``): a private master, a replica and
three sentinels serve two server processes. The master is killed; Sentinel
promotes the replica and the processes follow it without a restart: every
event written before, during and after the failover reaches every client
exactly once, in order, and the cache (the sign-in throttle) counts on the new
master."""

import asyncio
import json
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from tests.e2e.api import Api
from tests.e2e.servers import Database, Server, Site, free_port

from .clients import Resumer
from .conftest import (
    PrivateRedis,
    async_wait_until,
    bob_list,
    drop_site,
    private_redis_needed,
    wait_until,
)

SERVERS = 2
SENTINELS = 3
WRITES_DURING_FAILOVER = 3
# What Sentinel waits for before it calls the master down, and the most a
# failover may take before another is tried, in milliseconds: low, so that
# the test's failover takes seconds.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000

pytestmark = pytest.mark.timeout(240)


class PrivateSentinel:
    """A ``redis-server --sentinel`` of one test, watching one master."""

    def __init__(self, directory: Path, master: str, master_port: int) -> None:
        self.directory = directory
        self.port = free_port()
        self.master = master
        self.master_port = master_port
        self.process: subprocess.Popen | None = None

    def start(self) -> "PrivateSentinel":
        self.directory.mkdir(parents=True, exist_ok=True)
        conf = self.directory / "sentinel.conf"  # Sentinel rewrites it
        conf.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self.directory}\n"
            f"sentinel monitor {self.master} 127.0.0.1 {self.master_port} 2\n"
            f"sentinel down-after-milliseconds {self.master} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {self.master} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {self.master} 1\n"
        )
        self.process = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10)
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, decode_responses=True)

    def answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def master_port_now(self) -> int | None:
        try:
            found = self.client().sentinel_get_master_addr_by_name(self.master)
        except redis.RedisError:
            return None
        return int(found[1]) if found else None

    def knows_everyone(self) -> bool:
        """It has seen the replica and the other sentinels: ready to fail over."""
        try:
            client = self.client()
            replicas = client.sentinel_slaves(self.master)
            others = client.sentinel_sentinels(self.master)
        except redis.RedisError:
            return False
        return len(replicas) == 1 and len(others) == SENTINELS - 1

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def replica_in_sync(replica: PrivateRedis) -> bool:
    info = redis.Redis(port=replica.port, socket_timeout=1).info("replication")
    return info.get("master_link_status") == "up"


@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_clients_lose_nothing_when_sentinel_fails_the_master_over(
    layer, tmp_path
):
    private_redis_needed()
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    master = PrivateRedis(tmp_path / "master")
    replica = PrivateRedis(
        tmp_path / "replica", "--replicaof", "127.0.0.1", str(master.port)
    )
    sentinels = [
        PrivateSentinel(tmp_path / f"sentinel{n}", name, master.port)
        for n in range(SENTINELS)
    ]
    site: Site | None = None
    servers: list[Server] = []
    clients: list[Resumer] = []
    try:
        for directory in ("master", "replica"):
            (tmp_path / directory).mkdir()
        master.start()
        replica.start()
        wait_until(lambda: replica_in_sync(replica))
        for sentinel in sentinels:
            sentinel.start()
        site = Site(
            Database.create(tmp_path),
            redis=None,
            extra_env={
                "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
                "REALTIME_TEST_SETTINGS": json.dumps(
                    {"LAYER_CHECK_INTERVAL": 0.5, "LAYER_CHECK_TIMEOUT": 2}
                ),
                "REALTIME_CHANNEL_LAYER": layer,
                "REDIS_SENTINELS": ",".join(
                    f"127.0.0.1:{sentinel.port}" for sentinel in sentinels
                ),
                "REDIS_SENTINEL_MASTER": name,
            },
        )
        site.prepare()  # meanwhile the sentinels find the replica and each other
        for sentinel in sentinels:
            wait_until(sentinel.knows_everyone)
        servers = [
            Server(site, tmp_path / f"server{n}.log", kind="uvicorn").start()
            for n in range(SERVERS)
        ]
        writers = [Api.login(server.http_url, "bob") for server in servers]
        carol = Api.login(servers[0].http_url, "carol")
        list_id = bob_list(writers[0])
        topic = f"gift-list:{list_id}"
        clients = [
            Resumer([server.ws_url], carol.token, [topic]).start() for server in servers
        ]
        for client in clients:
            await asyncio.wait_for(client.ready.wait(), 30)
        start = clients[0].seqs[topic]
        written = 0

        async def write(label: str) -> None:
            nonlocal written
            writer = writers[written % SERVERS]
            await asyncio.to_thread(
                writer.post, "/api/gifts/", json={"list": list_id, "title": label}
            )
            written += 1

        def caught_up(client: Resumer) -> bool:
            return client.seen(topic) == list(range(start + 1, start + written + 1))

        await write("before")
        for client in clients:
            await async_wait_until(lambda c=client: caught_up(c))

        master.stop()  # SIGKILL: no goodbye to the replica or the sentinels
        killed_at = time.monotonic()
        for n in range(WRITES_DURING_FAILOVER):
            await write(f"during {n}")
        await async_wait_until(
            lambda: all(s.master_port_now() == replica.port for s in sentinels)
        )
        promoted = time.monotonic() - killed_at
        await write("after")
        # The same processes, following the new master: every event once,
        # in order (Resumer refuses a repeat or a step back), none missing.
        for client in clients:
            await async_wait_until(lambda c=client: caught_up(c))
        recovered = time.monotonic() - killed_at
        for server in servers:
            assert server.process.poll() is None, "a server process exited"
            ready = httpx.get(f"{server.http_url}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
        # The cache follows the new master too: failed sign-ins are counted
        # across both processes until the throttle refuses (429).
        statuses = [
            httpx.post(
                f"{servers[n % SERVERS].http_url}/api/auth/token/",
                data={"username": "alice", "password": "wrong"},
                timeout=10,
            ).status_code
            for n in range(11)
        ]
        assert 429 not in statuses[:10] and statuses[10] == 429, statuses
        print(
            f"\n{layer} layer: master killed; replica promoted after "
            f"{promoted:.1f} s; every client had every event "
            f"{recovered:.1f} s after the kill; closes per client: "
            f"{[client.closes for client in clients]}"
        )
    finally:
        for client in clients:
            await client.stop()
        for server in servers:
            server.stop()
        for sentinel in sentinels:
            sentinel.stop()
        master.stop()
        replica.stop()
        if site is not None:
            drop_site(site)
