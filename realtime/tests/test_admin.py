"""The event log in the admin: staff can read it, nobody can write it."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.urls import reverse

from realtime.models import ConnectionTicket, Event, Sequence
from realtime.publishing.publisher import publish


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def logged(db):
    with transaction.atomic():
        publish(
            ["room:a"], "ADDED", entity_type="message", entity_id=7, payload={"id": 7}
        )
    return Event.objects.get(view="plain")


def test_event_log_is_listed_and_searchable(staff_client, logged):
    url = reverse("admin:realtime_event_changelist")
    response = staff_client.get(url, {"q": "room:a"})
    assert response.status_code == 200
    assert "room:a" in response.content.decode()
    assert (
        staff_client.get(reverse("admin:realtime_sequence_changelist")).status_code
        == 200
    )


def test_event_log_is_read_only(staff_client, logged):
    assert staff_client.get(reverse("admin:realtime_event_add")).status_code == 403
    change = staff_client.get(reverse("admin:realtime_event_change", args=[logged.pk]))
    assert change.status_code == 200  # viewable...
    assert 'name="_save"' not in change.content.decode()  # ...with no save button
    delete = reverse("admin:realtime_event_delete", args=[logged.pk])
    assert staff_client.post(delete, {"post": "yes"}).status_code == 403
    assert Event.objects.filter(pk=logged.pk).exists()


def test_tickets_are_not_in_the_admin(staff_client):
    from django.contrib import admin

    assert ConnectionTicket not in admin.site._registry
    assert Sequence in admin.site._registry
