"""The WebSocket consumer, driven through the real ASGI application.

Each test states in its name what a client observes.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import Client as HttpClient
from django.test import override_settings

from realtime.protocol import codes
from realtime.protocol.events import validation_errors

from .conftest import event_of, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


# -- authentication -----------------------------------------------------------


async def test_token_in_url_gets_welcome_with_connection_details(make_user, connect):
    user = await make_user("ann")
    client, connected = await open_socket(f"/ws/?token={user.token}")
    assert connected
    welcome = await client.receive()
    assert welcome["type"] == "welcome"
    assert welcome["user_id"] == str(user.pk)
    assert welcome["heartbeat_interval"] == 30
    assert isinstance(welcome["connection_id"], str) and welcome["connection_id"]
    await client.close()


async def test_bad_token_in_url_gets_unauthenticated_error_then_close_4401():
    client, connected = await open_socket("/ws/?token=not-a-token")
    assert connected  # accepted, so a browser can read the reason
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == "unauthenticated"
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


async def test_token_of_deactivated_user_is_refused(make_user):
    user = await make_user("gone", is_active=False)
    client, _ = await open_socket(f"/ws/?token={user.token}")
    assert (await client.receive())["code"] == "unauthenticated"
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


async def test_a_crowd_signing_in_at_once_gets_each_its_own_user(make_user):
    """Tokens of connections that open together are looked up together: each
    connection is still its own token's user, and bad ones are refused."""
    users = [await make_user(f"crowd{n}") for n in range(6)]
    gone = await make_user("crowd-gone", is_active=False)
    tokens = [user.token for user in users] + [gone.token, "not-a-token"]
    opened = await asyncio.gather(*(open_socket(f"/ws/?token={t}") for t in tokens))
    replies = [await client.receive() for client, _ in opened]
    for user, reply in zip(users, replies, strict=False):
        assert reply["type"] == "welcome" and reply["user_id"] == str(user.pk)
    assert [reply["code"] for reply in replies[len(users) :]] == [
        "unauthenticated",
        "unauthenticated",
    ]
    for client, _ in opened:
        await client.close()


async def test_first_message_auth_is_welcomed_and_echoes_id(make_user, connect):
    user = await make_user("ann")
    client = await connect()
    await client.send({"type": "auth", "token": user.token, "id": "a1"})
    welcome = await client.receive()
    assert welcome["type"] == "welcome" and welcome["id"] == "a1"
    assert welcome["user_id"] == str(user.pk)


async def test_bad_auth_message_gets_error_and_close_4401(connect):
    client = await connect()
    await client.send({"type": "auth", "token": "wrong", "id": 5})
    error = await client.receive()
    assert (error["code"], error["id"]) == ("unauthenticated", 5)
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


@override_settings(REALTIME={"AUTH_TIMEOUT": 0.2})
async def test_no_authentication_in_time_closes_4408(connect):
    client = await connect()
    assert await client.closed_with() == codes.AUTH_TIMEOUT.code


async def test_session_cookie_authenticates_the_socket(make_user):
    user = await make_user("ann")
    http = HttpClient()
    await sync_to_async(http.force_login)(user)
    cookie = f"sessionid={http.cookies['sessionid'].value}".encode()
    client, connected = await open_socket(headers=[(b"cookie", cookie)])
    assert connected
    welcome = await client.receive()
    assert welcome["type"] == "welcome" and welcome["user_id"] == str(user.pk)
    await client.close()


async def test_before_auth_only_ping_is_answered(connect):
    client = await connect()
    await client.send({"type": "subscribe", "topics": ["room:a"], "id": 1})
    error = await client.receive()
    assert (error["type"], error["code"], error["id"]) == (
        "error",
        "invalid_message",
        1,
    )
    await client.send({"type": "ping", "id": 2})
    assert (await client.receive())["type"] == "pong"


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example",
        b"null",
        b"http://localhost.evil.example",
        b"https://127.0.0.2",
    ],
)
async def test_handshake_from_foreign_origin_is_refused(make_user, origin):
    user = await make_user("ann")
    _, connected = await open_socket(
        f"/ws/?token={user.token}", headers=[(b"origin", origin)]
    )
    assert not connected


async def test_handshake_from_own_origin_or_without_origin_is_accepted(make_user):
    user = await make_user("ann")
    for headers in ([(b"origin", b"http://localhost:8000")], []):
        client, connected = await open_socket(
            f"/ws/?token={user.token}", headers=headers
        )
        assert connected
        assert (await client.receive())["type"] == "welcome"
        await client.close()


