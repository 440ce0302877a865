"""Credentials that end under open connections end those connections: a
logout, a token deleted or rotated, a password changed, and the tickets
issued on them. What each test proves is in its name."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.signals import user_logged_out
from django.test import Client as HttpClient
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from realtime.protocol import codes

from .conftest import open_socket
from .test_sse import SseClient

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in_browser(user):
    """A browser's session cookie for the user (sync)."""
    http = HttpClient()
    http.force_login(user)
    return http.cookies["sessionid"].value


def ticket_for(**auth):
    """A ticket asked for with a session cookie or a token (sync)."""
    client = APIClient()
    if "session" in auth:
        client.cookies["sessionid"] = auth["session"]
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {auth['token']}")
    response = client.post("/api/realtime/ticket/")
    assert response.status_code == 201, response.content
    return response.json()["ticket"]


def log_out(user, session_key):
    """What Django's logout view signals (before it deletes the session)."""
    request = RequestFactory().post("/accounts/logout/")
    request.session = type("Session", (), {"session_key": session_key})()
    user_logged_out.send(sender=type(user), request=request, user=user)


async def welcomed(path: str, **kwargs):
    client, connected = await open_socket(path, **kwargs)
    assert connected
    await client.expect("welcome")
    return client


async def assert_still_open(client) -> None:
    await client.send({"type": "ping", "id": "still"})
    assert (await client.expect("pong"))["id"] == "still"


async def assert_ended(client) -> None:
    error = await client.expect("error")
    assert error["code"] == "unauthenticated"
    assert await client.closed_with() == codes.SESSION_ENDED.code


async def test_a_socket_opened_with_a_sessions_ticket_ends_at_that_logout(make_user):
    user = await make_user("ann")
    session = await sync_to_async(signed_in_browser)(user)
    other_session = await sync_to_async(signed_in_browser)(user)
    ticket = await sync_to_async(ticket_for)(session=session)
    by_ticket = await welcomed(f"/ws/?token={ticket}")
    other = await welcomed(
        f"/ws/?token={await sync_to_async(ticket_for)(session=other_session)}"
    )
    unused = await sync_to_async(ticket_for)(session=session)
    await sync_to_async(log_out)(user, session)
    await assert_ended(by_ticket)
    await assert_still_open(other)  # another session of the same user stays
    # A ticket issued before the logout no longer opens anything.
    late, _ = await open_socket(f"/ws/?token={unused}")
    assert (await late.expect("error"))["code"] == "unauthenticated"
    assert await late.closed_with() == 4401


async def test_deleting_a_token_ends_what_it_and_its_tickets_signed_in(make_user):
    user = await make_user("ann")
    session = await sync_to_async(signed_in_browser)(user)
    by_token = await welcomed(f"/ws/?token={user.token}")
    ticket = await sync_to_async(ticket_for)(token=user.token)
    by_ticket = await welcomed(f"/ws/?token={ticket}")
    by_cookie = await welcomed(
        "/ws/", headers=[(b"cookie", f"sessionid={session}".encode())]
    )
    stream = await SseClient.open("/realtime/sse/?topics=room:a", token=user.token)
    await stream.message_of("subscribed")

    await sync_to_async(Token.objects.filter(key=user.token).delete)()
    await assert_ended(by_token)
    await assert_ended(by_ticket)
    assert (await stream.message_of("error"))["data"]["code"] == "unauthenticated"
    assert await stream.ends()
    await assert_still_open(by_cookie)  # the user's session still signs in


async def test_a_rotated_token_ends_the_old_tokens_sockets(make_user):
    user = await make_user("ann")
    client = await welcomed(f"/ws/?token={user.token}")

    def rotate():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user).key

    new_key = await sync_to_async(rotate)()
    await assert_ended(client)
    await welcomed(f"/ws/?token={new_key}")


async def test_a_new_password_ends_the_sockets_of_the_users_other_sessions(
    make_user,
):
    user = await make_user("ann")
    session = await sync_to_async(signed_in_browser)(user)
    by_cookie = await welcomed(
        "/ws/", headers=[(b"cookie", f"sessionid={session}".encode())]
    )
    by_token = await welcomed(f"/ws/?token={user.token}")

    def change_password():
        user.set_password("a-new-secret-42")
        user.save()

    await sync_to_async(change_password)()
    await assert_ended(by_cookie)
    await assert_still_open(by_token)  # API tokens do not depend on the password


async def test_a_login_that_changes_nothing_leaves_sockets_alone(make_user):
    user = await make_user("ann")
    client = await welcomed(f"/ws/?token={user.token}")
    # Logging in again updates last_login only: no re-check, nothing ends.
    await sync_to_async(signed_in_browser)(user)
    await assert_still_open(client)
