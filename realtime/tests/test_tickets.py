"""Connection tickets: short-lived, single-use credentials for socket URLs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from realtime.auth.tickets import issue_ticket, redeem_ticket
from realtime.models import ConnectionTicket

from .conftest import make_user_sync, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


def test_signed_in_user_gets_a_ticket_and_others_do_not():
    user = make_user_sync("ann")
    client = APIClient()
    assert client.post("/api/realtime/ticket/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
    response = client.post("/api/realtime/ticket/")
    assert response.status_code == 201
    assert response.json()["ticket"].startswith("tk_")
    assert response.json()["expires_in"] == 60
    # Only a hash is stored: the database never holds a usable ticket.
    assert not ConnectionTicket.objects.filter(
        key_hash=response.json()["ticket"]
    ).exists()


def test_every_refusal_of_a_ticket_is_json_with_its_code():
    user = make_user_sync("ann")
    client = APIClient()
    refused = client.post("/api/realtime/ticket/", HTTP_ACCEPT="text/html")
    assert (refused.status_code, refused.json()["code"]) == (401, "unauthenticated")
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.token}")
    wrong_method = client.get("/api/realtime/ticket/")
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (
        405,
        "method_not_allowed",
    )


def test_a_ticket_works_once():
    user = make_user_sync("ann")
    ticket = issue_ticket(user)
    assert redeem_ticket(ticket).user == user
    assert redeem_ticket(ticket) is None


def test_an_expired_ticket_is_refused():
    user = make_user_sync("ann")
    ticket = issue_ticket(user)
    ConnectionTicket.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert redeem_ticket(ticket) is None


def test_a_deactivated_users_ticket_is_refused():
    user = make_user_sync("ann")
    ticket = issue_ticket(user)
    user.is_active = False
    user.save()
    assert redeem_ticket(ticket) is None


async def test_a_ticket_opens_a_socket_once():
    from asgiref.sync import sync_to_async

    user = await sync_to_async(make_user_sync)("ann")
    ticket = await sync_to_async(issue_ticket)(user)
    client, _ = await open_socket(f"/ws/?token={ticket}")
    welcome = await client.receive()
    assert welcome["type"] == "welcome" and welcome["user_id"] == str(user.pk)
    await client.close()
    again, _ = await open_socket(f"/ws/?token={ticket}")
    assert (await again.receive())["code"] == "unauthenticated"
    assert await again.closed_with() == 4401
