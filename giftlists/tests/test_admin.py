"""The admin works for a staff superuser on every gift-list model."""

import pytest
from django.contrib import admin
from django.urls import reverse

from giftlists.models import Family, Gift, GiftList, Membership

MODELS = [Family, Membership, GiftList, Gift]


@pytest.fixture
def admin_client_for(client, carol):
    client.force_login(carol)
    return client


@pytest.fixture
def rows(family, gift_list, wanted_gift, claimed_gift, purchased_gift):
    return {
        Family: family,
        Membership: family.memberships.first(),
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
