"""Abuse and lost access over real sockets against a real server: floods,
oversized, binary and deeply nested frames, too many connections per user,
cross-site handshakes; and sockets of a member who left, a deactivated user,
and a logged-out session stop receiving events within seconds."""

import asyncio
import contextlib
import re
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.e2e.api import DEMO_PASSWORDS, Api
from tests.e2e.servers import Server
from tests.e2e.wsclient import WsClient

from .clients import close_code
from .conftest import bob_list, drop_site, make_site

MAX_CONNECTIONS = 3

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_redis_url) -> Iterator[Server]:
    # On Redis even in the first pass: a user deactivated from another process
    # (a shell, the admin on another server) reaches the sockets through it.
    tmp_path = tmp_path_factory.mktemp("abuse")
    site = make_site(
        tmp_path, shared_redis_url, MAX_CONNECTIONS_PER_USER=MAX_CONNECTIONS
    )
    process = Server(site, tmp_path / "server.log", kind="uvicorn").start()
    yield process
    process.stop()
    drop_site(site)


async def closed_with(socket: WsClient, timeout: float = 10) -> int:
    """Read until the server closes; its close code."""
    try:
        while True:
            await socket.receive(timeout)
    except ConnectionClosed as closed:
        return close_code(closed)


async def test_abusive_frames_get_errors_and_a_flood_is_closed_4429(server):
    carol = Api.login(server.http_url, "carol")
    socket = await WsClient.open(server.ws_url, carol.token, max_size=None)
    await socket.welcome()
    await socket.connection.send("x" * (65 * 1024))
    assert (await socket.receive())["code"] == "message_too_large"
    await socket.connection.send(b"\x00\x01binary")
    assert (await socket.receive())["code"] == "invalid_json"
    await socket.connection.send("[" * 100_000 + "]" * 100_000)
    reply = await socket.receive()
    assert reply["code"] in {"invalid_json", "message_too_large"}
    await socket.connection.send('{"a":' * 5000 + "1" + "}" * 5000)
    assert (await socket.receive())["code"] == "invalid_json"
    await socket.send({"type": "ping", "id": 1})
    assert (await socket.receive())["type"] == "pong"  # still open and working
    with contextlib.suppress(ConnectionClosed):
        for n in range(400):
            await socket.send({"type": "ping", "id": n})
    assert await closed_with(socket) == 4429


async def test_connections_per_user_are_capped(server):
    bob = Api.login(server.http_url, "bob")
    sockets = []
    for _ in range(MAX_CONNECTIONS):
        socket = await WsClient.open(server.ws_url, bob.token)
        await socket.welcome()
        sockets.append(socket)
    extra = await WsClient.open(server.ws_url, bob.token)
    error = await extra.receive()
    assert error["type"] == "error" and error["code"] == "too_many_connections"
    assert await closed_with(extra) == 4429
    await sockets.pop().close()
    # A freed place is usable at once (the count is released on close).
    for _ in range(50):
        socket = await WsClient.open(server.ws_url, bob.token)
        message = await socket.receive()
        if message["type"] == "welcome":
            sockets.append(socket)
            break
        await closed_with(socket)
        await asyncio.sleep(0.05)
    else:
        pytest.fail("no connection was accepted after one closed")
    for socket in sockets:
        await socket.close()


@pytest.mark.parametrize(
    "origin",
    [
        "http://evil.example",
        "null",
        "http://localhost.evil.example",
        "http://127.0.0.2",
    ],
)
async def test_cross_site_handshake_is_refused(server, origin):
    carol = Api.login(server.http_url, "carol")
    with pytest.raises(InvalidStatus) as refused:
        await connect(
            f"{server.ws_url}?token={carol.token}",
            additional_headers={"Origin": origin},
        )
    assert refused.value.response.status_code == 403


