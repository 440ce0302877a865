"""Browser fixtures: real daphne processes, and Debian's Chromium driven by
Playwright, one browser context (one person, signed in through the login form)
per user in a test.
"""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import Server, Site, prepared_site

from .people import CHROMIUM, CHROMIUM_ARGS, Person


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath) and "server" in getattr(
            item, "fixturenames", ()
        ):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site for every browser test: each test makes the rows it changes."""
    redis = os.environ.get("REDIS_URL") or None
    with prepared_site(tmp_path_factory.mktemp("site"), redis) as site:
        yield site


@pytest.fixture(scope="session")
def server(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One daphne process serving ``site``."""
    process = Server(site, tmp_path_factory.mktemp("logs") / "daphne.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Chromium; missing, it skips here and fails in CI."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (make test installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def people(browser, server: Server) -> Iterator[Callable[..., Person]]:
    """``people("bob")``: bob, signed in, in a browser context of his own.

    When the test ends, every page any of them opened must have logged no
    console error (beyond those the test declared expected).
    """
    opened: list[Person] = []

    def sign_in(username: str, **options: object) -> Person:
        person = Person(browser, server, username, **options)
        opened.append(person)
        person.log_in()
        return person

    yield sign_in
    try:
        for person in opened:
            person.assert_no_console_errors()
    finally:
        for person in opened:
            person.close()


@pytest.fixture
def newcomers(browser, server: Server) -> Iterator[Callable[..., Person]]:
    """``newcomers("ana")``: someone with no account yet, in a browser context
    of their own; their pages must log no console error the test did not
    declare."""
    opened: list[Person] = []

    def arrive(name: str, **options: object) -> Person:
        person = Person(browser, server, f"{name}{uuid.uuid4().hex[:6]}", **options)
        opened.append(person)
        return person

    yield arrive
    try:
        for person in opened:
            person.assert_no_console_errors()
    finally:
        for person in opened:
            person.close()


@pytest.fixture(scope="module")
def api(server: Server) -> dict[str, Api]:
    """REST clients of the demo users, by name."""
    return {
        name: Api.login(server.http_url, name) for name in ("alice", "bob", "carol")
    }


@pytest.fixture(scope="module")
def alices_list(api: dict[str, Api]) -> int:
    """The id of the demo list "Alice's birthday" (bob and carol are members)."""
    return api["bob"].list_id("Alice's birthday")


@pytest.fixture(scope="module")
def alices_family(api: dict[str, Api], alices_list: int) -> int:
    """The id of the family that "Alice's birthday" belongs to."""
    return api["bob"].get(f"/api/gift-lists/{alices_list}/")["family"]
