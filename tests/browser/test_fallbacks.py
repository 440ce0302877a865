"""With WebSockets blocked the page follows its list over Server-Sent Events;
with those blocked too, by polling; either way changes still appear."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.api import Api

from .people import LIVE, activity, badge, gift_row, present_named

# Short fallback timings for this page only: fall back after one failed socket,
# poll every half second, and do not try the socket again during the test.
TUNED = "?fallback=1&ssefail=1&poll=500&retryws=600000"
SSE_URL = "**/realtime/sse/**"


@pytest.fixture(scope="module")
def alice(server):
    return Api.login(server.http_url, "alice")


@pytest.fixture(scope="module")
def list_id(alice) -> int:
    return alice.list_id("Alice's birthday")


def refuse_websockets(page) -> None:
    """Every WebSocket the page opens is closed at once, before any welcome."""
    page.route_web_socket("**/ws/", lambda ws: ws.close(code=1011, reason="blocked"))


def test_websockets_blocked_the_page_falls_back_to_sse(people, alice, list_id):
    bob = people("bob")
    page = bob.page()
    refuse_websockets(page)
    bob.open(f"/lists/{list_id}/{TUNED}", page=page)
    expect(badge(page)).to_have_attribute("data-status", "fallback-sse")
    expect(badge(page)).to_have_text("Live (event stream)")
    # The stream says who is here too; only the WebSocket could say "typing".
    expect(present_named(page, "bob")).to_have_attribute("title", "bob (you)")
    page.get_by_label("Title").fill("Someday")
    page.get_by_label("Title").fill("")

    title = f"Drone {uuid.uuid4().hex[:6]}"
    alice.post("/api/gifts/", json={"list": list_id, "title": title})
    expect(gift_row(page, title)).to_contain_text("Still wanted", timeout=LIVE)
    page.get_by_role("button", name=f"Claim {title}").click()
    expect(gift_row(page, title)).to_contain_text("Claimed by you")
    expect(activity(page)).to_contain_text(f"You claimed {title}", timeout=LIVE)
    expect(badge(page)).to_have_attribute("data-status", "fallback-sse")


def test_websockets_and_sse_blocked_the_page_polls(people, alice, list_id):
    bob = people("bob")
    # The refused stream shows as a failed request in the console.
    bob.expect_errors(r"net::ERR_FAILED.*/realtime/sse/")
    page = bob.page()
    refuse_websockets(page)
    page.route(SSE_URL, lambda route: route.abort())
    bob.open(f"/lists/{list_id}/{TUNED}", page=page)
    expect(badge(page)).to_have_attribute("data-status", "fallback-poll")
    expect(badge(page)).to_have_text("Live (polling)")
    expect(page.locator("#presence")).to_be_hidden()  # polling carries no presence

    title = f"Telescope {uuid.uuid4().hex[:6]}"
    gift = alice.post("/api/gifts/", json={"list": list_id, "title": title})
    expect(gift_row(page, title)).to_be_visible(timeout=LIVE)
    renamed = f"Small {title}"
    alice.patch(f"/api/gifts/{gift['id']}/", json={"title": renamed})
    expect(gift_row(page, renamed)).to_be_visible(timeout=LIVE)
    expect(activity(page)).to_contain_text(f"alice edited {renamed}")
    expect(badge(page)).to_have_attribute("data-status", "fallback-poll")
