"""The test helpers of ``realtime.testing``: what a test leaves running is
closed or named at teardown, never left for the event loop's shutdown to wait on;
a check that nothing arrived names what came before its barrier."""

import asyncio

import pytest

from realtime.testing import close_open_clients, stop_leftover_tasks

from .conftest import open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_refused_handshake_left_open_is_closed_by_close_open_clients():
    client, connected = await open_socket(
        "/ws/", headers=[(b"origin", b"http://evil.example")]
    )
    assert not connected
    # channels' denier keeps reading the channel layer until its client leaves.
    assert not client.communicator.future.done()
    await close_open_clients()
    assert client.communicator.future.done()


async def test_a_task_that_ignores_cancellation_is_named_instead_of_hanging():
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                pass

    task = asyncio.create_task(stubborn(), name="stubborn-task")
    await asyncio.sleep(0)
    with pytest.raises(AssertionError, match="stubborn-task"):
        await stop_leftover_tasks(timeout=0.2)
    release.set()
    await task


async def test_leftover_tasks_that_accept_cancellation_are_stopped():
    task = asyncio.create_task(asyncio.sleep(60))
    await stop_leftover_tasks(timeout=1)
    assert task.cancelled()


async def test_nothing_before_names_the_message_that_came_before_the_barrier(
    make_user, connect, publish_now
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    await publish_now("room:a", "ADDED", 1)
    await publish_now("room:a", "ADDED", 2)

    def second(message: dict) -> bool:
        return message.get("data", {}).get("entity_id") == "2"

    with pytest.raises(AssertionError, match=r"before the barrier: .*'entity_id': '1'"):
        await client.nothing_before(second)
    assert (await client.nothing_before(second))["seq"] == 2
