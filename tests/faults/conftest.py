"""Fault tests: real server processes, real sockets, real faults.

Each test injects one fault (Redis stopped, a process killed, a client that
stops reading, a half-open socket, abuse) and waits for conditions with
deadlines, never for fixed times. Redis faults use a private redis-server on a
free port, never the shared one.
"""

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.api import Api
from tests.e2e.conftest import require_redis
from tests.e2e.servers import Database, Server, Site, free_port

# Generous: the machine runs two test passes and other work at once.
DEADLINE = 30


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def wait_until(condition: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s: {condition}")
        time.sleep(0.05)


async def async_wait_until(condition: Callable[[], Any], timeout: float = DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        value = await asyncio.to_thread(condition)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s: {condition}")
        await asyncio.sleep(0.05)


async def wait_for_coroutine(
    condition: Callable[[], Any], timeout: float = DEADLINE
) -> Any:
    """Await ``condition()`` until it is truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout} s: {condition}")
        await asyncio.sleep(0.2)


_SAMPLE = re.compile(r"^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$")


def metric(server: Server, name: str, **labels: str) -> float:
    """A metric's value as ``/metrics`` shows it on loopback (0 if absent)."""
    body = httpx.get(f"{server.http_url}/metrics", timeout=10).text
    wanted = {f'{key}="{value}"' for key, value in labels.items()}
    total = 0.0
    for line in body.splitlines():
        match = _SAMPLE.match(line)
        if not match or match.group(1) != name:
            continue
        found = set((match.group(2) or "{}")[1:-1].split(",")) - {""}
        if wanted <= found:
            total += float(match.group(3))
    return total


class PrivateRedis:
    """A redis-server of one test, on a free port, that the test may stop."""

    def __init__(self, directory: Path, *args: str) -> None:
        self.directory = directory
        self.port = free_port()
        self.args = args  # more redis-server options (e.g. --replicaof)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            *self.args,
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self.answers, timeout=10)
        return self

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """SIGKILL: Redis goes away at once and comes back empty."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def private_redis_needed() -> None:
    """Skip without redis-server outside CI; in CI its absence fails."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (CI installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    private_redis_needed()
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()


def make_site(
    tmp_path: Path, redis: str | None, layer: str = "core", **realtime: Any
) -> Site:
    """A migrated, seeded site whose processes use ``REALTIME`` overrides."""
    site = Site(
        Database.create(tmp_path),
        redis=redis,
        extra_env={
            "DJANGO_SETTINGS_MODULE": "tests.faults.settings",
            "REALTIME_TEST_SETTINGS": json.dumps(realtime),
            "REALTIME_CHANNEL_LAYER": layer,
        },
    )
    site.prepare()
    return site


def drop_site(site: Site) -> None:
    if site.database.drop:
        site.database.drop()


@pytest.fixture(scope="module")
def shared_redis_url() -> str:
    return require_redis()


def bob_list(api: Api) -> int:
    """The id of Bob's list; carol (a member, not the owner) sees its claims."""
    return api.list_id("Bob's holidays")


def alice_list(api: Api) -> int:
    """The id of Alice's list: alice owns it, bob and carol are members."""
    return api.list_id("Alice's birthday")
