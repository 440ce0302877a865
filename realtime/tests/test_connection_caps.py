"""Caps on connections: per user across transports (WebSocket and SSE), and
on connections that have not signed in yet. Across processes they are counted
in Redis (``tests/faults/test_connection_caps.py`` proves that part)."""

import asyncio
from typing import Any

import pytest
from django.test import override_settings

from realtime.protocol import codes

from .conftest import open_socket
from .test_sse import SseClient

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(REALTIME={"MAX_CONNECTIONS_PER_USER": 2})
async def test_a_users_sockets_and_streams_share_one_cap(make_user, connect):
    user = await make_user("ann")
    socket = await connect(user)
    stream = await SseClient.open("/realtime/sse/?topics=room:a", token=user.token)
    await stream.message_of("subscribed")
    # A third connection, whichever transport, is refused.
    extra, _ = await open_socket(f"/ws/?token={user.token}")
    assert (await extra.expect("error"))["code"] == "too_many_connections"
    assert await extra.closed_with() == codes.TOO_MANY_CONNECTIONS_CLOSE.code
    refused = await SseClient.open("/realtime/sse/?topics=room:a", token=user.token)
    assert refused.status == 429
    assert (await refused.json_body())["code"] == "too_many_connections"
    # Another user is not affected, and a closed socket frees its place.
    await connect(await make_user("bea"))
    await socket.close()
    again = await connect(user)
    await again.send({"type": "ping", "id": 1})
    assert (await again.expect("pong"))["id"] == 1


@override_settings(REALTIME={"MAX_CONNECTIONS_PER_USER": 3})
async def test_a_crowd_of_one_users_sockets_at_once_gets_exactly_the_cap(make_user):
    """Sockets that open together are counted together (in Redis, one
    script for all of them): the cap still admits exactly its number."""
    ann, bea = await make_user("ann"), await make_user("bea")
    paths = [f"/ws/?token={ann.token}"] * 7 + [f"/ws/?token={bea.token}"] * 2
    opened = await asyncio.gather(*(open_socket(path) for path in paths))
    answers = [(await client.receive())["type"] for client, _ in opened]
    assert answers[:7].count("welcome") == 3  # ann: the cap
    assert answers[:7].count("error") == 4
    assert answers[7:] == ["welcome", "welcome"]  # bea: a count of her own
    # Closed together, they are counted out together: every place is free.
    await asyncio.gather(*(client.close() for client, _ in opened))
    again = [await open_socket(f"/ws/?token={ann.token}") for _ in range(3)]
    for client, _ in again:
        assert (await client.receive())["type"] == "welcome"
        await client.close()


@override_settings(REALTIME={"MAX_ANONYMOUS_CONNECTIONS": 2})
async def test_sockets_that_never_sign_in_are_capped_and_signing_in_frees_a_place(
    make_user,
):
    user = await make_user("ann")

    async def counted(path: str = "/ws/") -> Any:
        """A socket, once its place is counted: a ping is answered only after
        the connection's handshake (and its count) is done."""
        client, _ = await open_socket(path)
        await client.send({"type": "ping", "id": "counted"})
        return client

    first = await counted()
    await first.expect("pong")
    await (await counted()).expect("pong")
    third = await counted()
    assert (await third.expect("error"))["code"] == "too_many_connections"
    assert await third.closed_with() == codes.TOO_MANY_CONNECTIONS_CLOSE.code
    # A socket that signs in no longer counts as anonymous.
    await first.send({"type": "auth", "token": user.token})
    await first.expect("welcome")
    fourth = await counted()
    assert (await fourth.expect("pong"))["id"] == "counted"
    # Signed-in sockets never count against the anonymous cap.
    signed_in, _ = await open_socket(f"/ws/?token={user.token}")
    await signed_in.expect("welcome")
