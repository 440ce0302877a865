"""Two server processes sharing the real Redis: every subscriber on either
process gets every event of its topic once, in seq order, with no gap, while
writers on both processes change the same topic concurrently."""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from .api import Api
from .servers import Server
from .wsclient import WsClient

WRITERS_PER_SERVER = 3
GIFTS_PER_WRITER = 8


@pytest.fixture(scope="module")
def two_servers(redis_site, tmp_path_factory) -> Iterator[list[Server]]:
    logs = tmp_path_factory.mktemp("logs")
    servers = [Server(redis_site, logs / f"daphne-{n}.log").start() for n in range(2)]
    yield servers
    for server in servers:
        server.stop()


def write_gifts(base_url: str, token: str, list_id: int, writer: int) -> list[int]:
    api = Api(base_url, token)
    return [
        api.post("/api/gifts/", json={"list": list_id, "title": f"w{writer}-{n}"})["id"]
        for n in range(GIFTS_PER_WRITER)
    ]


async def test_concurrent_writers_on_two_processes_give_gapless_ordered_delivery(
    two_servers,
):
    first, second = two_servers
    bob = Api.login(first.http_url, "bob")
    carol = Api.login(second.http_url, "carol")
    list_id = bob.list_id("Bob's holidays")
    topic = f"gift-list:{list_id}"
    # Subscribers on both processes; carol is not the owner and sees everything.
    sockets = []
    for server in (first, second, first, second):
        socket = await WsClient.open(server.ws_url, carol.token)
        await socket.welcome()
        sockets.append(socket)
    start = None
    for socket in sockets:
        reply = await socket.subscribe(topic)
        start = reply["seqs"][topic] if start is None else start
        assert reply["seqs"][topic] == start

    jobs = []
    with ThreadPoolExecutor(max_workers=2 * WRITERS_PER_SERVER) as pool:
        for writer in range(2 * WRITERS_PER_SERVER):
            server = two_servers[writer % 2]
            jobs.append(
                pool.submit(write_gifts, server.http_url, bob.token, list_id, writer)
            )
        created = await asyncio.get_running_loop().run_in_executor(
            None, lambda: sorted(gift for job in jobs for gift in job.result())
        )
    total = 2 * WRITERS_PER_SERVER * GIFTS_PER_WRITER
    assert len(created) == total

    for socket in sockets:
        events = await socket.events(total, timeout=20)
        assert [e["seq"] for e in events] == list(range(start + 1, start + total + 1))
        assert sorted(int(e["data"]["entity_id"]) for e in events) == created
        assert {e["event"] for e in events} == {"ADDED"}
        await socket.close()
