"""Joining a family only by accepting an invitation (PROTOCOL.md section 6).

A member invites (optionally naming who may accept), the invited person
accepts, and only then belongs to the family. Members leave on their own; a
family admin removes others.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from giftlists import services
from giftlists.models import Invitation, Membership
from giftlists.tokens import hash_token

from .helpers import snapshot

User = get_user_model()


def invite(client, family, **body):
    return client.post(f"/api/families/{family.pk}/invitations/", body, format="json")


def accept(client, token):
    return client.post(f"/api/invitations/{token}/accept/")


def members(client, family) -> list[str]:
    response = client.get(f"/api/families/{family.pk}/members/")
    return [member["username"] for member in response.json()["results"]]


def stored_invitation(family, inviter, *, username="", **times) -> str:
    """An invitation written straight to the table (e.g. already expired)."""
    token = f"made-by-hand-{Invitation.objects.count()}"
    Invitation.objects.create(
        family=family,
        invited_by=inviter,
        username=username,
        token_hash=hash_token(token),
        **times,
    )
    return token


def an_expired_invitation(family, inviter, **fields) -> str:
    now = timezone.now()
    return stored_invitation(
        family,
        inviter,
        created_at=now - timedelta(days=8),
        expires_at=now - timedelta(days=1),
        **fields,
    )


class TestInviting:
    def test_a_member_gets_a_link_to_send(self, api, bob, family):
        response = invite(api(bob), family)

        assert response.status_code == 201
        data = response.json()
        assert set(data) == {"token", "url", "expires_at", "family", "username"}
        assert data["url"] == f"http://testserver/invitations/{data['token']}/"
        assert (data["family"], data["username"]) == (family.pk, None)
        stored = Invitation.objects.get(token_hash=hash_token(data["token"]))
        assert stored.invited_by == bob
        assert data["expires_at"] == stored.expires_at.isoformat().replace(
            "+00:00", "Z"
        )

    @pytest.mark.parametrize("body", [{}, {"username": ""}, {"username": None}])
    def test_an_invitation_without_a_name_is_for_anyone_with_the_link(
        self, api, alice, family, body
    ):
        response = invite(api(alice), family, **body)

        assert response.status_code == 201
        assert response.json()["username"] is None
        token = response.json()["token"]
        assert Invitation.objects.get(token_hash=hash_token(token)).username == ""

    def test_an_invitation_lasts_a_week_unless_the_setting_says_otherwise(
        self, alice, family, settings
    ):
        week, _ = services.create_invitation(alice, family)
        settings.GIFTLISTS_INVITATION_TTL = timedelta(hours=2)
        short, _ = services.create_invitation(alice, family)

        assert week.expires_at - week.created_at == timedelta(days=7)
        assert short.expires_at - short.created_at == timedelta(hours=2)

    def test_the_token_is_stored_only_as_a_hash(self, api, alice, family):
        token = invite(api(alice), family).json()["token"]

        row = Invitation.objects.values_list().get(token_hash=hash_token(token))
        assert token not in [str(value) for value in row]
        assert len(token) >= 43

    def test_inviting_tells_nothing_about_which_usernames_exist(
        self, api, alice, dave, family
    ):
        """The answer for an account that exists and for one that does not is
        the same but for the name and the fresh token."""
        client = api(alice)

        existing = invite(client, family, username="dave")
        missing = invite(client, family, username="nobody-by-this-name")

        assert existing.status_code == missing.status_code == 201
        assert existing.headers.keys() == missing.headers.keys()
        shape = {"token": None, "url": None, "expires_at": None, "username": None}
        assert existing.json() | shape == missing.json() | shape
        for response, name in [(existing, "dave"), (missing, "nobody-by-this-name")]:
            assert response.json()["username"] == name
        assert Invitation.objects.filter(accepted_by=None).count() == 2

    def test_inviting_adds_nobody_to_the_family(self, api, alice, dave, family):
        invite(api(alice), family, username="dave")

        assert "dave" not in members(api(alice), family)
        assert api(dave).get(f"/api/families/{family.pk}/").status_code == 404

    def test_outsiders_cannot_invite_to_a_family_they_cannot_see(
        self, api, dave, family
    ):
        before = snapshot()

        response = invite(api(dave), family)

        assert response.status_code == 404
        assert snapshot() == before

    def test_the_old_add_member_call_is_gone(self, api, alice, dave, family):
        before = snapshot()

        response = api(alice).post(
            f"/api/families/{family.pk}/members/", {"username": "dave"}, format="json"
        )

        assert response.status_code == 405
        assert response.json() == {"detail": 'Method "POST" not allowed.'}
        assert snapshot() == before


class TestAccepting:
    def test_anyone_with_an_open_link_joins_the_family(self, api, alice, dave, family):
        token = invite(api(alice), family).json()["token"]

        response = accept(api(dave), token)

        assert response.status_code == 201
        data = response.json()
        assert (data["family"], data["user"], data["username"]) == (
            family.pk,
            dave.pk,
            "dave",
        )
        assert data["is_admin"] is False
        assert "dave" in members(api(alice), family)
        assert api(dave).get(f"/api/families/{family.pk}/").status_code == 200
        used = Invitation.objects.get(token_hash=hash_token(token))
        assert used.accepted_by == dave and used.accepted_at is not None

    def test_a_named_invitation_is_for_that_user_only(
        self, api, alice, carol, dave, family
    ):
        token = invite(api(alice), family, username="dave").json()["token"]
        before = snapshot()

        refused = accept(api(carol), token)
        unknown = accept(api(carol), "no-such-token")

        assert refused.status_code == unknown.status_code == 404
        assert refused.json() == unknown.json()
        assert snapshot() == before
        assert accept(api(dave), token).status_code == 201

    def test_an_invitation_works_only_once(self, api, alice, carol, dave, family):
        token = invite(api(alice), family).json()["token"]
        accept(api(dave), token)
        before = snapshot()

        response = accept(api(carol), token)

        assert response.status_code == 410
        assert response.json() == {
            "detail": "This invitation has already been used.",
            "code": "invitation_used",
        }
        assert snapshot() == before

    def test_an_expired_invitation_says_so(self, alice, api, dave, family):
        token = an_expired_invitation(family, alice)
        before = snapshot()

        response = accept(api(dave), token)

        assert response.status_code == 410
        assert response.json() == {
            "detail": "This invitation has expired. Ask for a new one.",
            "code": "invitation_expired",
        }
        assert snapshot() == before

    def test_an_expired_invitation_for_someone_else_is_just_not_found(
        self, alice, api, carol, family
    ):
        token = an_expired_invitation(family, alice, username="dave")

        assert accept(api(carol), token).status_code == 404

    def test_an_invitation_from_someone_who_left_no_longer_works(
        self, api, bob, dave, family
    ):
        """A member who leaves, or is removed, cannot let anyone in (themselves
        included) with links they made before."""
        token = invite(api(bob), family).json()["token"]
        services.remove_member(bob, family, bob)

        response = accept(api(dave), token)

        assert response.status_code == 410
        assert response.json()["code"] == "invitation_withdrawn"
        assert accept(api(bob), token).status_code == 410

    def test_a_member_who_accepts_keeps_their_membership_and_the_link_stays_open(
        self, api, alice, bob, dave, family
    ):
        token = invite(api(alice), family).json()["token"]
        bobs = Membership.objects.get(family=family, user=bob)

        response = accept(api(bob), token)

        assert response.status_code == 200
        assert response.json()["id"] == bobs.pk
        assert Membership.objects.filter(family=family, user=bob).count() == 1
        assert accept(api(dave), token).status_code == 201

    def test_accepting_twice_answers_the_same_membership(
        self, api, alice, dave, family
    ):
        token = invite(api(alice), family).json()["token"]
        first = accept(api(dave), token)

        again = accept(api(dave), token)

        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()

    def test_staff_who_are_no_members_join_like_anyone(self, api, alice, carol, family):
        token = invite(api(alice), family).json()["token"]

        assert accept(api(carol), token).status_code == 201
        assert "carol" in members(api(alice), family)

    def test_signing_in_is_required_to_accept(self, api, alice, family):
        token = invite(api(alice), family).json()["token"]

        assert accept(api(), token).status_code == 401

    def test_whoever_joins_a_family_everyone_left_becomes_its_admin(
        self, api, alice, carol, dave, family
    ):
        token = invite(api(carol), family).json()["token"]  # staff invite
        for membership in list(family.memberships.all()):
            services.remove_member(carol, family, membership.user)

        assert accept(api(dave), token).json()["is_admin"] is True

    def test_a_family_left_without_admins_gets_its_longest_standing_member_back(
        self, api, alice, bob, dave, family
    ):
        family.memberships.update(is_admin=False)  # as staff may in the admin
        token = invite(api(bob), family).json()["token"]

        assert accept(api(dave), token).json()["is_admin"] is False
        assert Membership.objects.get(family=family, user=alice).is_admin


@pytest.fixture
def low_limits(settings):
    """Two invitations and two accept attempts an hour per user."""
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {
            "invitations": "2/hour",
            "invitation_accept": "2/hour",
        }
    }


class TestRateLimits:
    def test_too_many_invitations_are_refused_for_a_while(
        self, api, alice, bob, family, low_limits
    ):
        client = api(alice)
        assert [invite(client, family).status_code for _ in range(2)] == [201, 201]
        count = Invitation.objects.count()

        refused = invite(client, family)

        assert refused.status_code == 429
        assert refused.json()["detail"].startswith("Request was throttled.")
        assert int(refused["Retry-After"]) > 0
        assert Invitation.objects.count() == count
        assert invite(api(bob), family).status_code == 201  # per user

    def test_too_many_accept_attempts_are_refused_for_a_while(
        self, api, alice, dave, family, low_limits
    ):
        token = services.create_invitation(alice, family)[1]
        client = api(dave)
        assert [accept(client, "wrong").status_code for _ in range(2)] == [404, 404]

        refused = accept(client, token)

        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert not family.memberships.filter(user=dave).exists()


class TestInvitationPage:
    def test_the_link_asks_visitors_to_log_in_first(self, client, alice, family):
        _, token = services.create_invitation(alice, family)
        path = f"/invitations/{token}/"

        response = client.get(path)

        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"

    def test_opening_the_link_shows_the_invitation_without_accepting_it(
        self, client, alice, dave, family
    ):
        _, token = services.create_invitation(alice, family)
        client.force_login(dave)

        response = client.get(f"/invitations/{token}/")

        page = response.content.decode()
        assert response.status_code == 200
        assert "alice invites you to join the family" in page
        assert '<button type="submit">Join The Testers</button>' in page
        assert not family.memberships.filter(user=dave).exists()

    def test_the_join_button_joins_and_leads_home(self, client, alice, dave, family):
        _, token = services.create_invitation(alice, family)
        client.force_login(dave)

        response = client.post(f"/invitations/{token}/", follow=True)

        assert response.redirect_chain[-1][0] == "/"
        assert "Welcome to The Testers!" in response.content.decode()
        assert family.memberships.filter(user=dave).exists()

    def test_a_used_link_says_so(self, client, alice, carol, dave, family):
        _, token = services.create_invitation(alice, family)
        services.accept_invitation(carol, token)
        client.force_login(dave)

        shown = client.get(f"/invitations/{token}/")
        posted = client.post(f"/invitations/{token}/")

        for response in (shown, posted):
            assert response.status_code == 410
            assert "This invitation has already been used." in response.content.decode()

    def test_an_expired_link_says_so(self, client, alice, dave, family):
        token = an_expired_invitation(family, alice)
        client.force_login(dave)

        response = client.get(f"/invitations/{token}/")

        assert response.status_code == 410
        assert "This invitation has expired." in response.content.decode()

    def test_a_link_for_someone_else_is_not_found(self, client, alice, dave, family):
        _, token = services.create_invitation(alice, family, "erin-the-second")
        client.force_login(dave)

        assert client.get(f"/invitations/{token}/").status_code == 404
        assert client.post(f"/invitations/{token}/").status_code == 404
        assert not family.memberships.filter(user=dave).exists()

    def test_the_join_button_counts_against_the_same_limit_as_the_api(
        self, api, client, alice, dave, family, low_limits
    ):
        _, token = services.create_invitation(alice, family)
        assert accept(api(dave), "wrong").status_code == 404
        client.force_login(dave)
        assert client.post("/invitations/wrong-again/").status_code == 404

        response = client.post(f"/invitations/{token}/")

        assert response.status_code == 429
        assert "Too many attempts" in response.content.decode()
        assert int(response["Retry-After"]) > 0
        assert not family.memberships.filter(user=dave).exists()

    def test_a_member_opening_the_link_is_told_they_belong_already(
        self, client, alice, bob, family
    ):
        _, token = services.create_invitation(alice, family)
        client.force_login(bob)

        response = client.get(f"/invitations/{token}/")

        assert response.status_code == 200
        assert "You are already a member of The Testers." in response.content.decode()
