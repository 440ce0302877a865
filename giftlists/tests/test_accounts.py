"""Accounts in the site's own pages: sign up, log in, password reset and change.

Sign-up and reset requests are throttled like sign-ins (giftlists/signin.py):
past the limit, a form error and a 429 until the window ends.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from giftlists import services

User = get_user_model()
ROOT = Path(__file__).resolve().parents[2]
SIGNUP = "/accounts/signup/"
RESET = "/accounts/password_reset/"
CHANGE = "/accounts/password_change/"
GOOD_PASSWORD = "plum-kettle-harbour-42"


def sign_up(client, address="10.1.0.1", **fields):
    data = {
        "username": "newcomer",
        "email": "newcomer@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **fields,
    }
    return client.post(SIGNUP, data, REMOTE_ADDR=address)


def errors_of(response) -> str:
    """The text of the form's errors as a person reads them."""
    page = response.content.decode()
    found = re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', page, re.S)
    found += re.findall(r'<div class="error form-errors"[^>]*>(.*?)</div>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text) for text in found)


def signed_in_as(client) -> str | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id).username if user_id else None


class TestSignUp:
    def test_the_page_asks_for_username_email_and_password_in_the_sites_look(
        self, client, db
    ):
        response = client.get(SIGNUP)

        page = response.content.decode()
        assert response.status_code == 200
        assert '<a class="brand" href="/">Gift lists</a>' in page
        for field, label in [
            ("username", "Username"),
            ("email", "Email"),
            ("password1", "Password"),
            ("password2", "Password confirmation"),
        ]:
            assert f'<label for="id_{field}">{label}' in page
        assert 'href="/accounts/login/">Log in</a>' in page
        # The header offers no link to the page you are on.
        assert 'href="/accounts/signup/">Sign up</a>' not in page

    def test_signing_up_makes_the_account_signs_in_and_goes_home(self, client, db):
        response = sign_up(client)

        assert response.status_code == 302
        assert response["Location"] == "/"
        user = User.objects.get(username="newcomer")
        assert user.email == "newcomer@example.com"
        assert user.check_password(GOOD_PASSWORD)
        assert not user.is_staff
        assert signed_in_as(client) == "newcomer"
        home = client.get("/").content.decode()
        assert "Welcome, newcomer!" in home
        assert "Signed in as <strong>newcomer</strong>" in home

    def test_signing_up_from_an_invitation_goes_back_to_it(self, client, alice, family):
        _, token = services.create_invitation(alice, family)
        path = f"/invitations/{token}/"

        response = sign_up(client, next=path)

        assert response["Location"] == path
        page = client.get(path).content.decode()
        assert "alice invites you to join the family" in page

    @pytest.mark.parametrize(
        "elsewhere", ["https://evil.example/", "//evil.example/x", "javascript:x"]
    )
    def test_a_next_off_the_site_is_ignored(self, client, db, elsewhere):
        response = sign_up(client, next=elsewhere)

        assert response["Location"] == "/"
        assert signed_in_as(client) == "newcomer"

    @pytest.mark.parametrize(
        ("password", "complaint"),
        [
            ("short1", "too short"),
            ("password123", "too common"),
            ("73829104659", "entirely numeric"),
            ("newcomer-example", "too similar"),
        ],
    )
    def test_a_password_djangos_validators_refuse_is_explained(
        self, client, db, password, complaint
    ):
        response = sign_up(client, password1=password, password2=password)

        assert response.status_code == 200
        assert complaint in errors_of(response)
        assert not User.objects.filter(username="newcomer").exists()
        assert signed_in_as(client) is None

    @pytest.mark.parametrize(
        ("fields", "complaint"),
        [
            ({"password2": "plum-kettle-harbour-43"}, "didn\u2019t match"),
            ({"username": ""}, "This field is required"),
            ({"email": ""}, "This field is required"),
            ({"email": "not-an-address"}, "Enter a valid email address"),
            ({"username": "two words"}, "Enter a valid username"),
            ({"username": "x" * 151}, "at most 150 characters"),
            ({"username": "nul\x00l"}, "Null characters are not allowed"),
            ({"email": "a@" + "b" * 260 + ".com"}, "at most 254 characters"),
        ],
    )
    def test_bad_input_gets_a_form_error_and_no_account(
        self, client, db, fields, complaint
    ):
        response = sign_up(client, **fields)

        assert response.status_code == 200
        assert complaint in errors_of(response)
        assert not User.objects.exclude(username="").exists()

    def test_a_fields_error_and_hint_are_read_out_with_it(self, client, db):
        response = sign_up(client, email="not-an-address")

        page = response.content.decode()
        field = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in field
        described_by = re.search(r'aria-describedby="([^"]+)"', field).group(1)
        assert described_by.split() == ["id_email_helptext", "id_email_error"]
        error = re.search(r'id="id_email_error">(.*?)</ul>', page, re.S).group(1)
        assert "Enter a valid email address" in error
        assert 'id="id_email_helptext">Only for resetting your password' in page

    def test_a_taken_username_is_refused_whatever_its_case(self, client, alice):
        response = sign_up(client, username="ALICE")

        assert "A user with that username already exists" in errors_of(response)
        assert User.objects.filter(username__iexact="alice").count() == 1

    def test_the_fields_come_back_filled_in_after_an_error(self, client, db):
        response = sign_up(client, password2="something-else-entirely")

        page = response.content.decode()
        assert 'value="newcomer"' in page
        assert 'value="newcomer@example.com"' in page
        assert GOOD_PASSWORD not in page

    def test_someone_signed_in_is_sent_on(self, client, alice):
        client.force_login(alice)

        assert client.get(SIGNUP)["Location"] == "/"
        assert client.get(SIGNUP + "?next=/families/new/")["Location"] == (
            "/families/new/"
        )

    def test_too_many_sign_ups_from_one_address_are_refused_for_a_while(
        self, client, db, settings
    ):
        settings.SIGNUP_LIMIT = 3
        assert sign_up(client, "10.9.0.1", username="one").status_code == 302
        client.logout()
        assert sign_up(client, "10.9.0.1", password2="typo").status_code == 200
        assert sign_up(client, "10.9.0.1", username="two").status_code == 302
        client.logout()

        refused = sign_up(client, "10.9.0.1", username="three")

        assert refused.status_code == 429
        assert "Too many sign-ups from this address" in errors_of(refused)
        assert "Try again in 60 minute(s)" in errors_of(refused)
        assert not User.objects.filter(username="three").exists()
        assert sign_up(client, "10.9.0.2", username="four").status_code == 302


