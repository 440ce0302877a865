"""The SSE stream's own promises over a real socket: reconnecting with
``Last-Event-ID`` loses and repeats nothing, idle streams get keep-alive
comments, and a client that goes away leaves no group membership behind."""

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis

from tests.e2e.api import Api
from tests.e2e.conftest import require_redis
from tests.e2e.servers import Server, prepared_site

from .test_contract import add_gift, unique
from .transports import SseTransport

GIFTS = 12


async def test_reconnecting_with_last_event_id_loses_and_repeats_nothing(
    server, users, demo
):
    bob, topic = users["bob"], demo["bob_list"]
    transport = SseTransport(server.http_url)
    session = await transport.open(bob.token, [topic])
    titles = [unique(f"Gift {n}") for n in range(GIFTS)]

    async def write() -> None:
        for title in titles:
            await add_gift(bob, topic, title)

    writer = asyncio.create_task(write())
    received = []
    while len(received) < GIFTS:
        # Drop the connection every three events, mid-stream, while the writer
        # goes on; reconnect from the last id seen, as EventSource does.
        for _ in range(min(3, GIFTS - len(received))):
            received.append(await session.next_event(10))
        await session.close()
        session = await transport.open(bob.token, [topic], session.cursor)
        assert session.opened.recovered is True
    await writer
    await session.close()
    assert [e["data"]["payload"]["title"] for e in received] == titles
    seqs = [e["seq"] for e in received]
    assert seqs == list(range(seqs[0], seqs[0] + GIFTS))


async def test_idle_stream_gets_keep_alive_comments(server, users, demo):
    session = await SseTransport(server.http_url).open(
        users["bob"].token, [demo["bob_list"]]
    )
    # The contract server sends one every half second (conftest).
    await session.wait_for_comments(2, timeout=10)
    await session.close()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[Server]:
    """A server on the real Redis, whose group memberships the test can read."""
    url = require_redis()
    with prepared_site(tmp_path_factory.mktemp("sse-redis"), url) as site:
        server = Server(site, tmp_path_factory.mktemp("logs") / "daphne.log").start()
        yield server
        server.stop()


def members(server: Server, group: str) -> int:
    with redis.Redis.from_url(server.site.redis) as client:
        return client.zcard(f"{server.site.prefix}:group:{group}")


def user_groups(server: Server) -> list[bytes]:
    with redis.Redis.from_url(server.site.redis) as client:
        return client.keys(f"{server.site.prefix}:group:rt-user.*")


async def wait_until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_client_going_away_leaves_every_group(redis_server):
    bob = Api.login(redis_server.http_url, "bob")
    list_id = bob.list_id("Bob's holidays")
    family_id = bob.results("/api/families/")[0]["id"]
    groups = [f"rt.gift-list.{list_id}", f"rt.family.{family_id}"]
    session = await SseTransport(redis_server.http_url).open(
        bob.token, [f"gift-list:{list_id}", f"family:{family_id}"]
    )
    assert [members(redis_server, group) for group in groups] == [1, 1]
    assert len(user_groups(redis_server)) == 1
    await session.close()
    await wait_until(lambda: all(members(redis_server, g) == 0 for g in groups))
    await wait_until(lambda: user_groups(redis_server) == [])
