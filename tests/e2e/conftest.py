"""End-to-end fixtures: a fresh site and real server processes per test module."""

import os
from collections.abc import Iterator

import pytest

from .servers import (
    SERVER_KINDS,
    Server,
    Site,
    prepared_site,
    redis_reachable,
    redis_url,
)


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
def server_site(
    server_kind: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """Like ``site``, one per server kind: the tests change what they find."""
    redis = os.environ.get("REDIS_URL") or None
    with prepared_site(tmp_path_factory.mktemp("site"), redis) as site:
        yield site


@pytest.fixture(scope="module")
def redis_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A site whose processes share the real Redis (several processes)."""
    url = require_redis()
    with prepared_site(tmp_path_factory.mktemp("redis-site"), url) as site:
        yield site


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """Every test runs on uvicorn (what ``make serve`` runs) and on daphne."""
    return request.param


@pytest.fixture(scope="module")
def server(
    server_kind: str, server_site: Site, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server process serving ``server_site``."""
    kind = server_kind
    logs = tmp_path_factory.mktemp("logs")
    process = Server(server_site, logs / f"{kind}.log", kind=kind).start()
    yield process
    process.stop()
