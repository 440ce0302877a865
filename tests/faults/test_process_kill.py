"""One of two server processes dies by SIGKILL: its clients reconnect to the
other and resume with nothing lost, and the survivor keeps delivering to its own
clients without an error while the dead process's group members linger."""

import asyncio

import pytest

from tests.e2e.api import Api
from tests.e2e.servers import Server

from .clients import Resumer
from .conftest import async_wait_until, bob_list, drop_site, make_site

BEFORE, AFTER = 4, 6

pytestmark = pytest.mark.timeout(180)


async def test_clients_of_a_killed_process_resume_on_the_other(
    shared_redis_url, tmp_path
):
    site = make_site(tmp_path, shared_redis_url, "core")
    doomed = Server(site, tmp_path / "doomed.log", kind="uvicorn").start()
    survivor = Server(site, tmp_path / "survivor.log", kind="uvicorn").start()
    try:
        bob = Api.login(survivor.http_url, "bob")
        carol = Api.login(survivor.http_url, "carol")
        list_id = bob_list(bob)
        topic = f"gift-list:{list_id}"
        # The doomed process's clients fall over to the survivor, as a load
        # balancer would send them.
        movers = [
            Resumer([doomed.ws_url, survivor.ws_url], carol.token, [topic]).start()
            for _ in range(2)
        ]
        stayers = [
            Resumer([survivor.ws_url], carol.token, [topic]).start() for _ in range(2)
        ]
        clients = movers + stayers
        for client in clients:
            await asyncio.wait_for(client.ready.wait(), 30)
        start = clients[0].seqs[topic]

        async def write(count: int, label: str) -> None:
            for n in range(count):
                await asyncio.to_thread(
                    bob.post,
                    "/api/gifts/",
                    json={"list": list_id, "title": f"{label} {n}"},
                )

        await write(BEFORE, "before")
        for client in clients:
            await async_wait_until(
                lambda c=client: len(c.seen(topic)) == BEFORE, timeout=30
            )
        doomed.kill()
        await write(AFTER, "after")
        expected = list(range(start + 1, start + BEFORE + AFTER + 1))
        for client in clients:
            await async_wait_until(lambda c=client: c.seen(topic) == expected)
        for mover in movers:
            assert mover.closes == [1006]  # the process vanished mid-stream
            assert mover.replies[-1]["recovered"] is True
        for stayer in stayers:
            assert stayer.closes == [] and stayer.errors == []
        for client in clients:
            await client.stop()
        # The dead process's channels are still in the topic's group: sends to
        # them go nowhere, and nothing on the survivor fails because of them.
        log = survivor.log()
        assert "Traceback" not in log and " ERROR " not in log, log[-3000:]
    finally:
        doomed.kill()
        survivor.stop()
        drop_site(site)
