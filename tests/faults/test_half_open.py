"""A half-open client (handshake done, then silence: no reads, no pongs, no
close) is closed by the server's protocol pings within a bounded time, and its
connection, subscriptions and groups are freed."""

import os

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .conftest import async_wait_until, bob_list, drop_site, make_site, metric
from .rawws import RawSocket

# Short pings for the test; production keeps the servers' defaults (20 s).
PINGS = {
    "uvicorn": ("--ws-ping-interval", "1", "--ws-ping-timeout", "1"),
    "daphne": ("--ping-interval", "1", "--ping-timeout", "2"),
}
BOUND = 15  # seconds: ping interval + timeout + the servers' own close timeouts

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("kind", ["uvicorn", "daphne"])
async def test_half_open_client_is_closed_and_its_groups_freed(kind, tmp_path):
    site = make_site(tmp_path, os.environ.get("REDIS_URL") or None)
    server = Server(site, tmp_path / "server.log", kind=kind, args=PINGS[kind]).start()
    try:
        carol = Api.login(server.http_url, "carol")
        topic = f"gift-list:{bob_list(carol)}"
        silent = RawSocket(server.port, f"/ws/?token={carol.token}")
        assert silent.message()["type"] == "welcome"
        silent.send_json({"type": "subscribe", "topics": [topic]})
        assert silent.message()["type"] == "subscribed"
        assert metric(server, "realtime_connections_open", transport="websocket") == 1
        assert metric(server, "realtime_subscriptions") == 1
        # From here it reads nothing and answers no ping; the wait's timeout is
        # the bound on how long the server may take to close it.
        await async_wait_until(
            lambda: (
                metric(server, "realtime_connections_open", transport="websocket") == 0
            ),
            timeout=BOUND,
        )
        assert metric(server, "realtime_subscriptions") == 0
        silent.close()
        # The server still serves new connections normally.
        again = RawSocket(server.port, f"/ws/?token={carol.token}")
        assert again.message()["type"] == "welcome"
        again.close()
    finally:
        server.stop()
        drop_site(site)
