"""Bad input gets a bounded, defined answer on every transport: long ids and
topic lists, deep JSON, lone surrogates, non-ASCII digits in cursors, NULs in
credentials."""

import json
from urllib.parse import quote

import pytest
from channels.testing import HttpCommunicator
from django.test import override_settings
from rest_framework.test import APIClient

from realtime.protocol import codes
from realtime.tests.project.asgi import application

from .conftest import make_user_sync, open_socket

pytestmark = pytest.mark.django_db(transaction=True)

POLL = "/api/realtime/events/"


async def replies_until_pong(client) -> list[str]:
    """Every frame's text up to and including the pong of a ping sent now."""
    await client.send({"type": "ping", "id": "last"})
    texts = []
    while True:
        output = await client.communicator.receive_output(5)
        assert output["type"] == "websocket.send", output
        texts.append(output["text"])
        if json.loads(output["text"])["type"] == "pong":
            return texts


# -- what a reply may echo ------------------------------------------------------


async def test_a_huge_id_gets_one_error_that_does_not_echo_it(make_user, connect):
    client = await connect(await make_user("ann"))
    frame = json.dumps(
        {
            "type": "subscribe",
            "id": "i" * 60_000,
            "topics": [f"bad topic {n}" for n in range(200)],
        }
    )
    assert 60_000 < len(frame) < 64 * 1024  # within the frame limit

    await client.send_text(frame)
    texts = await replies_until_pong(client)

    error, pong = (json.loads(text) for text in texts)
    assert error["code"] == codes.INVALID_MESSAGE and "id" not in error
    assert "128" in error["message"]
    assert pong["id"] == "last"
    assert sum(len(text) for text in texts) < 1000


async def test_an_id_at_the_limit_is_echoed(make_user, connect):
    client = await connect(await make_user("ann"))
    for message_id in ("i" * 128, int("9" * 128)):
        await client.send({"type": "ping", "id": message_id})
        assert (await client.expect("pong"))["id"] == message_id
    await client.send({"type": "ping", "id": int("9" * 129)})
    error = await client.expect("error")
    assert error["code"] == codes.INVALID_MESSAGE and "id" not in error


async def test_a_topic_list_over_the_limit_gets_one_error(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send(
        {"type": "subscribe", "id": 7, "topics": [f"bad {n}" for n in range(201)]}
    )
    texts = await replies_until_pong(client)
    assert len(texts) == 2
    error = json.loads(texts[0])
    assert (error["code"], error["id"]) == (codes.TOO_MANY_TOPICS, 7)
    assert "200" in error["message"]
    await client.send({"type": "unsubscribe", "topics": ["room:a"] * 201})
    assert (await client.expect("error"))["code"] == codes.TOO_MANY_TOPICS


@override_settings(REALTIME={"MAX_TOPICS_PER_CONNECTION": 2})
async def test_the_topic_list_limit_follows_the_connection_limit(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send({"type": "subscribe", "topics": ["room:a", "x", "y", "z"]})
    replies = await client.receive_until("subscribed")
    assert [reply.get("code") for reply in replies[:-1]] == ["invalid_topic"] * 3
    await client.send({"type": "subscribe", "topics": ["a", "b", "c", "d", "e"]})
    assert (await client.expect("error"))["code"] == codes.TOO_MANY_TOPICS


async def test_the_largest_subscribe_gets_a_bounded_answer(make_user, connect):
    """200 bad topics of 300 characters and a 128-character id: every error
    echoes both, cut to size, and the whole answer stays near the frame's."""
    client = await connect(await make_user("ann"))
    frame = json.dumps(
        {
            "type": "subscribe",
            "id": "i" * 128,
            "topics": [f"{n:03d} " + "x" * 296 for n in range(200)],
        }
    )
    await client.send_text(frame)
    texts = await replies_until_pong(client)
    assert len(texts) == 202  # 200 errors, subscribed, pong
    assert sum(len(text) for text in texts) < 2 * len(frame)


# -- JSON the server will not take ---------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "ping", "x": ' + "[" * 32 + "]" * 32 + "}",  # 33 levels
        "[" * 1000 + "]" * 1000,
        '{"a":' * 1000 + "1" + "}" * 1000,
    ],
)
async def test_json_nested_too_deep_is_invalid_json(make_user, connect, frame):
    client = await connect(await make_user("ann"))
    await client.send_text(frame)
    error = await client.expect("error")
    assert error["code"] == codes.INVALID_JSON
    assert "deeper than 32" in error["message"]
    await client.send({"type": "ping", "id": 1})
    assert (await client.expect("pong"))["id"] == 1