async def test_member_who_leaves_the_family_stops_receiving(server):
    alice = Api.login(server.http_url, "alice")
    carol = Api.login(server.http_url, "carol")
    bob = Api.login(server.http_url, "bob")
    family = alice.results("/api/families/")[0]
    list_id = alice.list_id("Alice's birthday")
    topic = f"gift-list:{list_id}"
    # Carol stays a member and sees the change that bob, gone, must not.
    socket = await WsClient.open(server.ws_url, carol.token)
    await socket.welcome()
    await socket.subscribe(topic)
    bob_socket = await WsClient.open(server.ws_url, bob.token)
    bob_id = (await bob_socket.welcome())["user_id"]
    assert (await bob_socket.subscribe(topic))["topics"] == [topic]
    try:
        await asyncio.to_thread(
            bob.call,
            "DELETE",
            f"/api/families/{family['id']}/members/{bob_id}/",
            expect=204,
        )
        messages = await bob_socket.receive_until("error", timeout=10)
        assert messages[-1]["code"] == "forbidden"
        assert messages[-1]["topic"] == topic
        await asyncio.to_thread(
            alice.patch, f"/api/gift-lists/{list_id}/", json={"title": "Renamed"}
        )
        assert (await socket.events(1))[0]["data"]["payload"]["title"] == "Renamed"
        # Bob's socket is open and answers, and the change never reached it.
        await bob_socket.send({"type": "ping", "id": "after"})
        assert [m["type"] for m in await bob_socket.receive_until("pong")] == ["pong"]
    finally:
        await asyncio.to_thread(alice.invite_and_accept, family["id"], bob)
        await asyncio.to_thread(
            alice.patch,
            f"/api/gift-lists/{list_id}/",
            json={"title": "Alice's birthday"},
        )
    await socket.close()
    await bob_socket.close()


def session_client(server: Server, username: str) -> httpx.Client:
    """An HTTP client signed in through the login form (a session cookie)."""
    client = httpx.Client(base_url=server.http_url, timeout=30)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = client.post(
        "/accounts/login/",
        data={
            "username": username,
            "password": DEMO_PASSWORDS[username],
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{server.http_url}/accounts/login/"},
    )
    assert response.status_code == 302, response.text
    return client


async def test_logout_closes_that_sessions_sockets_but_not_token_sockets(server):
    browser = session_client(server, "bob")
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    by_session = WsClient(
        await connect(server.ws_url, additional_headers={"Cookie": cookie})
    )
    await by_session.welcome()
    bob = Api.login(server.http_url, "bob")
    by_token = await WsClient.open(server.ws_url, bob.token)
    await by_token.welcome()
    topic = f"gift-list:{bob_list(bob)}"
    await by_session.subscribe(topic)
    await by_token.subscribe(topic)

    csrf = browser.cookies["csrftoken"]
    response = await asyncio.to_thread(
        browser.post,
        "/accounts/logout/",
        headers={"X-CSRFToken": csrf, "Referer": f"{server.http_url}/"},
    )
    assert response.status_code == 302
    messages = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.append(await by_session.receive(10))
    assert close_code(closed.value) == 4401
    assert messages[-1]["code"] == "unauthenticated"
    # The token socket of the same user stays and still gets events.
    await asyncio.to_thread(
        bob.post, "/api/gifts/", json={"list": bob_list(bob), "title": "after"}
    )
    assert (await by_token.events(1))[0]["topic"] == topic
    await by_token.close()
    browser.close()


async def test_deactivated_user_is_closed_4401(server):
    alice = Api.login(server.http_url, "alice")
    topic = f"gift-list:{bob_list(alice)}"
    socket = await WsClient.open(server.ws_url, alice.token)
    await socket.welcome()
    await socket.subscribe(topic)
    await asyncio.to_thread(
        server.site.manage,
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "u = User.objects.get(username='alice'); u.is_active = False; u.save()",
    )
    try:
        messages = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                messages.append(await socket.receive(15))
        assert close_code(closed.value) == 4401
        assert messages[-1]["code"] == "unauthenticated"
    finally:
        await asyncio.to_thread(
            server.site.manage,
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "User.objects.filter(username='alice').update(is_active=True)",
        )
