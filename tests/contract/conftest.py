"""Contract fixtures: one real server per module, and the three transports."""

import os
from collections.abc import Iterator

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import SERVER_KINDS, Server, Site, prepared_site

from .transports import TRANSPORTS, Transport

# Keep-alive comments every half second, so a test sees them without waiting.
KEEPALIVE_SECONDS = "0.5"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/contract/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def site(server_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A migrated, seeded site on this pass's database and channel layer, one
    per server kind: the tests change what they find."""
    with prepared_site(
        tmp_path_factory.mktemp("contract-site"),
        os.environ.get("REDIS_URL") or None,
        REALTIME_SSE_KEEPALIVE_SECONDS=KEEPALIVE_SECONDS,
    ) as site:
        yield site


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server_kind(request: pytest.FixtureRequest) -> str:
    """Every test runs on uvicorn (what ``make serve`` runs) and on daphne."""
    return request.param


@pytest.fixture(scope="module")
def server(
    server_kind: str, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server process serving ``site``."""
    kind = server_kind
    logs = tmp_path_factory.mktemp("logs")
    process = Server(site, logs / f"{kind}.log", kind=kind).start()
    yield process
    process.stop()


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest, server: Server) -> Transport:
    """Each contract test runs once per transport."""
    return TRANSPORTS[request.param](server.http_url)


@pytest.fixture(scope="module")
def users(server: Server) -> dict[str, Api]:
    """REST clients for the demo users alice, bob and carol."""
    return {
        name: Api.login(server.http_url, name) for name in ("alice", "bob", "carol")
    }


@pytest.fixture(scope="module")
def demo(users: dict[str, Api]) -> dict[str, str]:
    """The seeded demo's topics: each user's list, and the family."""
    lists = {
        row["title"]: row["id"] for row in users["bob"].results("/api/gift-lists/")
    }
    family = users["bob"].results("/api/families/")[0]["id"]
    alices, bobs = lists["Alice's birthday"], lists["Bob's holidays"]
    return {
        "alice_list": f"gift-list:{alices}",
        "bob_list": f"gift-list:{bobs}",
        "family": f"family:{family}",
    }