class TestLogIn:
    def test_the_login_page_links_to_reset_and_sign_up_not_to_itself(self, client, db):
        page = client.get("/accounts/login/").content.decode()

        assert 'href="/accounts/password_reset/">Forgot your password?</a>' in page
        assert 'href="/accounts/signup/">Create an account</a>' in page
        assert 'href="/accounts/login/">Log in</a>' not in page
        assert 'href="/accounts/signup/">Sign up</a>' in page

    def test_coming_from_an_invitation_the_sign_up_link_keeps_the_way_back(
        self, client, alice, family
    ):
        _, token = services.create_invitation(alice, family)
        login = client.get(f"/invitations/{token}/", follow=True)

        page = login.content.decode()
        assert "to see your invitation and join the family" in page
        assert f'href="/accounts/signup/?next=/invitations/{token}/"' in page

    def test_the_header_shows_who_is_signed_in_and_their_links(self, client, alice):
        client.force_login(alice)

        page = client.get("/").content.decode()

        assert "Signed in as <strong>alice</strong>" in page
        assert 'href="/accounts/password_change/">Change password</a>' in page
        assert '<button type="submit">Log out</button>' in page
        assert 'href="/accounts/signup/"' not in page


class TestPasswordReset:
    def test_the_request_page_is_the_sites_not_the_admins(self, client, db):
        response = client.get(RESET)

        page = response.content.decode()
        assert response.status_code == 200
        assert '<a class="brand" href="/">Gift lists</a>' in page
        assert "admin/css" not in page
        assert '<label for="id_email">Email' in page

    def test_a_reset_by_email_sets_a_new_password(self, client, alice):
        alice.email = "alice@example.com"
        alice.save()

        done = client.post(RESET, {"email": "alice@example.com"}, follow=True)

        assert "Check your email" in done.content.decode()
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["alice@example.com"]
        assert message.subject == "Your Gift lists password"
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body)
        confirm = client.get(link.group(1), follow=True)
        assert "Choose a new password" in confirm.content.decode()
        form_url = confirm.redirect_chain[-1][0]
        weak = client.post(form_url, {"new_password1": "123", "new_password2": "123"})
        assert "too short" in errors_of(weak)
        complete = client.post(
            form_url,
            {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD},
            follow=True,
        )
        assert "Your password is changed" in complete.content.decode()
        assert client.login(username="alice", password=GOOD_PASSWORD)

    def test_an_unknown_email_reads_the_same_and_sends_nothing(self, client, db):
        response = client.post(RESET, {"email": "nobody@example.com"}, follow=True)

        assert "Check your email" in response.content.decode()
        assert mail.outbox == []

    def test_a_bad_email_gets_a_form_error(self, client, db):
        response = client.post(RESET, {"email": "not an address"})

        assert response.status_code == 200
        assert "Enter a valid email address" in errors_of(response)

    def test_a_used_or_broken_link_says_so(self, client, alice):
        response = client.get("/accounts/reset/MQ/set-password/", follow=True)
        broken = client.get("/accounts/reset/MQ/abc-def/", follow=True)

        for page in (response, broken):
            assert page.status_code == 200
            assert "This link no longer works" in page.content.decode()

    def test_too_many_requests_for_an_email_are_refused_for_a_while(
        self, client, alice, settings
    ):
        settings.PASSWORD_RESET_LIMIT = 2
        alice.email = "alice@example.com"
        alice.save()
        for address in ("10.2.0.1", "10.2.0.2"):
            sent = client.post(
                RESET, {"email": "alice@example.com"}, REMOTE_ADDR=address
            )
            assert sent.status_code == 302

        refused = client.post(
            RESET, {"email": "ALICE@example.com"}, REMOTE_ADDR="10.2.0.3"
        )

        assert refused.status_code == 429
        assert "Too many password reset requests" in errors_of(refused)
        assert len(mail.outbox) == 2

    def test_too_many_requests_from_an_address_are_refused_for_a_while(
        self, client, db, settings
    ):
        settings.PASSWORD_RESET_LIMIT = 2
        for n in range(2):
            client.post(RESET, {"email": f"x{n}@example.com"}, REMOTE_ADDR="10.3.0.1")

        refused = client.post(RESET, {"email": "y@example.com"}, REMOTE_ADDR="10.3.0.1")
        elsewhere = client.post(
            RESET, {"email": "y@example.com"}, REMOTE_ADDR="10.3.0.2"
        )

        assert refused.status_code == 429
        assert "Try again in 60 minute(s)" in errors_of(refused)
        assert elsewhere.status_code == 302


