"""A client that stops reading: the server holds a bounded backlog for it, drops
it with close 4504 after ``SEND_TIMEOUT``, the other subscribers get every event
meanwhile, and on resume the slow one gets what it missed."""

import asyncio
import json
import os

import pytest
from websockets.asyncio.client import connect

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .clients import Resumer
from .conftest import async_wait_until, bob_list, drop_site, make_site, metric
from .rawws import ClosedByServer, RawSocket

SEND_TIMEOUT = 3
NOTES = "x" * 32_000  # big events fill the buffers in a few writes
MAX_WRITES = 400
CLOSE_SLOW_CONSUMER = 4504

pytestmark = pytest.mark.timeout(180)


async def test_a_client_that_stops_reading_is_dropped_and_resumes(tmp_path):
    site = make_site(
        tmp_path, os.environ.get("REDIS_URL") or None, SEND_TIMEOUT=SEND_TIMEOUT
    )
    server = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    try:
        bob = Api.login(server.http_url, "bob")
        carol = Api.login(server.http_url, "carol")
        list_id = bob_list(bob)
        topic = f"gift-list:{list_id}"
        others = [
            Resumer([server.ws_url], carol.token, [topic]).start() for _ in range(2)
        ]
        for other in others:
            await asyncio.wait_for(other.ready.wait(), 30)
        slow = RawSocket(server.port, f"/ws/?token={carol.token}")
        assert slow.message()["type"] == "welcome"
        slow.send_json({"type": "subscribe", "topics": [topic]})
        start = slow.message()["seqs"][topic]
        # From here the slow client reads nothing until the server gives up.

        written = 0
        while not metric(
            server, "realtime_connections_closed_total", reason="slow_consumer"
        ):
            assert written < MAX_WRITES, "the slow client was never dropped"
            await asyncio.to_thread(
                bob.post,
                "/api/gifts/",
                json={"list": list_id, "title": f"big {written}", "notes": NOTES},
            )
            written += 1
        # Its groups and count are freed at once.
        assert metric(server, "realtime_connections_open", transport="websocket") == 2

        backlog = []

        def read_until_closed() -> int:
            while True:
                try:
                    message = slow.message()
                except ClosedByServer as closed:
                    return closed.code
                if message["type"] == "event":  # presence comes along too
                    backlog.append(message["seq"])

        assert await asyncio.to_thread(read_until_closed) == CLOSE_SLOW_CONSUMER
        slow.close()
        # What the server held for it was bounded: far from every event.
        assert backlog == list(range(start + 1, start + 1 + len(backlog)))
        assert len(backlog) < written

        # Everyone else got every event while the slow one was stuck.
        expected = list(range(start + 1, start + written + 1))
        for other in others:
            await async_wait_until(lambda o=other: o.seen(topic) == expected)
            assert other.closes == []

        # On resume it gets what it missed.
        async with connect(f"{server.ws_url}?token={carol.token}") as again:
            assert json.loads(await again.recv())["type"] == "welcome"
            await again.send(
                json.dumps(
                    {
                        "type": "subscribe",
                        "topics": [topic],
                        "since": {topic: backlog[-1] if backlog else start},
                    }
                )
            )
            reply = json.loads(await again.recv())
            assert reply["recovered"] is True
            missed = []
            while len(missed) < written - len(backlog):
                message = json.loads(await asyncio.wait_for(again.recv(), 10))
                if message["type"] == "event":
                    missed.append(message["seq"])
        assert backlog + missed == expected
        for other in others:
            await other.stop()
    finally:
        server.stop()
        drop_site(site)
