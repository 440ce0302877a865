"""Redis stops while clients are connected and writes go on, then comes back
empty: writes succeed and their events stay in the log, and every client ends
up with every event, live or resumed; none is left silently deaf."""

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .clients import Resumer, SseResumer, close_code
from .conftest import async_wait_until, bob_list, drop_site, make_site, metric

CLIENTS = 3
WRITES_DURING_OUTAGE = 3

pytestmark = pytest.mark.timeout(180)


async def subscribe_outcome(server: Server, token: str, topic: str) -> str:
    """Try to subscribe; how it ended: never with a ``subscribed`` reply."""
    replies = []
    try:
        async with connect(f"{server.ws_url}?token={token}") as socket:
            while True:
                replies.append(json.loads(await socket.recv()))
                assert replies[-1]["type"] != "subscribed", replies
                if replies[-1]["type"] == "welcome":
                    await socket.send(
                        json.dumps({"type": "subscribe", "topics": [topic]})
                    )
    except InvalidStatus as refused:
        assert refused.response.status_code >= 500
        return "handshake refused"
    except ConnectionClosed as closed:
        return f"closed {close_code(closed)}"


@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_clients_get_every_event_across_a_redis_restart(
    layer, private_redis, tmp_path
):
    site = make_site(
        tmp_path,
        private_redis.url,
        layer,
        LAYER_CHECK_INTERVAL=0.5,
        LAYER_CHECK_TIMEOUT=2,
    )
    server = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    try:
        bob = Api.login(server.http_url, "bob")
        carol = Api.login(server.http_url, "carol")
        topic = f"gift-list:{bob_list(bob)}"
        list_id = bob_list(bob)
        clients = [
            Resumer([server.ws_url], carol.token, [topic]).start()
            for _ in range(CLIENTS)
        ]
        for client in clients:
            await asyncio.wait_for(client.ready.wait(), 30)
        start = clients[0].seqs[topic]

        # A write with Redis up arrives live.
        await asyncio.to_thread(
            bob.post, "/api/gifts/", json={"list": list_id, "title": "before"}
        )
        for client in clients:
            await async_wait_until(lambda c=client: c.seen(topic) == [start + 1])

        private_redis.stop()
        for n in range(WRITES_DURING_OUTAGE):
            await asyncio.to_thread(
                bob.post, "/api/gifts/", json={"list": list_id, "title": f"down {n}"}
            )
        # The writes are in the log: the polling endpoint reads them back.
        polled = await asyncio.to_thread(
            carol.get,
            "/api/realtime/events/",
            params={"topics": topic, "cursor": f"{topic}@{start + 1}"},
        )
        assert [e["seq"] for e in polled["events"]] == [
            start + 2 + n for n in range(WRITES_DURING_OUTAGE)
        ]
        assert metric(server, "realtime_events_dropped_total", reason="send_failed")

        # A subscription while Redis is down must not silently succeed.
        assert await subscribe_outcome(server, carol.token, topic) in {
            "handshake refused",  # the pub/sub layer subscribes the channel first
            "closed 1011",
        }

        private_redis.start()  # empty: every group membership is gone
        last = start + 1 + WRITES_DURING_OUTAGE
        for client in clients:
            await async_wait_until(
                lambda c=client: (
                    c.seen(topic)[-WRITES_DURING_OUTAGE:]
                    == list(range(start + 2, last + 1))
                )
            )
        # Live delivery works again for every client: nobody is deaf.
        await asyncio.to_thread(
            bob.post, "/api/gifts/", json={"list": list_id, "title": "after"}
        )
        for client in clients:
            await async_wait_until(lambda c=client: c.seen(topic)[-1:] == [last + 1])
            assert client.seen(topic) == list(range(start + 1, last + 2))
            assert set(client.closes) <= {1011}, client.closes
            assert client.closes, "the connection should have been closed"
        assert metric(server, "realtime_layer_checks_failed_total") >= 1
        for client in clients:
            await client.stop()
        async with httpx.AsyncClient() as http:
            ready = await http.get(f"{server.http_url}/readyz")
        assert ready.status_code == 200
    finally:
        server.stop()
        drop_site(site)


@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_sse_streams_get_every_event_across_a_redis_restart(
    layer, private_redis, tmp_path
):
    """An SSE stream shares the hub and its layer watch: after Redis comes back
    empty its stream ends and the EventSource resumes from Last-Event-ID,
    instead of staying open on groups that no longer exist."""
    site = make_site(
        tmp_path,
        private_redis.url,
        layer,
        LAYER_CHECK_INTERVAL=0.5,
        LAYER_CHECK_TIMEOUT=2,
    )
    server = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    streams: list[SseResumer] = []
    try:
        bob = Api.login(server.http_url, "bob")
        carol = Api.login(server.http_url, "carol")
        list_id = bob_list(bob)
        topic = f"gift-list:{list_id}"
        streams = [
            SseResumer(server.http_url, carol.token, [topic]).start()
            for _ in range(CLIENTS)
        ]
        for stream in streams:
            await asyncio.wait_for(stream.ready.wait(), 30)
        start = streams[0].replies[0]["seqs"][topic]

        await asyncio.to_thread(
            bob.post, "/api/gifts/", json={"list": list_id, "title": "before"}
        )
        for stream in streams:
            await async_wait_until(lambda s=stream: s.seen(topic) == [start + 1])

        private_redis.stop()
        for n in range(WRITES_DURING_OUTAGE):
            await asyncio.to_thread(
                bob.post, "/api/gifts/", json={"list": list_id, "title": f"down {n}"}
            )
        # Down until the process has noticed (the pub/sub layer would otherwise
        # resubscribe by itself, and the missed events wait for the next one).
        await async_wait_until(
            lambda: metric(server, "realtime_layer_checks_failed_total") >= 1
        )
        private_redis.start()  # empty: every group membership is gone
        last = start + 1 + WRITES_DURING_OUTAGE
        for stream in streams:
            await async_wait_until(
                lambda s=stream: (
                    s.seen(topic)[-WRITES_DURING_OUTAGE:]
                    == list(range(start + 2, last + 1))
                )
            )
        # Live delivery works again for every stream: nobody is deaf.
        await asyncio.to_thread(
            bob.post, "/api/gifts/", json={"list": list_id, "title": "after"}
        )
        for stream in streams:
            await async_wait_until(lambda s=stream: s.seen(topic)[-1:] == [last + 1])
            assert stream.seen(topic) == list(range(start + 1, last + 2))
            assert stream.opened > 1, "the stream should have been ended and resumed"
    finally:
        for stream in streams:
            await stream.stop()
        server.stop()
        drop_site(site)
