"""A user's connections are capped across server processes, and the places
of a process that dies are given back within ``CONNECTION_COUNT_TTL``."""

import pytest
from websockets.exceptions import ConnectionClosed

from tests.e2e.api import Api
from tests.e2e.servers import Server
from tests.e2e.wsclient import WsClient

from .clients import close_code
from .conftest import drop_site, make_site, wait_for_coroutine

pytestmark = pytest.mark.timeout(180)

CAP = 2
TTL = 2  # seconds; production keeps 30


async def outcome(server: Server, token: str) -> tuple[str, WsClient]:
    """Open a socket: "welcome", or "refused <close code>"."""
    socket = await WsClient.open(server.ws_url, token)
    message = await socket.receive()
    if message["type"] == "welcome":
        return "welcome", socket
    assert message["code"] == "too_many_connections", message
    try:
        while True:
            await socket.receive()
    except ConnectionClosed as closed:
        return f"refused {close_code(closed)}", socket


async def test_the_cap_holds_across_processes_and_a_dead_ones_places_return(
    shared_redis_url, tmp_path
):
    site = make_site(
        tmp_path,
        shared_redis_url,
        MAX_CONNECTIONS_PER_USER=CAP,
        CONNECTION_COUNT_TTL=TTL,
    )
    first = Server(site, tmp_path / "first.log", kind="uvicorn").start()
    second = Server(site, tmp_path / "second.log", kind="uvicorn").start()
    sockets = []
    try:
        carol = Api.login(first.http_url, "carol")
        for _ in range(CAP):
            result, socket = await outcome(first, carol.token)
            assert result == "welcome"
            sockets.append(socket)
        # The other process counts the first one's connections too.
        result, _ = await outcome(second, carol.token)
        assert result == "refused 4429"

        first.kill()  # its connections end without a word to anyone
        attempts = []

        async def admitted() -> bool:
            result, socket = await outcome(second, carol.token)
            attempts.append(result)
            sockets.append(socket)
            return result == "welcome"

        await wait_for_coroutine(admitted, timeout=TTL * 10)
        assert set(attempts[:-1]) <= {"refused 4429"}
    finally:
        for socket in sockets:
            await socket.close()
        first.stop()
        second.stop()
        drop_site(site)
