"""Fixtures for the realtime app's tests: users, test topic policies, sockets.

The tests here know nothing of gift lists: they register their own resource
types (``room`` and ``private``) and publish with ``publish()`` directly.
"""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from realtime.policies.base import TopicPolicy
from realtime.policies.registry import register_policy, unregister_policy
from realtime.publishing.publisher import publish
from realtime.testing import SocketClient, empty_channel_layer
from realtime.tests.project.asgi import application


class RoomPolicy(TopicPolicy):
    """``room:<name>``: any signed-in user; only "vip" users see SECRET events."""

    allow_staff = True
    views = ("vip", "plain")
    client_events = ("typing", "plotting")

    def client_event_views(self, event: str, sender_view: Any) -> tuple[str, ...]:
        return ("vip",) if event == "plotting" else self.views

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

    allow_staff = True

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
    """Each test starts with an empty channel layer and leaves nothing behind."""
    async with empty_channel_layer():
        yield


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
) -> dict | None:
    """Publish and commit; returns the envelope as the last view that shows it
    logged it (for a room's ADDED, the "plain" view: most test users')."""
    with transaction.atomic():
        envelopes = publish(
            [topic],
            event,
            entity_type="message",
            entity_id=entity_id,
            payload={"id": entity_id, **payload},
        )
    return envelopes[-1] if envelopes else None


@pytest.fixture
def publish_now() -> Callable[..., Any]:
    """``await publish_now("room:a", "ADDED", 1, text="hi")``: publish and commit."""
    return sync_to_async(publish_now_sync)


def event_of(topic: str, entity_id: int) -> Callable[[dict], bool]:
    """A barrier for ``nothing_before``: the event of ``entity_id`` on ``topic``."""

    def matches(message: dict) -> bool:
        return (
            message.get("type") == "event"
            and message["topic"] == topic
            and message["data"]["entity_id"] == str(entity_id)
        )

    return matches


async def open_socket(
    path: str = "/ws/", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[SocketClient, bool]:
    client = await SocketClient.connect(application, path, headers)
    return client, client.connected


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Any]]:
    """``await connect(user)``: a socket signed in with the user's token, welcomed."""
    clients: list[SocketClient] = []

    async def _connect(
        user: Any = None, path: str | None = None, **kwargs: Any
    ) -> SocketClient:
        client, connected = await open_socket(
            path or (f"/ws/?token={user.token}" if user else "/ws/"), **kwargs
        )
        assert connected
        clients.append(client)
        if user is not None and path is None:
            client.welcome = await client.receive()  # its connection_id, for echoes
            assert client.welcome["type"] == "welcome"
        return client

    yield _connect
    for client in clients:
        await client.close()


@pytest.fixture
def group_calls(monkeypatch: Any) -> tuple[list, list]:
    """``joined, left = group_calls``: every ``(group, channel)`` the channel
    layer (in memory or Redis) is asked to add and to discard from now on."""
    layer = get_channel_layer()
    joined: list[tuple[str, str]] = []
    left: list[tuple[str, str]] = []
    real_add, real_discard = layer.group_add, layer.group_discard

    async def group_add(group: str, channel: str) -> None:
        joined.append((group, channel))
        await real_add(group, channel)

    async def group_discard(group: str, channel: str) -> None:
        left.append((group, channel))
        await real_discard(group, channel)

    monkeypatch.setattr(layer, "group_add", group_add)
    monkeypatch.setattr(layer, "group_discard", group_discard)
    return joined, left
