"""A person in a browser: one Playwright context, signed in through the real
login form, whose pages report their console errors.
"""

import json
import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.api import DEMO_PASSWORDS
from tests.e2e.servers import Server

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium reaches out to its vendor's
# services at start, and this machine's closed network refuses it loudly.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Live changes must show within a second; the margin covers a loaded CI machine.
LIVE = 5000
#: The password newcomers sign up with (Django's validators accept it).
PASSWORD = "orchard-lantern-7319"


class Person:
    """One user in a browser context of their own."""

    def __init__(
        self,
        browser: Browser,
        server: Server,
        username: str,
        viewport: dict[str, int] | None = None,
        expected_errors: tuple[str, ...] = (),
        **context_options: Any,
    ) -> None:
        self.username = username
        self.server = server
        self.context = browser.new_context(
            base_url=server.http_url,
            viewport=viewport or DESKTOP,
            **context_options,
        )
        self.context.set_default_timeout(15000)
        self.expected = [re.compile(pattern) for pattern in expected_errors]
        self.errors: list[str] = []
        self.pages: list[Page] = []

    def page(self) -> Page:
        """A new tab whose console errors and uncaught exceptions are collected."""
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        self.pages.append(page)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        if not any(pattern.search(text) for pattern in self.expected):
            self.errors.append(text)

    def expect_errors(self, *patterns: str) -> None:
        """Console errors matching these patterns are part of the test's story."""
        self.expected.extend(re.compile(pattern) for pattern in patterns)

    def log_in(self) -> None:
        page = self.page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(self.username)
        page.get_by_label("Password").fill(DEMO_PASSWORDS[self.username])
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_text(f"Signed in as {self.username}")).to_be_visible()
        page.close()
        self.pages.remove(page)

    def open(self, path: str, page: Page | None = None) -> Page:
        """Open a page and wait until it follows its topics (``data-synced``)."""
        page = page or self.page()
        page.goto(path)
        expect(page.locator("[data-synced]")).to_have_attribute("data-synced", "true")
        return page

    def assert_no_console_errors(self) -> None:
        assert self.errors == [], f"{self.username}'s console: {self.errors}"

    def close(self) -> None:
        self.context.close()


def fill_sign_up(page: Page, username: str) -> None:
    """Fill in and send the sign-up form; the header then names the newcomer."""
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()


def gift_row(page: Page, title: str):
    """The row of the gift titled exactly ``title``."""
    return page.locator("li.gift").filter(
        has=page.locator(".gift-title", has_text=re.compile(f"^{re.escape(title)}$"))
    )


def activity(page: Page):
    return page.locator("#activity")


def badge(page: Page):
    return page.locator("#connection")


def wait_until(page: Page, condition: Callable[[], Any], failure: str) -> None:
    """Let the page and its routes run until ``condition()`` holds (at most 10 s)."""
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, failure
        page.wait_for_timeout(20)


class HeldEvents:
    """The page's WebSocket, with the server's events about one gift held back."""

    def __init__(self, gift_id: int) -> None:
        self.gift_id = str(gift_id)
        self.messages: list[str] = []
        self.holding = True
        self.to_page = None

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()
        self.to_page = ws
        server.on_message(self.from_server)

    def from_server(self, message: str | bytes) -> None:
        if self.holding and self.is_about_the_gift(message):
            self.messages.append(message)
        else:
            self.to_page.send(message)

    def is_about_the_gift(self, message: str | bytes) -> bool:
        try:
            frame = json.loads(message)
        except ValueError:
            return False
        return (
            frame.get("type") == "event"
            and frame["data"]["entity_type"] == "gift"
            and frame["data"]["entity_id"] == self.gift_id
        )

    def release(self) -> None:
        """Let the held events through, in order, and hold nothing from now on."""
        self.holding = False
        for message in self.messages:
            self.to_page.send(message)


def hold_gift_events(page: Page, gift_id: int) -> HeldEvents:
    held = HeldEvents(gift_id)
    page.route_web_socket(re.compile(r"/ws/"), held.route)
    return held


class HeldRead:
    """The page's next read of a URL: answered by the server at once, but handed
    to the page only when the test says, so that events can overtake it."""

    def __init__(self) -> None:
        self.armed = False
        self.held: list[tuple[Any, Any]] = []

    def route(self, route: Any) -> None:
        if self.armed and not self.held:
            self.held.append((route, route.fetch()))
        else:
            route.continue_()

    def release(self) -> None:
        """Hand the held answer (what the server said then) to the page."""
        route, response = self.held[0]
        route.fulfill(response=response)


