"""The ASGI lifespan: a server process that stops gives back at once what
it held for the whole deployment (its users' places in the connection caps),
instead of leaving it to expire after ``CONNECTION_COUNT_TTL``.

With the in-memory layer (one process, nothing shared) the lifespan only
answers; with Redis (the second pass of ``make test``) it clears the counts.
"""

import asyncio

import pytest

from realtime.asgi import get_asgi_application
from realtime.auth.ledger import ledger
from realtime.hub.registry import registry

pytestmark = pytest.mark.django_db(transaction=True)


async def run_lifespan(*kinds: str) -> list[str]:
    """Send the application these lifespan messages; what it answered."""
    inbox: asyncio.Queue = asyncio.Queue()
    for kind in kinds:
        inbox.put_nowait({"type": kind})
    answers: list[str] = []

    async def send(message: dict) -> None:
        answers.append(message["type"])

    await asyncio.wait_for(
        get_asgi_application()({"type": "lifespan"}, inbox.get, send), 10
    )
    return answers


async def test_a_stopping_process_gives_back_its_users_places_at_once(
    make_user, connect
):
    ann = await make_user("ann")
    sockets = [await connect(ann), await connect(ann)]
    processes = registry()
    answers = await run_lifespan("lifespan.startup", "lifespan.shutdown")
    assert answers == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    if processes is not None:  # Redis: the deployment no longer counts them
        client = processes.client
        assert await client.zscore(processes.live_key, processes.process) is None
        assert await client.hget(ledger().mine, str(ann.pk)) is None
    for socket in sockets:
        await socket.close()
    if processes is not None:  # and closing them later writes nothing back
        await asyncio.sleep(0.1)
        assert await client.hget(ledger().mine, str(ann.pk)) is None
