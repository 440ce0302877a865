"""End-to-end fixtures: a fresh site and real server processes per test module."""

import os
from collections.abc import Iterator

import pytest

from .servers import Server, Site, prepared_site, redis_reachable, redis_url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def require_redis() -> str:
    """The Redis URL; outside CI a machine without Redis skips, in CI it fails."""
    if not redis_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {redis_url()}")
        pytest.skip(f"Redis is not reachable at {redis_url()}")
    return redis_url()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A migrated, seeded site on this pass's database and channel layer."""
    redis = os.environ.get("REDIS_URL") or None
    with prepared_site(tmp_path_factory.mktemp("site"), redis) as site:
        yield site


@pytest.fixture(scope="module")
def redis_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site whose processes share the real Redis (several processes)."""
    url = require_redis()
    with prepared_site(tmp_path_factory.mktemp("redis-site"), url) as site:
        yield site


@pytest.fixture(scope="module")
def server(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One daphne process serving ``site``."""
    process = Server(site, tmp_path_factory.mktemp("logs") / "daphne.log").start()
    yield process
    process.stop()
