"""Caps on connections: per user across transports (WebSocket and SSE), and
on connections that have not signed in yet. Across processes they are counted
in Redis (``tests/faults/test_connection_caps.py`` proves that part)."""

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


@override_settings(REALTIME={"MAX_ANONYMOUS_CONNECTIONS": 2})
async def test_sockets_that_never_sign_in_are_capped_and_signing_in_frees_a_place(
    make_user,
):
    user = await make_user("ann")
    first, _ = await open_socket("/ws/")
    await open_socket("/ws/")
    third, _ = await open_socket("/ws/")
    assert (await third.expect("error"))["code"] == "too_many_connections"
    assert await third.closed_with() == codes.TOO_MANY_CONNECTIONS_CLOSE.code
    # A socket that signs in no longer counts as anonymous.
    await first.send({"type": "auth", "token": user.token})
    await first.expect("welcome")
    fourth, _ = await open_socket("/ws/")
    await fourth.send({"type": "ping", "id": 2})
    assert (await fourth.expect("pong"))["id"] == 2
    # Signed-in sockets never count against the anonymous cap.
    signed_in, _ = await open_socket(f"/ws/?token={user.token}")
    await signed_in.expect("welcome")
