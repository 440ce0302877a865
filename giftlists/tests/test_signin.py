"""Failed sign-ins are throttled per client address and per username, on the
token endpoint, the login page and the admin's login alike: ten failures in
fifteen minutes, then a 429 (API) or a form error (pages), right password or not,
until the window ends."""

import time

from rest_framework.test import APIClient

TOKEN = "/api/auth/token/"
LOGIN = "/accounts/login/"


def token(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(times: int, username: str = "alice", address: str = "10.0.0.1") -> None:
    for _ in range(times):
        assert token(username, "wrong", address).status_code == 400


def test_ten_failures_for_a_username_then_429_even_with_the_password(alice, bob):
    fail(9, address="10.0.0.1")
    fail(1, address="10.0.0.2")  # the username's count, whatever the address

    response = token("alice", "alice-password-1", "10.0.0.3")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    detail = response.json()["detail"]
    assert detail.startswith("Too many failed sign-ins")
    assert "Try again in 15 minute(s)" in detail
    # Another user from another address is not affected.
    assert token("bob", "bob-password-1", "10.0.0.4").status_code == 200


def test_ten_failures_from_an_address_then_429_for_any_username(alice, bob):
    for n in range(10):
        assert token(f"nobody{n}", "wrong", "10.0.0.5").status_code == 400

    assert token("bob", "bob-password-1", "10.0.0.5").status_code == 429
    assert token("bob", "bob-password-1", "10.0.0.6").status_code == 200


def test_nine_failures_pass_and_a_success_forgets_the_usernames(alice):
    for n in range(9):
        assert token("alice", "wrong", f"10.0.1.{n}").status_code == 400
    assert token("alice", "alice-password-1", "10.0.2.1").status_code == 200
    for n in range(9):
        assert token("alice", "wrong", f"10.0.3.{n}").status_code == 400
    assert token("alice", "alice-password-1", "10.0.2.1").status_code == 200


def test_the_login_page_says_why_and_does_not_sign_in(client, alice):
    for _ in range(10):
        response = client.post(LOGIN, {"username": "alice", "password": "wrong"})
        assert "didn't match" in response.content.decode()

    response = client.post(LOGIN, {"username": "alice", "password": "alice-password-1"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Too many failed sign-ins" in page and "15 minute(s)" in page
    assert "_auth_user_id" not in client.session


def test_the_admin_login_refuses_what_the_api_throttled(client, carol):
    fail(10, username="carol")

    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "carol", "password": "carol-password-1"},
    )

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_ins_are_taken_again_when_the_window_ends(alice, monkeypatch):
    fail(10)
    assert token("alice", "alice-password-1").status_code == 429

    later = time.time() + 15 * 60 + 1
    # The throttle's clock and the in-memory cache's expiry clock.
    for module in (
        "giftlists.signin.time",
        "django.core.cache.backends.base.time",
        "django.core.cache.backends.locmem.time",
    ):
        monkeypatch.setattr(f"{module}.time", lambda: later)

    assert token("alice", "alice-password-1").status_code == 200
