"""The server-rendered pages: login, logout and the home page."""

import pytest
from django.contrib.auth import get_user_model

User = get_user_model()


def test_home_asks_anonymous_visitors_to_log_in(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_login_page_is_labelled_and_in_english(client, db):
    response = client.get("/accounts/login/")

    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in page
    assert '<label for="id_username">Username</label>' in page
    assert '<label for="id_password">Password</label>' in page
    assert 'name="viewport"' in page


def test_logging_in_leads_home(client, alice):
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": "alice-password-1"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/"
    assert "Signed in as <strong>alice</strong>" in response.content.decode()


def test_wrong_password_shows_an_error(client, alice):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "nope"}
    )

    assert response.status_code == 200
    assert "didn't match" in response.content.decode()


def test_home_lists_my_families_and_their_lists(
    client, bob, family, gift_list, other_list
):
    client.force_login(bob)

    page = client.get("/").content.decode()

    assert "The Testers" in page
    assert f'<a href="/lists/{gift_list.pk}/">Alice&#x27;s birthday</a>' in page
    assert "alice, bob, erin" in page
    assert "Dave&#x27;s" not in page


def test_home_of_a_user_without_family_says_so(client, db):
    client.force_login(User.objects.create_user("loner", password="x"))

    page = client.get("/").content.decode()

    assert "You are not in any family yet" in page


def test_logout_is_a_post_form_that_works(client, alice):
    client.force_login(alice)

    page = client.get("/").content.decode()
    response = client.post("/accounts/logout/")

    assert '<form class="logout" method="post" action="/accounts/logout/">' in page
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("staff", [True, False])
def test_admin_link_only_for_staff(client, db, staff):
    client.force_login(User.objects.create_user("u", password="x", is_staff=staff))

    page = client.get("/").content.decode()

    assert ('href="/admin/"' in page) is staff


def test_stylesheet_is_served(client, db):
    from django.contrib.staticfiles import finders

    assert finders.find("css/site.css")
