"""Fixtures for the realtime app's tests: users, test topic policies, sockets.

The tests here know nothing of gift lists: they register their own resource
types (``room`` and ``private``) and publish with ``publish()`` directly.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from config.asgi import application
from realtime.broadcast import publish
from realtime.permissions import TopicPolicy, register_policy, unregister_policy

# How long a test waits for a message that should come; generous for slow CI.
RECEIVE_TIMEOUT = 5


class RoomPolicy(TopicPolicy):
    """``room:<name>``: any signed-in user; only "vip" users see SECRET events."""

    allow_staff = True

    def has_permission(self, user: Any, identifier: str) -> bool:
        return not identifier.startswith("closed")

    def view(self, user: Any, identifier: str) -> str:
        return "vip" if user.username.startswith("vip") else "plain"

    def present(self, event: dict[str, Any], view: Any) -> dict[str, Any] | None:
        if event["event"] == "SECRET" and view != "vip":
            return None
        return event


class PrivatePolicy(TopicPolicy):
    """``private:<user id>``: that user only (staff too)."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        return identifier == str(user.pk)


@pytest.fixture(autouse=True)
def test_policies() -> Any:
    register_policy("room", RoomPolicy())
    register_policy("private", PrivatePolicy())
    yield
    unregister_policy("room")
    unregister_policy("private")


@pytest.fixture(autouse=True)
async def fresh_channel_layer() -> AsyncIterator[None]:
    """Each test starts with an empty channel layer (in memory or Redis)."""
    layer = get_channel_layer()
    await layer.flush()
    yield
    await layer.flush()


def make_user_sync(username: str, **extra: Any) -> Any:
    user = get_user_model().objects.create_user(
        username, password="pw-" + username, **extra
    )
    user.token = Token.objects.create(user=user).key
    return user


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """``await make_user("ann", is_staff=True)``: a user with ``.token``."""
    return sync_to_async(make_user_sync)


def publish_now_sync(
    topic: str, event: str = "ADDED", entity_id: int = 1, **payload: Any
) -> dict:
    with transaction.atomic():
        return publish(
            [topic],
            event,
            entity_type="message",
            entity_id=entity_id,
            payload={"id": entity_id, **payload},
        )[0]


@pytest.fixture
def publish_now() -> Callable[..., Any]:
    """``await publish_now("room:a", "ADDED", 1, text="hi")``: publish and commit."""
    return sync_to_async(publish_now_sync)


class Client:
    """A test WebSocket client: the real ASGI app, JSON in and out."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator

    async def send(self, message: Any) -> None:
        await self.communicator.send_json_to(message)

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def receive_until(
        self, kind: str, timeout: float = RECEIVE_TIMEOUT
    ) -> list[dict]:
        """Messages up to and including the first of type ``kind``."""
        seen = []
        while True:
            message = await self.receive(timeout)
            seen.append(message)
            if message["type"] == kind:
                return seen

    async def assert_silent(self, timeout: float = 0.3) -> None:
        assert await self.communicator.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = RECEIVE_TIMEOUT) -> int:
        """Read until the server closes; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def subscribe(self, *topics: str, **extra: Any) -> dict[str, Any]:
        await self.send({"type": "subscribe", "topics": list(topics), **extra})
        return (await self.receive_until("subscribed"))[-1]

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_socket(
    path: str = "/ws/", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[Client, bool]:
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect()
    return Client(communicator), connected


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    """``await connect(user)``: a socket signed in with the user's token, welcomed."""
    clients: list[Client] = []

    async def _connect(
        user: Any = None, path: str | None = None, **kwargs: Any
    ) -> Client:
        client, connected = await open_socket(
            path or (f"/ws/?token={user.token}" if user else "/ws/"), **kwargs
        )
        assert connected
        clients.append(client)
        if user is not None and path is None:
            welcome = await client.receive()
            assert welcome["type"] == "welcome"
        return client

    yield _connect
    for client in clients:
        await client.close()