class TestPasswordChange:
    def test_it_asks_visitors_to_log_in(self, client, db):
        response = client.get(CHANGE)

        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={CHANGE}"

    def test_changing_the_password_keeps_you_signed_in(self, client, alice):
        client.force_login(alice)

        response = client.post(
            CHANGE,
            {
                "old_password": "alice-password-1",
                "new_password1": GOOD_PASSWORD,
                "new_password2": GOOD_PASSWORD,
            },
            follow=True,
        )

        assert "Your password is changed" in response.content.decode()
        assert signed_in_as(client) == "alice"
        alice.refresh_from_db()
        assert alice.check_password(GOOD_PASSWORD)

    @pytest.mark.parametrize(
        ("fields", "complaint"),
        [
            ({"old_password": "wrong"}, "Your old password was entered incorrectly"),
            ({"new_password2": "different-one-9"}, "didn\u2019t match"),
            ({"new_password1": "1234", "new_password2": "1234"}, "too short"),
        ],
    )
    def test_bad_input_gets_a_form_error(self, client, alice, fields, complaint):
        client.force_login(alice)
        data = {
            "old_password": "alice-password-1",
            "new_password1": GOOD_PASSWORD,
            "new_password2": GOOD_PASSWORD,
            **fields,
        }

        response = client.post(CHANGE, data)

        assert response.status_code == 200
        assert complaint in errors_of(response)
        alice.refresh_from_db()
        assert alice.check_password("alice-password-1")

    def test_wrong_current_passwords_count_as_failed_sign_ins(
        self, client, alice, settings
    ):
        settings.SIGNIN_FAILURE_LIMIT = 3
        client.force_login(alice)
        data = {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
        for _ in range(3):
            client.post(CHANGE, {**data, "old_password": "wrong"})

        refused = client.post(CHANGE, {**data, "old_password": "alice-password-1"})

        assert refused.status_code == 429
        assert "Too many failed sign-ins" in errors_of(refused)
        alice.refresh_from_db()
        assert alice.check_password("alice-password-1")


SMTP = "django.core.mail.backends.smtp.EmailBackend"
CONSOLE = "django.core.mail.backends.console.EmailBackend"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, [CONSOLE, ""]),
        (
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_HOST_USER": "me"},
            [SMTP, "smtp.example.com 587 True False me"],
        ),
        (
            {"EMAIL_HOST": "smtp.example.com", "EMAIL_USE_SSL": "1"},
            [SMTP, "smtp.example.com 465 False True"],
        ),
        (
            {"EMAIL_HOST": "mail.internal", "EMAIL_PORT": "25", "EMAIL_USE_TLS": "0"},
            [SMTP, "mail.internal 25 False False"],
        ),
    ],
)
def test_mail_goes_to_the_console_unless_an_smtp_host_is_set(environment, expected):
    names = "EMAIL_HOST EMAIL_PORT EMAIL_USE_TLS EMAIL_USE_SSL EMAIL_HOST_USER"
    probe = (
        "import config.settings as s\n"
        "print(s.EMAIL_BACKEND)\n"
        f"print(*[getattr(s, name, '') for name in {names.split()!r}])"
    )
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("EMAIL_")
    }
    env.update(DJANGO_DEBUG="1", **environment)

    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert [line.strip() for line in result.stdout.splitlines()] == expected