async def test_json_at_the_depth_limit_is_read(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send_text(
        '{"type": "ping", "id": 2, "x": ' + "[" * 31 + "]" * 31 + "}"
    )
    assert (await client.expect("pong"))["id"] == 2


@pytest.mark.parametrize(
    "frame",
    [
        r'{"type": "subscribe", "id": "\ud800", "topics": ["a"]}',
        r'{"type": "subscribe", "topics": ["\udfff bad"]}',
        r'{"type": "ping", "\ud83c": 1}',
        r'{"type": "\udc00"}',
    ],
)
async def test_a_lone_surrogate_is_invalid_json_and_never_echoed(
    make_user, connect, frame
):
    client = await connect(await make_user("ann"))
    await client.send_text(frame)
    texts = await replies_until_pong(client)
    assert len(texts) == 2
    error = json.loads(texts[0])
    assert error["code"] == codes.INVALID_JSON and "surrogate" in error["message"]
    assert "id" not in error and "topic" not in error
    for text in texts:
        text.encode("utf-8")  # every frame is text a server can send


async def test_a_surrogate_pair_is_text_and_is_echoed(make_user, connect):
    client = await connect(await make_user("ann"))
    await client.send_text(r'{"type": "ping", "id": "gift \ud83c\udf81"}')
    assert (await client.expect("pong"))["id"] == "gift \U0001f381"


@pytest.mark.parametrize("path", [POLL, "/api/realtime/ticket/"])
@pytest.mark.parametrize(
    ("body", "reason"),
    [("[" * 1000 + "]" * 1000, "deeper than 32"), (r'{"a": "\ud800"}', "surrogate")],
)
def test_json_bodies_the_realtime_api_refuses_are_a_400(path, body, reason):
    """With a session, DRF's CSRF check reads a POST's body before any view
    code runs: deep JSON there was a 500 (RecursionError)."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(make_user_sync("ann"))
    client.cookies["csrftoken"] = "c" * 32
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert reason in response.json()["detail"]


# -- digits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "seq",
    [
        "\N{SUPERSCRIPT TWO}",
        "\N{ARABIC-INDIC DIGIT THREE}",
        "3\N{ARABIC-INDIC DIGIT THREE}",
        "\N{FULLWIDTH DIGIT ONE}",
        "\N{SUPERSCRIPT THREE}",
    ],
)
def test_a_cursor_with_non_ascii_digits_is_a_400_on_polling(seq):
    user = make_user_sync("ann")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
    response = client.get(POLL, {"topics": "room:a", "cursor": f"room:a@{seq}"})
    assert response.status_code == 400
    assert response.json()["code"] == codes.INVALID_CURSOR


async def sse_answer(path: str, *headers: tuple[bytes, bytes]) -> tuple[int, dict]:
    communicator = HttpCommunicator(application, "GET", path, headers=list(headers))
    response = await communicator.get_response(timeout=5)
    await communicator.wait(5)
    return response["status"], json.loads(response["body"])


@pytest.mark.parametrize(
    "seq",
    ["\N{SUPERSCRIPT TWO}", "\N{ARABIC-INDIC DIGIT THREE}", "\N{FULLWIDTH DIGIT ONE}"],
)
async def test_a_cursor_with_non_ascii_digits_is_a_400_on_sse(make_user, seq):
    user = await make_user("ann")
    token = (b"authorization", f"Token {user.token}".encode())
    status, body = await sse_answer(
        f"/realtime/sse/?topics=room:a&cursor={quote('room:a@' + seq)}", token
    )
    assert (status, body["code"]) == (400, codes.INVALID_CURSOR)


@pytest.mark.parametrize("seq", ["\N{SUPERSCRIPT TWO}", "\N{SUPERSCRIPT ONE}"])
async def test_a_last_event_id_with_non_ascii_digits_is_a_400(make_user, seq):
    """Header bytes are read as Latin-1, where these digits live."""
    user = await make_user("ann")
    status, body = await sse_answer(
        "/realtime/sse/?topics=room:a",
        (b"authorization", f"Token {user.token}".encode()),
        (b"last-event-id", f"room:a@{seq}".encode("latin-1")),
    )
    assert (status, body["code"]) == (400, codes.INVALID_CURSOR)


# -- NUL in credentials -----------------------------------------------------------
# PostgreSQL refuses text holding a NUL: a lookup of such a token or session
# key raised instead of finding nothing (1011 and a traceback on the socket).


async def test_a_token_holding_a_nul_is_refused_as_bad_credentials(make_user):
    await make_user("ann")
    client, connected = await open_socket("/ws/?token=%00")
    assert connected
    assert (await client.expect("error"))["code"] == codes.UNAUTHENTICATED
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


async def test_an_auth_message_with_a_nul_is_refused_as_bad_credentials(make_user):
    user = await make_user("ann")
    client, connected = await open_socket("/ws/")
    assert connected
    await client.send({"type": "auth", "token": user.token + "\x00"})
    assert (await client.expect("error"))["code"] == codes.UNAUTHENTICATED
    assert await client.closed_with() == codes.UNAUTHENTICATED_CLOSE.code


async def test_a_token_header_with_a_nul_is_a_401_on_sse(make_user):
    await make_user("ann")
    status, body = await sse_answer(
        "/realtime/sse/?topics=room:a", (b"authorization", b"Token a\x00b")
    )
    assert (status, body["code"]) == (401, codes.UNAUTHENTICATED)


def test_a_token_header_with_a_nul_is_a_401_on_polling():
    make_user_sync("ann")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token a\x00b")
    response = client.get(POLL, {"topics": "room:a"})
    assert (response.status_code, response.json()["code"]) == (
        401,
        codes.UNAUTHENTICATED,
    )


# A quoted cookie spells any byte in octal: Django reads this key as "abcdefgh\0".
NUL_SESSION = (b"cookie", b'sessionid="abcdefgh\\000"')


async def test_a_session_cookie_holding_a_nul_is_no_session_on_the_socket():
    client, connected = await open_socket("/ws/", [NUL_SESSION])
    assert connected  # not signed in: it may still send an auth message
    await client.send({"type": "ping", "id": 1})
    assert (await client.expect("pong"))["id"] == 1


async def test_a_session_cookie_holding_a_nul_is_no_session_on_sse():
    status, body = await sse_answer("/realtime/sse/?topics=room:a", NUL_SESSION)
    assert (status, body["code"]) == (401, codes.UNAUTHENTICATED)