# -- message handling -----------------------------------------------------------


async def test_ping_gets_pong_with_id_and_server_time(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send({"type": "ping", "id": 41})
    pong = await client.receive()
    assert pong["type"] == "pong" and pong["id"] == 41
    assert pong["server_time"].endswith("Z")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('"text"', "invalid_json"),
        ("[" * 5000 + "]" * 5000, "invalid_json"),
        ('{"topics": []}', "invalid_message"),
        ('{"type": 7}', "invalid_message"),
        ('{"type": "subscribe"}', "invalid_message"),
        ('{"type": "subscribe", "topics": "room:a"}', "invalid_message"),
        ('{"type": "subscribe", "topics": [1]}', "invalid_message"),
        (
            '{"type": "subscribe", "topics": ["room:a"], "since": [1]}',
            "invalid_message",
        ),
        (
            '{"type": "subscribe", "topics": ["room:a"], "since": {"room:a": -1}}',
            "invalid_message",
        ),
        ('{"type": "ping", "id": {"x": 1}}', "invalid_message"),
        ('{"type": "ping", "id": true}', "invalid_message"),
        ('{"type": "auth"}', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
    ],
)
async def test_malformed_messages_get_their_error_code_and_the_socket_stays_open(
    make_user, connect, frame, code
):
    client = await connect(await make_user("ann"))
    await client.send_text(frame)
    error = await client.receive()
    assert error["type"] == "error" and error["code"] == code
    assert error["message"]
    await client.send({"type": "ping", "id": "still-open"})
    assert (await client.receive())["id"] == "still-open"


async def test_binary_frame_is_invalid_json(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive())["code"] == "invalid_json"


