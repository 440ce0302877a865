"""Who may open the live pages: the same rules as the API."""

import pytest
from django.contrib.auth import get_user_model

from giftlists import services

User = get_user_model()


@pytest.fixture
def users(db):
    alice = User.objects.create_user("alice", password="x")
    bob = User.objects.create_user("bob", password="x")
    dave = User.objects.create_user("dave", password="x")
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    family = services.create_family(alice, "The Testers")
    _, token = services.create_invitation(alice, family, "bob")
    services.accept_invitation(bob, token)
    gift_list = services.create_gift_list(alice, family, "Alice's birthday")
    return {"alice": alice, "bob": bob, "dave": dave, "staff": staff, "list": gift_list}


def test_a_gift_list_page_asks_anonymous_visitors_to_log_in(client, users):
    path = f"/lists/{users['list'].pk}/"
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("name", ["alice", "bob", "staff"])
def test_members_and_staff_open_a_gift_list_page(client, users, name):
    client.force_login(users[name])

    response = client.get(f"/lists/{users['list'].pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-list-id="{users["list"].pk}"' in page
    assert f'data-owner="{"true" if name == "alice" else "false"}"' in page
    assert '<script type="module" src="/static/giftlists/gift-list.js">' in page
    assert 'name="viewport"' in page


def test_a_gift_list_page_is_404_for_non_members_like_the_api(client, users):
    client.force_login(users["dave"])

    assert client.get(f"/lists/{users['list'].pk}/").status_code == 404
    assert client.get(f"/api/gift-lists/{users['list'].pk}/").status_code == 404
    assert client.get("/lists/999999/").status_code == 404


def test_the_inspector_is_for_staff_only(client, users):
    assert client.get("/inspector/").status_code == 302
    client.force_login(users["bob"])
    assert client.get("/inspector/").status_code == 403
    client.force_login(users["staff"])
    response = client.get("/inspector/")
    assert response.status_code == 200
    assert "Event inspector" in response.content.decode()


def test_browsers_asking_for_favicon_ico_get_the_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/giftlists/favicon.svg"
