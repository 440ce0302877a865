"""A half-open client (handshake done, then silence: no reads, no pongs, no
close) is closed by the server's protocol pings within a bounded time, and its
connection, subscriptions and groups are freed."""

import asyncio
import os

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .conftest import async_wait_until, bob_list, drop_site, make_site, metric
from .rawws import ClosedByServer, RawSocket

# Short pings for the test; production keeps the servers' defaults (20 s).
PINGS = {
    "uvicorn": ("--ws-ping-interval", "1", "--ws-ping-timeout", "1"),
    "daphne": ("--ping-interval", "1", "--ping-timeout", "2"),
}
BOUND = 15  # seconds: ping interval + timeout + the servers' own close timeouts
# Events big enough that a few dozen fill the kernel's buffers and uvicorn's
# (4 MiB here at most), so that some wait while the server closes the socket.
NOTES = "x" * 256_000
EVENTS = 30

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


async def test_a_socket_the_servers_pings_closed_is_sent_nothing_more(tmp_path):
    """uvicorn closes a client that answers no ping by itself; while that
    socket drains, a send is refused with "Unexpected ASGI message
    'websocket.send', after sending 'websocket.close'". The connection must
    stop writing and end instead: no such refusal, no failed write logged."""
    site = make_site(tmp_path, os.environ.get("REDIS_URL") or None, SEND_TIMEOUT=60)
    server = Server(
        site, tmp_path / "server.log", kind="uvicorn", args=PINGS["uvicorn"]
    ).start()
    try:
        carol = Api.login(server.http_url, "carol")
        list_id = bob_list(carol)
        stalled = RawSocket(server.port, f"/ws/?token={carol.token}")
        assert stalled.message()["type"] == "welcome"
        stalled.send_json({"type": "subscribe", "topics": [f"gift-list:{list_id}"]})
        assert stalled.message()["type"] == "subscribed"
        # It reads nothing for a while: the events fill every buffer on the
        # way, and the server's pings go unanswered until it closes the socket.
        for n in range(EVENTS):
            await asyncio.to_thread(
                carol.post,
                "/api/gifts/",
                json={"list": list_id, "title": f"big {n}", "notes": NOTES},
            )
        await asyncio.sleep(3)  # past the pings' interval and timeout

        def read_until_closed() -> int:
            while True:
                try:
                    stalled.message()
                except ClosedByServer as closed:
                    return closed.code

        # Reading lets the socket drain (and the sends that waited go on).
        assert await asyncio.to_thread(read_until_closed) == 1011
        stalled.close()
        await async_wait_until(
            lambda: (
                metric(server, "realtime_connections_open", transport="websocket") == 0
            ),
            timeout=BOUND,
        )
        log = server.log()
        # The refusal did come (the buffers held what was sent meanwhile) ...
        assert "The server closed this WebSocket itself" in log
        # ... and was taken for what it is: nothing sent after the close.
        assert "Unexpected ASGI message" not in log
        assert "Writing to a client failed" not in log
    finally:
        server.stop()
        drop_site(site)