async def test_error_echoes_the_message_id(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send({"type": "dance", "id": "x9"})
    assert (await client.receive())["id"] == "x9"


@override_settings(REALTIME={"MAX_MESSAGE_BYTES": 1024})
async def test_oversized_frame_gets_message_too_large(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send({"type": "ping", "pad": "x" * 2000})
    assert (await client.receive())["code"] == "message_too_large"
    await client.send({"type": "ping"})
    assert (await client.receive())["type"] == "pong"


@override_settings(
    REALTIME={
        "RATE_LIMIT_PER_SECOND": 1,
        "RATE_LIMIT_BURST": 3,
        "RATE_LIMIT_CLOSE_AFTER": 5,
    }
)
async def test_flood_is_rate_limited_then_closed_4429(make_user, connect):
    client = await connect(await make_user("ann"))
    for _ in range(3):
        await client.send({"type": "ping"})
        assert (await client.receive())["type"] == "pong"
    await client.send({"type": "ping", "id": "late"})
    refused = await client.receive()
    # The refusal names its request, so the client settles it at once.
    assert (refused["code"], refused["id"]) == ("rate_limited", "late")
    for _ in range(10):
        await client.send({"type": "ping"})
    assert await client.closed_with() == codes.RATE_LIMITED_CLOSE.code


# -- subscriptions -----------------------------------------------------------------


async def test_subscribe_replies_with_accepted_topics_and_current_seqs(
    make_user, connect, publish_now
):
    await publish_now("room:a")
    await publish_now("room:a")
    client = await connect(await make_user("ann"))
    reply = await client.subscribe("room:a", "room:b", id=3)
    assert reply == {
        "type": "subscribed",
        "topics": ["room:a", "room:b"],
        "seqs": {"room:a": 2, "room:b": 0},
        "id": 3,
    }


async def test_invalid_and_forbidden_topics_get_one_error_each(make_user, connect):
    user = await make_user("ann")
    other = await make_user("bob")
    client = await connect(user)
    await client.send(
        {
            "type": "subscribe",
            "id": 8,
            "topics": [
                "room:ok",
                "Bad:topic",
                "room:",
                "room:closed-1",
                f"private:{other.pk}",
                f"private:{user.pk}",
                "nosuchtype:1",
            ],
        }
    )
    messages = await client.receive_until("subscribed")
    errors = {(m["code"], m["topic"]) for m in messages if m["type"] == "error"}
    assert errors == {
        ("invalid_topic", "Bad:topic"),
        ("invalid_topic", "room:"),
        ("forbidden", "room:closed-1"),
        ("forbidden", f"private:{other.pk}"),
        ("forbidden", "nosuchtype:1"),
    }
    assert all(m["id"] == 8 for m in messages)
    assert messages[-1]["topics"] == ["room:ok", f"private:{user.pk}"]


async def test_staff_may_follow_any_topic_of_a_known_type_only(make_user, connect):
    staff = await make_user("root", is_staff=True)
    other = await make_user("bob")
    client = await connect(staff)
    await client.send(
        {"type": "subscribe", "topics": [f"private:{other.pk}", "nosuchtype:1"]}
    )
    messages = await client.receive_until("subscribed")
    assert messages[-1]["topics"] == [f"private:{other.pk}"]
    assert [(m["code"], m["topic"]) for m in messages[:-1]] == [
        ("forbidden", "nosuchtype:1")
    ]


@override_settings(REALTIME={"MAX_TOPICS_PER_CONNECTION": 3})
async def test_topics_beyond_the_limit_get_too_many_topics(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:1", "room:2")
    await client.send({"type": "subscribe", "topics": ["room:2", "room:3", "room:4"]})
    messages = await client.receive_until("subscribed")
    assert [(m["code"], m["topic"]) for m in messages[:-1]] == [
        ("too_many_topics", "room:4")
    ]
    assert messages[-1]["topics"] == ["room:2", "room:3"]


async def test_events_arrive_in_order_and_match_the_schema(
    make_user, connect, publish_now
):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a")
    for entity_id in (1, 2, 3):
        await publish_now("room:a", "ADDED", entity_id, text=f"hello {entity_id}")
    events = [await client.receive() for _ in range(3)]
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["data"]["payload"]["text"] for e in events] == [
        "hello 1",
        "hello 2",
        "hello 3",
    ]
    for event in events:
        assert validation_errors(event) == []
        assert event["topic"] == "room:a" and event["event"] == "ADDED"


async def test_every_subscriber_gets_each_event_once(make_user, connect, publish_now):
    clients = [await connect(await make_user(f"u{n}")) for n in range(3)]
    for client in clients:
        await client.subscribe("room:a")
    await publish_now("room:a")
    await publish_now("room:a")
    for client in clients:
        assert [(await client.receive())["seq"] for _ in range(2)] == [1, 2]
    # A later event comes next: a second copy of either would have come first.
    await publish_now("room:a", "ADDED", 3)
    for client in clients:
        await client.nothing_before(event_of("room:a", 3))


async def test_events_are_filtered_per_recipient_view(make_user, connect, publish_now):
    plain = await connect(await make_user("ann"))
    vip = await connect(await make_user("vip-bob"))
    for client in (plain, vip):
        await client.subscribe("room:a")
    await publish_now("room:a", "SECRET", 1)
    await publish_now("room:a", "ADDED", 2)
    shown = [await vip.receive() for _ in range(2)]
    assert [(e["event"], e["seq"]) for e in shown] == [("SECRET", 1), ("ADDED", 2)]
    # The plain view numbers only what it shows: no gap where the SECRET was.
    only = await plain.receive()
    assert (only["event"], only["seq"]) == ("ADDED", 1)
    await publish_now("room:a", "ADDED", 3)  # anything withheld came before it
    assert (await plain.nothing_before(event_of("room:a", 3)))["seq"] == 2


async def test_unsubscribe_stops_the_topics_events(make_user, connect, publish_now):
    client = await connect(await make_user("ann"))
    await client.subscribe("room:a", "room:b")
    await client.send({"type": "unsubscribe", "topics": ["room:a", "room:x"], "id": 4})
    reply = await client.receive()
    assert reply == {"type": "unsubscribed", "topics": ["room:a", "room:x"], "id": 4}
    await publish_now("room:a")
    await publish_now("room:b")  # had room:a's event been sent, it came first
    await client.nothing_before(event_of("room:b", 1))


async def test_unsubscribe_with_invalid_topic_gets_invalid_topic(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send({"type": "unsubscribe", "topics": ["no good"]})
    messages = await client.receive_until("unsubscribed")
    assert messages[0]["code"] == "invalid_topic"
    assert messages[-1]["topics"] == []


async def test_deactivated_user_is_disconnected_when_reauthorized(
    make_user, connect, publish_now
):
    from realtime.publishing.reauthorize import reauthorize_users

    user = await make_user("ann")
    client = await connect(user)
    await client.subscribe("room:a")

    def deactivate():
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        reauthorize_users([user.pk])

    await sync_to_async(deactivate)()
    assert (await client.receive())["code"] == "unauthenticated"
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code
