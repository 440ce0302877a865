"""The SSE stream through the real ASGI application, read as a browser would."""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import HttpCommunicator
from django.contrib.auth import get_user_model
from django.test import Client as DjangoClient
from django.test import override_settings

from realtime.models import Event
from realtime.policies.registry import register_policy
from realtime.publishing.reauthorize import reauthorize_users
from realtime.testing import RECEIVE_TIMEOUT
from realtime.tests.conftest import RoomPolicy
from realtime.tests.project.asgi import application

from .conftest import event_of

pytestmark = pytest.mark.django_db(transaction=True)


class SseClient:
    """One SSE request on the ASGI app; reads whole messages off the body."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.communicator = HttpCommunicator(application, "GET", path, headers=headers)
        self.buffer = b""
        self.ended = False
        self.status = 0
        self.headers: dict[bytes, bytes] = {}

    @classmethod
    async def open(
        cls, path: str, token: str | None = None, **headers: str
    ) -> "SseClient":
        raw = [
            (k.replace("_", "-").lower().encode(), v.encode())
            for k, v in headers.items()
        ]
        if token is not None:
            raw.append((b"authorization", f"Token {token}".encode()))
        client = cls(path, raw)
        await client.communicator.send_input({"type": "http.request", "body": b""})
        start = await client.communicator.receive_output(RECEIVE_TIMEOUT)
        assert start["type"] == "http.response.start"
        client.status = start["status"]
        client.headers = dict(start.get("headers", []))
        return client

    async def json_body(self) -> dict[str, Any]:
        """The whole body of a non-stream answer, as JSON."""
        while not self.ended:
            await self._read()
        return json.loads(self.buffer)

    async def _read(self, timeout: float = RECEIVE_TIMEOUT) -> None:
        chunk = await self.communicator.receive_output(timeout)
        assert chunk["type"] == "http.response.body"
        self.buffer += chunk["body"]
        self.ended = not chunk.get("more_body", False)

    async def message(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next message as its fields; ``data`` parsed; comments as ``comment``."""
        while b"\n\n" not in self.buffer:
            if self.ended:
                raise EOFError("the stream ended")
            await self._read(timeout)
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        fields: dict[str, Any] = {}
        for line in block.decode().split("\n"):
            name, _, value = line.partition(": ")
            fields[name or "comment"] = value
        if "data" in fields:
            fields["data"] = json.loads(fields["data"])
        return fields

    async def message_of(self, kind: str) -> dict[str, Any]:
        """The next message that is not a comment; it must be of event ``kind``."""
        while "comment" in (found := await self.message()):
            pass
        assert found.get("event") == kind, found
        return found

    async def ends(self) -> bool:
        """Whether the server ends the response (after any messages left)."""
        while not self.ended:
            await self._read()
        return True

    async def nothing_before(
        self, barrier: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The next message that is not a comment, which must be the ``barrier``
        (asked of its ``data``); returns it. As ``SocketClient.nothing_before``:
        a later message shows that nothing came before it, a wait does not."""
        while "comment" in (found := await self.message()):
            pass
        is_barrier = barrier(found.get("data", {}))
        assert is_barrier, f"this came before the barrier: {found}"
        return found

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "http.disconnect"})
        await self.communicator.wait(RECEIVE_TIMEOUT)


@pytest.fixture
async def sse():
    clients: list[SseClient] = []

    async def _open(*args: Any, **kwargs: Any) -> SseClient:
        client = await SseClient.open(*args, **kwargs)
        clients.append(client)
        return client

    yield _open
    for client in clients:
        await client.disconnect()


# -- refusals -----------------------------------------------------------------


async def test_no_credentials_get_401_json_not_a_stream(sse):
    client = await sse("/realtime/sse/?topics=room:a")
    assert client.status == 401
    assert client.headers[b"content-type"] == b"application/json"
    assert (await client.json_body())["code"] == "unauthenticated"


async def test_bad_token_gets_401(sse):
    client = await sse("/realtime/sse/?topics=room:a", token="nope")
    assert client.status == 401
    assert (await client.json_body())["detail"] == "Invalid token."


@pytest.mark.parametrize(
    ("query", "status", "code", "topic"),
    [
        ("", 400, "missing_topics", None),
        ("topics=room:a,bad%20topic", 400, "invalid_topic", "bad topic"),
        ("topics=room:a,room:closed-1", 403, "forbidden", "room:closed-1"),
        ("topics=room:a&cursor=room:a@-1", 400, "invalid_cursor", None),
    ],
)
async def test_bad_requests_get_4xx_json_naming_the_problem(
    make_user, sse, query, status, code, topic
):
    user = await make_user("ann")
    client = await sse(f"/realtime/sse/?{query}", token=user.token)
    assert client.status == status
    body = await client.json_body()
    assert (body["code"], body.get("topic")) == (code, topic)


@override_settings(REALTIME={"MAX_TOPICS_PER_CONNECTION": 1})
async def test_too_many_topics_get_400(make_user, sse):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a,room:b", token=user.token)
    assert client.status == 400
    assert (await client.json_body())["code"] == "too_many_topics"


async def test_bad_last_event_id_gets_400(make_user, sse):
    user = await make_user("ann")
    client = await sse(
        "/realtime/sse/?topics=room:a", token=user.token, last_event_id="garbage"
    )
    assert client.status == 400


# -- the stream ---------------------------------------------------------------


async def test_stream_starts_with_retry_and_subscribed_and_stream_headers(
    make_user, sse, publish_now
):
    await publish_now("room:a")
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a,room:b", token=user.token)
    assert client.status == 200
    assert client.headers[b"content-type"].startswith(b"text/event-stream")
    assert client.headers[b"cache-control"] == b"no-cache"
    assert client.headers[b"x-accel-buffering"] == b"no"
    first = await client.message()
    assert first["retry"] == "3000"
    assert first["id"] == "room:a@1,room:b@0"
    assert first["event"] == "subscribed"
    assert first["data"] == {
        "type": "subscribed",
        "topics": ["room:a", "room:b"],
        "seqs": {"room:a": 1, "room:b": 0},
        "connection_id": first["data"]["connection_id"],  # for echoes
    }
    assert len(first["data"]["connection_id"]) == 32


async def test_live_events_carry_the_cursor_of_the_whole_stream(
    make_user, sse, publish_now
):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a,room:b", token=user.token)
    await client.message_of("subscribed")
    await publish_now("room:b", "ADDED", 7, title="hi")
    message = await client.message_of("ADDED")
    assert message["id"] == "room:a@0,room:b@1"
    assert message["data"]["topic"] == "room:b"
    assert message["data"]["data"]["payload"] == {"id": 7, "title": "hi"}


async def test_session_cookie_authenticates_the_stream(make_user, sse):
    user = await make_user("ann")
    http = DjangoClient()
    await sync_to_async(http.force_login)(user)
    cookie = f"sessionid={http.cookies['sessionid'].value}"
    client = await sse("/realtime/sse/?topics=room:a", cookie=cookie)
    assert client.status == 200


async def test_cursor_replays_the_missed_events_then_live(make_user, sse, publish_now):
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a&cursor=room:a@1", token=user.token)
    subscribed = await client.message_of("subscribed")
    assert subscribed["data"]["recovered"] is True
    assert subscribed["id"] == "room:a@1"  # not past what is still to come
    replayed = [await client.message_of("ADDED") for _ in range(2)]
    assert [m["data"]["seq"] for m in replayed] == [2, 3]
    assert [m["id"] for m in replayed] == ["room:a@2", "room:a@3"]
    await publish_now("room:a", "UPDATED", 4)
    assert (await client.message_of("UPDATED"))["data"]["seq"] == 4
    await publish_now("room:a", "UPDATED", 5)  # the live 4 came once
    await client.nothing_before(event_of("room:a", 5))


async def test_last_event_id_wins_over_the_cursor_parameter(
    make_user, sse, publish_now
):
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    user = await make_user("ann")
    client = await sse(
        "/realtime/sse/?topics=room:a&cursor=room:a@0",
        token=user.token,
        last_event_id="room:a@2",
    )
    await client.message_of("subscribed")
    assert (await client.message_of("ADDED"))["data"]["seq"] == 3
    await publish_now("room:a", "ADDED", 4)  # the replay ended before it
    await client.nothing_before(event_of("room:a", 4))


async def test_resume_past_pruned_events_says_not_recovered(
    make_user, sse, publish_now
):
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id)
    await sync_to_async(Event.objects.filter(topic="room:a", seq=2).delete)()
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a&cursor=room:a@1", token=user.token)
    subscribed = await client.message_of("subscribed")
    assert subscribed["data"]["recovered"] is False
    assert subscribed["data"]["unrecovered"] == ["room:a"]
    assert subscribed["id"] == "room:a@3"
    # Nothing half-replayed (the client refetches): the next is a live event.
    await publish_now("room:a", "ADDED", 4)
    assert (await client.nothing_before(event_of("room:a", 4)))["id"] == "room:a@4"


async def test_withheld_events_are_not_sent(make_user, sse, publish_now):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a", token=user.token)
    await client.message_of("subscribed")
    await publish_now("room:a", "SECRET", 1)
    await publish_now("room:a", "ADDED", 2)
    message = await client.message_of("ADDED")
    # The plain view numbers only what it shows: no gap where the SECRET was.
    assert (message["data"]["seq"], message["id"]) == (1, "room:a@1")


@override_settings(REALTIME={"SSE_KEEPALIVE": 0.05})
async def test_idle_stream_gets_keep_alive_comments(make_user, sse):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a", token=user.token)
    await client.message_of("subscribed")
    for _ in range(2):
        assert await client.message() == {"comment": "keep-alive"}


async def test_client_going_away_leaves_every_group_and_stops_the_keepalive(
    make_user, group_calls
):
    all_joined, all_left = group_calls
    user = await make_user("ann")
    client = await SseClient.open(
        "/realtime/sse/?topics=room:a,room:b", token=user.token
    )
    await client.message_of("subscribed")

    def streams(calls: list) -> list:  # not the layer watch's own check groups
        return sorted(call for call in calls if not call[0].startswith("rt-layer"))

    joined = streams(all_joined)
    # Two topics, the user's group, and the process's control group.
    assert {group for group, _ in joined} == {
        "rt.room.a",
        "rt.room.b",
        f"rt-user.{user.pk}",
        "rt-control",
    }
    assert keepalive_tasks()
    await client.disconnect()
    # The process's hub leaves what nobody here follows any more.
    async with asyncio.timeout(5):
        while streams(all_left) != joined:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert not keepalive_tasks()


def keepalive_tasks() -> list[asyncio.Task]:
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith("sse-keepalive") and not task.done()
    ]


# -- revocation and gaps --------------------------------------------------------


class ClosedRooms(RoomPolicy):
    """Rooms as before (same views), but room:a is closed to everyone."""

    def has_permission(self, user: Any, identifier: str) -> bool:
        return identifier != "a"


async def test_revoked_topic_gets_an_error_message_and_no_more_events(
    make_user, sse, publish_now
):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a,room:b", token=user.token)
    await client.message_of("subscribed")
    register_policy("room", ClosedRooms())  # the conftest fixture restores it
    await sync_to_async(lambda: _reauthorize(user.pk))()
    error = await client.message_of("error")
    assert error["data"]["code"] == "forbidden"
    assert error["data"]["topic"] == "room:a"
    assert error["id"] == "room:b@0"
    await publish_now("room:a")
    await publish_now("room:b")  # had room:a's event been sent, it came first
    await client.nothing_before(event_of("room:b", 1))


async def test_a_stream_whose_every_topic_is_revoked_ends(make_user, sse):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a", token=user.token)
    await client.message_of("subscribed")
    register_policy("room", ClosedRooms())  # the conftest fixture restores it
    await sync_to_async(lambda: _reauthorize(user.pk))()
    assert (await client.message_of("error"))["data"]["topic"] == "room:a"
    assert await client.ends()  # not left open with nothing to carry


def _reauthorize(user_id: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        reauthorize_users([user_id])


async def test_deactivated_user_gets_an_error_and_the_stream_ends(make_user, sse):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a", token=user.token)
    await client.message_of("subscribed")

    def deactivate() -> None:
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        _reauthorize(user.pk)

    await sync_to_async(deactivate)()
    assert (await client.message_of("error"))["data"]["code"] == "unauthenticated"
    assert await client.ends()


async def test_unrepairable_gap_ends_the_stream(
    make_user, sse, publish_now, monkeypatch
):
    user = await make_user("ann")
    client = await sse("/realtime/sse/?topics=room:a", token=user.token)
    await client.message_of("subscribed")
    layer = get_channel_layer()
    real_group_send = layer.group_send

    async def drop_first(group: str, message: dict) -> None:
        if message.get("views", {}).get("plain", {}).get("seq") != 1:
            await real_group_send(group, message)

    monkeypatch.setattr(layer, "group_send", drop_first)
    await publish_now("room:a", "ADDED", 1)  # lost in the layer...
    await sync_to_async(
        Event.objects.filter(topic="room:a", seq=1).delete
    )()  # all views
    await publish_now("room:a", "ADDED", 2)  # ...and gone from the log
    assert await client.ends()
    assert b"event: ADDED" not in client.buffer
