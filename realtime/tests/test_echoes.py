"""Echoes (PROTOCOL.md section 7): a change made by a request that names its
connection in ``X-Realtime-Connection`` arrives there marked ``"echo": true``,
and nowhere else; everything else about it is the same for everyone."""

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import RequestFactory

from realtime.ops.context import request_context
from realtime.protocol.events import validation_errors
from realtime.publishing.publisher import publish

from .test_sse import SseClient

pytestmark = pytest.mark.django_db(transaction=True)


def publish_from_request(headers: dict[str, str], entity_id: int = 1) -> None:
    """Publish as a view of a request with these headers would."""
    request = RequestFactory().post("/api/things/", headers=headers)
    with request_context(request, "trace-for-echo"), transaction.atomic():
        publish(
            ["room:a"],
            "ADDED",
            entity_type="message",
            entity_id=entity_id,
            payload={"id": entity_id},
        )


async def test_the_author_connection_gets_its_echo_and_only_it(make_user, connect):
    user = await make_user("ann")
    author, other_tab = await connect(user), await connect(user)
    await author.subscribe("room:a")
    await other_tab.subscribe("room:a")
    author_id = author.welcome["connection_id"]
    await sync_to_async(publish_from_request)({"X-Realtime-Connection": author_id})
    mine, theirs = await author.expect("event"), await other_tab.expect("event")
    assert mine["echo"] is True
    assert "echo" not in theirs
    assert {k: v for k, v in mine.items() if k != "echo"} == theirs  # same otherwise
    assert validation_errors(mine) == []  # the shipped schema knows the field


async def test_an_sse_stream_learns_its_id_and_gets_its_echo(make_user, connect):
    user = await make_user("ann")
    other = await connect(user)
    await other.subscribe("room:a")
    stream = await SseClient.open("/realtime/sse/?topics=room:a", token=user.token)
    subscribed = (await stream.message_of("subscribed"))["data"]
    stream_id = subscribed["connection_id"]
    assert stream_id != other.welcome["connection_id"]
    await sync_to_async(publish_from_request)({"X-Realtime-Connection": stream_id})
    mine = (await stream.message_of("ADDED"))["data"]
    assert mine["echo"] is True
    assert "echo" not in await other.expect("event")
    await stream.disconnect()


@pytest.mark.parametrize("header", ["", "not-a-connection", "0" * 31, "G" * 32])
async def test_a_header_that_names_no_connection_marks_nothing(
    make_user, connect, header
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    await sync_to_async(publish_from_request)({"X-Realtime-Connection": header})
    assert "echo" not in await client.expect("event")