def hold_next_read(page: Page, url: re.Pattern[str]) -> HeldRead:
    held = HeldRead()
    page.route(url, held.route)
    return held


# -- who is here, and what they are doing ------------------------------------


def present(page: Page):
    """The avatars of everyone on the list's page (``data-name``, ``data-me``)."""
    return page.locator("#present li")


def present_named(page: Page, name: str):
    return page.locator(f'#present li[data-name="{name}"]')


def page_root(page: Page):
    """The list page's root: its ``data-*`` attributes say the timings in use."""
    return page.locator("#gift-list-app")


def typing_line(page: Page):
    """Who is typing a gift idea, under the gifts; hidden when nobody is."""
    return page.locator("#typing")


def editing_marker(row):
    """Who else is editing the gift, in its row."""
    return row.locator(".gift-editing")


_WATCH_TEXTS = """(selector) => {
    window.__shown ??= {};
    const log = (window.__shown[selector] = []);
    const look = () => {
        const node = document.querySelector(selector);
        const text = node && !node.hidden ? node.textContent.trim() : "";
        if (log.at(-1) !== text) log.push(text);
    };
    look();
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def watch_texts(page: Page, selector: str) -> None:
    """From now on the page records every text the element at ``selector``
    shows, in order, so that an indicator that shows only briefly is seen
    however briefly it showed (no poll can miss it)."""
    page.evaluate(_WATCH_TEXTS, selector)


def texts_shown(page: Page, selector: str) -> list[str]:
    return page.evaluate("(selector) => window.__shown[selector]", selector)


def wait_until_shown(page: Page, selector: str, text: str) -> None:
    """Wait until the watched element has shown ``text`` (it may be gone again)."""
    page.wait_for_function(
        "([selector, text]) => window.__shown[selector].some((t) => t.includes(text))",
        arg=[selector, text],
    )


_WATCH_ROWS = """(title) => {
    const log = (window.__rows = []);
    const look = () => {
        const rows = [...document.querySelectorAll("li.gift")].filter(
            (row) => row.querySelector(".gift-title")?.textContent === title);
        const seen = JSON.stringify(rows.map((row) => [
            row.querySelector(".gift-state")?.textContent ?? "",
            row.classList.contains("flash"),
        ]));
        if (log.at(-1) !== seen) log.push(seen);
    };
    look();
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def watch_rows(page: Page, title: str) -> None:
    """From now on the page records each change of the rows titled ``title``:
    how many there are, what state each says, and whether it flashes."""
    page.evaluate(_WATCH_ROWS, title)


def rows_seen(page: Page) -> list[list[tuple[str, bool]]]:
    """What ``watch_rows`` recorded: one list of (state, flashing) per change."""
    log = page.evaluate("() => window.__rows")
    return [[tuple(row) for row in json.loads(seen)] for seen in log]


class Frames:
    """Every WebSocket frame a page receives, parsed."""

    def __init__(self, page: Page) -> None:
        self.received: list[dict[str, Any]] = []
        page.on("websocket", self.socket)

    def socket(self, ws: Any) -> None:
        ws.on("framereceived", self.frame)

    def frame(self, payload: str | bytes) -> None:
        try:
            self.received.append(json.loads(payload))
        except ValueError:
            pass

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [frame for frame in self.received if frame.get("type") == kind]


def record_frames(page: Page) -> Frames:
    """Record what the page's WebSockets receive (call before opening it)."""
    return Frames(page)


class LostStops:
    """The page's WebSocket, with every "stopped typing" it sends lost on the
    way, as if its network had died just then: only an expiry can end it."""

    def __init__(self) -> None:
        self.lost: list[dict[str, Any]] = []

    def route(self, ws: Any) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            try:
                frame = json.loads(message)
            except ValueError:
                frame = {}
            if (
                frame.get("type") == "publish"
                and frame.get("data", {}).get("active") is False
            ):
                self.lost.append(frame)
            else:
                server.send(message)

        ws.on_message(from_page)


def lose_stops(page: Page) -> LostStops:
    lost = LostStops()
    page.route_web_socket(re.compile(r"/ws/"), lost.route)
    return lost
