"""Client events (PROTOCOL.md section 7): a follower's short-lived event for
the topic's other followers, as the topic's policy allows, never logged."""

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from realtime.models import Event

from .conftest import event_of
from .test_sse import SseClient

pytestmark = pytest.mark.django_db(transaction=True)


def publish_message(topic="room:a", event="typing", data=None, **extra):
    return {"type": "publish", "topic": topic, "event": event, "data": data, **extra}


async def test_the_others_get_it_the_sender_does_not(make_user, connect, publish_now):
    sender, other, third = [await connect(await make_user(name)) for name in "abc"]
    for client in (sender, other, third):
        await client.subscribe("room:a")
    await sender.send(publish_message(data={"gift": 88}, id="t1"))
    assert (await sender.expect("published"))["id"] == "t1"
    for client in (other, third):
        got = await client.expect("client_event")
        assert got == {
            "type": "client_event",
            "topic": "room:a",
            "event": "typing",
            "data": {"gift": 88},
            "user_id": sender.welcome["user_id"],
        }
    # The sender's next message is a later event: its own client event did
    # not come back to it.
    await publish_now("room:a", "ADDED", 5)
    await sender.nothing_before(event_of("room:a", 5))


async def test_a_view_the_policy_keeps_it_from_does_not_get_it(make_user, connect):
    vip, plain = (
        await connect(await make_user("vip-v")),
        await connect(await make_user("pat")),
    )
    sender = await connect(await make_user("vip-w"))
    for client in (vip, plain, sender):
        await client.subscribe("room:a")
    await sender.send(publish_message(event="plotting"))
    await sender.expect("published")
    assert (await vip.expect("client_event"))["event"] == "plotting"
    # Sent after it through the same hub: the plain view's next message.
    await sender.send(publish_message(event="typing"))
    assert (await plain.expect("client_event"))["event"] == "typing"


@pytest.mark.parametrize(
    ("message", "code"),
    [
        (publish_message(topic="room:b"), "forbidden"),  # not subscribed
        (publish_message(event="gossip"), "forbidden"),  # not allowed there
        (publish_message(topic="private:1"), "forbidden"),
        (publish_message(event="Typing"), "invalid_message"),
        (publish_message(event=7), "invalid_message"),
        (publish_message(data=["not", "an", "object"]), "invalid_message"),
        (publish_message(topic="no topic"), "invalid_topic"),
        (publish_message(data={"text": "x" * 5000}), "message_too_large"),
    ],
)
async def test_a_refused_client_event_gets_its_error_and_reaches_nobody(
    make_user, connect, message, code
):
    sender, other = (
        await connect(await make_user("ann")),
        await connect(await make_user("bea")),
    )
    for client in (sender, other):
        await client.subscribe("room:a")
    await sender.send({**message, "id": 9})
    error = await sender.expect("error")
    assert (error["code"], error["id"]) == (code, 9)
    await sender.send(publish_message(data={"after": True}))
    assert (await other.expect("client_event"))["data"] == {"after": True}


@override_settings(
    REALTIME={"CLIENT_EVENTS_PER_SECOND": 0.001, "CLIENT_EVENTS_BURST": 2}
)
async def test_client_events_beyond_their_rate_are_refused(make_user, connect):
    sender = await connect(await make_user("ann"))
    await sender.subscribe("room:a")
    for _ in range(2):
        await sender.send(publish_message())
        await sender.expect("published")
    await sender.send(publish_message(id="third"))
    error = await sender.expect("error")
    assert (error["code"], error["id"]) == ("rate_limited", "third")


async def test_client_events_are_not_logged_nor_replayed(make_user, connect):
    sender, other = (
        await connect(await make_user("ann")),
        await connect(await make_user("bea")),
    )
    for client in (sender, other):
        await client.subscribe("room:a")
    await sender.send(publish_message())
    await sender.expect("published")
    await other.expect("client_event")
    assert await sync_to_async(Event.objects.count)() == 0
    late = await connect(await make_user("cid"))
    reply = await late.subscribe("room:a", since={"room:a": 0})
    assert (reply["recovered"], reply["seqs"]) == (True, {"room:a": 0})


async def test_an_sse_stream_gets_client_events(make_user, connect):
    user = await make_user("ann")
    stream = await SseClient.open("/realtime/sse/?topics=room:a", token=user.token)
    await stream.message_of("subscribed")
    sender = await connect(await make_user("bea"))
    await sender.subscribe("room:a")
    await sender.send(publish_message(data={"gift": 1}))
    got = await stream.message_of("client_event")
    assert got["data"]["data"] == {"gift": 1}
