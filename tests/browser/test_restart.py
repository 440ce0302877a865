"""The server restarts under an open page: the badge says so, the page
reconnects by itself, and what changed while the server was down appears."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .people import LIVE, activity, badge, gift_row

# Retry at least once a second and never fall back: this test is about the socket.
TUNED = "?backoff=1000&fallback=1000"

CHANGE_WHILE_DOWN = """
from giftlists.models import Gift, GiftList
gift_list = GiftList.objects.get(title="Alice's birthday")
Gift.objects.create(list=gift_list, title={added!r})
gift = Gift.objects.get(list=gift_list, title={renamed_from!r})
gift.title = {renamed_to!r}
gift.save()
"""


@pytest.fixture(scope="module")
def server(site, tmp_path_factory):
    """A daphne process of this test's own, since the test stops it."""
    process = Server(site, tmp_path_factory.mktemp("logs") / "restart.log").start()
    yield process
    process.stop()


def test_the_page_reconnects_and_catches_up_after_a_restart(people, server, site):
    alice = Api.login(server.http_url, "alice")
    list_id = alice.list_id("Alice's birthday")
    suffix = uuid.uuid4().hex[:6]
    before, after, added = f"Mug {suffix}", f"Blue mug {suffix}", f"Tea {suffix}"
    alice.post("/api/gifts/", json={"list": list_id, "title": before})
    bob = people("bob")
    # While the server is down, every attempt to reconnect fails in the console,
    # and so does any read of the API the page makes meanwhile (it catches up
    # afterwards, as the end of this test shows).
    bob.expect_errors(
        r"WebSocket connection to .*/ws/.* failed",
        r"Failed to load resource: net::ERR_CONNECTION_REFUSED \(.*/api/",
    )
    page = bob.open(f"/lists/{list_id}/{TUNED}")
    expect(badge(page)).to_have_text("Live")
    expect(gift_row(page, before)).to_be_visible()

    server.stop()
    expect(badge(page)).to_have_attribute("data-status", "reconnecting", timeout=LIVE)
    expect(badge(page)).to_have_text("Reconnecting…")
    site.manage(
        "shell",
        "-c",
        CHANGE_WHILE_DOWN.format(added=added, renamed_from=before, renamed_to=after),
    )
    server.start()

    expect(badge(page)).to_have_text("Live", timeout=15000)
    expect(gift_row(page, after)).to_be_visible(timeout=LIVE)
    expect(gift_row(page, added)).to_be_visible(timeout=LIVE)
    expect(gift_row(page, before)).to_have_count(0)
    expect(activity(page)).to_contain_text(f"Someone added {added}")
    expect(activity(page)).to_contain_text(f"Someone edited {after}")
