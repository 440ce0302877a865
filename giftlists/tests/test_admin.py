"""The admin works for a staff superuser on every gift-list model."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse
from rest_framework.test import APIClient

from giftlists import services
from giftlists.models import Family, Gift, GiftList, Invitation, Membership

MODELS = [Family, Membership, Invitation, GiftList, Gift]


@pytest.fixture
def admin_client_for(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def rows(alice, family, gift_list, wanted_gift, claimed_gift, purchased_gift):
    return {
        Family: family,
        Membership: family.memberships.first(),
        Invitation: services.create_invitation(alice, family, "frank")[0],
        GiftList: gift_list,
        Gift: claimed_gift,
    }


def admin_url(model, view, *args):
    return reverse(f"admin:giftlists_{model._meta.model_name}_{view}", args=args)


def test_every_gift_list_model_is_registered():
    registered = {m for m in admin.site._registry if m._meta.app_label == "giftlists"}

    assert registered == set(MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_renders_and_lists_rows(admin_client_for, rows, model):
    response = admin_client_for.get(admin_url(model, "changelist"))

    assert response.status_code == 200
    assert admin_url(model, "change", rows[model].pk) in response.content.decode()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_changelist_search_renders(admin_client_for, rows, model):
    response = admin_client_for.get(admin_url(model, "changelist"), {"q": "alice"})

    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_add_form_renders(admin_client_for, rows, model):
    assert admin_client_for.get(admin_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_change_form_renders(admin_client_for, rows, model):
    response = admin_client_for.get(admin_url(model, "change", rows[model].pk))

    assert response.status_code == 200


def test_gift_filters_by_status_and_family(admin_client_for, rows, family):
    response = admin_client_for.get(
        admin_url(Gift, "changelist"),
        {"status__exact": "claimed", "list__family__id__exact": family.pk},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Book" in page
    assert "Kite" not in page


def gift_form(gift_list, **overrides):
    return {
        "list": gift_list.pk,
        "title": "Yo-yo",
        "url": "",
        "price": "",
        "notes": "",
        "status": "wanted",
        "claimed_by": "",
    } | overrides


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "claimed"},
        {"status": "wanted", "claimed_by": "bob"},
        {"status": "claimed", "claimed_by": "alice"},
    ],
    ids=["claimed without claimer", "wanted with claimer", "owner claims"],
)
def test_gift_form_refuses_inconsistent_claims(
    admin_client_for, rows, gift_list, alice, bob, overrides
):
    users = {"alice": alice.pk, "bob": bob.pk}
    if "claimed_by" in overrides:
        overrides = overrides | {"claimed_by": users[overrides["claimed_by"]]}
    count = Gift.objects.count()

    response = admin_client_for.post(
        admin_url(Gift, "add"), gift_form(gift_list, **overrides)
    )

    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors["claimed_by"]
    assert Gift.objects.count() == count


def test_gift_form_saves_a_consistent_claim(admin_client_for, rows, gift_list, bob):
    response = admin_client_for.post(
        admin_url(Gift, "add"),
        gift_form(gift_list, status="claimed", claimed_by=bob.pk),
    )

    assert response.status_code == 302
    gift = Gift.objects.get(title="Yo-yo")
    assert (gift.status, gift.claimed_by) == ("claimed", bob)


def test_non_staff_cannot_use_the_admin(client, bob):
    client.force_login(bob)

    response = client.get(admin_url(Gift, "changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_creating_an_invitation_shows_its_link_once_and_the_link_works(
    admin_client_for, family, carol, dave
):
    response = admin_client_for.post(
        admin_url(Invitation, "add"),
        {"family": family.pk, "username": "dave"},
        follow=True,
    )

    assert response.status_code == 200
    invitation = Invitation.objects.get(username="dave")
    assert (invitation.family, invitation.invited_by) == (family, carol)
    page = response.content.decode()
    assert "shown only this once" in page
    tokens = set(re.findall(r'"http://testserver/invitations/([^/"]+)/"', page))
    assert len(tokens) == 1
    token = tokens.pop()
    for view, args in [("changelist", ()), ("change", (invitation.pk,))]:
        again = admin_client_for.get(admin_url(Invitation, view, *args))
        assert token not in again.content.decode()
    client = APIClient()
    client.force_authenticate(dave)
    assert client.post(f"/api/invitations/{token}/accept/").status_code == 201


def test_the_admin_refuses_to_invite_a_member_by_name(admin_client_for, family):
    count = Invitation.objects.count()

    response = admin_client_for.post(
        admin_url(Invitation, "add"), {"family": family.pk, "username": "bob"}
    )

    assert response.status_code == 200  # the form again, with errors
    assert response.context["adminform"].form.errors["username"] == [
        "bob is already a member of this family."
    ]
    assert Invitation.objects.count() == count


def test_an_invitation_cannot_be_edited_in_the_admin(admin_client_for, rows):
    invitation = rows[Invitation]

    response = admin_client_for.post(
        admin_url(Invitation, "change", invitation.pk),
        {"family": invitation.family_id, "username": "mallory"},
    )

    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.username == "frank"


def test_deleting_an_invitation_in_the_admin_revokes_it(
    admin_client_for, alice, family, dave
):
    invitation, token = services.create_invitation(alice, family)

    response = admin_client_for.post(
        admin_url(Invitation, "delete", invitation.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    client = APIClient()
    client.force_authenticate(dave)
    assert client.post(f"/api/invitations/{token}/accept/").status_code == 404
    assert not family.memberships.filter(user=dave).exists()
