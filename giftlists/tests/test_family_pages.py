"""The family pages: create a family, see its members and lists, invite by a
link, join through it, leave, remove members, start a list.

Each change goes through the same services as the API; a refusal is shown on
the page, never as a server error.
"""

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from giftlists import services
from giftlists.models import Family, GiftList, Invitation, Membership

from .helpers import snapshot
from .test_accounts import errors_of, sign_up

User = get_user_model()
HUGE = "9" * 25


def shown_link(response) -> str:
    """The invitation link the family page shows, as its input's value."""
    found = re.search(
        r'id="invitation-url" type="text" readonly value="([^"]+)"',
        response.content.decode(),
    )
    assert found, "no invitation link on the page"
    return unescape(found.group(1))


def unused_invitations():
    """Invitations nobody accepted (the fixture's members joined by accepting)."""
    return Invitation.objects.filter(accepted_at__isnull=True)


def member_names(response) -> list[str]:
    page = response.content.decode()
    return re.findall(r'<span class="member-name">([^<]+)</span>', page)


@pytest.fixture
def low_invitation_limit(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "invitations": "2/hour",
            "invitation_accept": "60/hour",
        },
    }


class TestHome:
    def test_someone_without_a_family_is_offered_to_create_one(self, client, dave):
        client.force_login(dave)

        page = client.get("/").content.decode()

        assert "You are not in any family yet" in page
        assert 'href="/families/new/">Create a family</a>' in page
        assert "Ask a family member to add you" not in page

    def test_each_family_links_to_its_page_and_to_a_new_list(self, client, bob, family):
        client.force_login(bob)

        page = client.get("/").content.decode()

        assert f'<a href="/families/{family.pk}/">The Testers</a>' in page
        assert f'href="/families/{family.pk}/lists/new/">New list' in page


class TestCreateFamily:
    def test_the_creator_becomes_its_admin_and_lands_on_its_page(self, client, dave):
        client.force_login(dave)

        response = client.post("/families/new/", {"name": "The Parkers"}, follow=True)

        family = Family.objects.get(name="The Parkers")
        assert response.redirect_chain == [(f"/families/{family.pk}/", 302)]
        assert family.memberships.get().user == dave
        assert family.memberships.get().is_admin
        page = response.content.decode()
        assert "The Parkers is ready. Invite your family to join it." in page
        assert member_names(response) == ["dave"]

    @pytest.mark.parametrize(
        ("name", "complaint"),
        [
            ("", "This field is required"),
            ("   ", "This field is required"),
            ("x" * 121, "at most 120 characters"),
            ("nul\x00", "Null characters are not allowed"),
        ],
    )
    def test_a_bad_name_gets_a_form_error(self, client, dave, name, complaint):
        client.force_login(dave)

        response = client.post("/families/new/", {"name": name})

        assert response.status_code == 200
        assert complaint in errors_of(response)
        assert not Family.objects.exists()

    def test_visitors_are_asked_to_log_in(self, client, db):
        response = client.get("/families/new/")

        assert response["Location"] == "/accounts/login/?next=/families/new/"


class TestFamilyPage:
    def test_members_see_who_belongs_who_is_admin_and_the_lists(
        self, client, bob, family, gift_list
    ):
        client.force_login(bob)

        response = client.get(f"/families/{family.pk}/")

        page = response.content.decode()
        assert response.status_code == 200
        assert member_names(response) == ["alice", "bob", "erin"]
        alice_row = re.search(
            r'<li data-user-id="\d+">\s*<span class="member-name">alice.*?</li>',
            page,
            re.S,
        )
        assert '<span class="tag">admin</span>' in alice_row.group(0)
        assert f'<a href="/lists/{gift_list.pk}/">Alice&#x27;s birthday</a>' in page
        assert f'data-family-id="{family.pk}"' in page
        assert '<script type="module" src="/static/giftlists/family.js">' in page
        assert f'href="/families/{family.pk}/leave/">Leave The Testers</a>' in page

    def test_only_admins_get_remove_links(self, client, alice, bob, erin, family):
        client.force_login(bob)
        as_member = client.get(f"/families/{family.pk}/").content.decode()
        client.force_login(alice)
        as_admin = client.get(f"/families/{family.pk}/").content.decode()

        assert "/remove/" not in as_member
        assert f'href="/families/{family.pk}/members/{bob.pk}/remove/"' in as_admin
        assert f'href="/families/{family.pk}/members/{erin.pk}/remove/"' in as_admin
        assert f"/members/{alice.pk}/remove/" not in as_admin

    def test_outsiders_get_404_like_the_api(self, client, dave, family):
        client.force_login(dave)

        assert client.get(f"/families/{family.pk}/").status_code == 404
        assert client.get(f"/api/families/{family.pk}/").status_code == 404
        assert client.get(f"/families/{HUGE}/").status_code == 404

    def test_staff_who_are_no_members_see_it_but_cannot_leave_it(
        self, client, carol, family
    ):
        client.force_login(carol)

        page = client.get(f"/families/{family.pk}/").content.decode()

        assert "/leave/" not in page
        assert "/remove/" in page


class TestInvite:
    def test_a_member_gets_a_link_that_lets_someone_join(
        self, client, bob, dave, family
    ):
        client.force_login(bob)

        response = client.post(f"/families/{family.pk}/invitations/", {"username": ""})

        assert response.status_code == 200
        link = shown_link(response)
        assert link.startswith("http://testserver/invitations/")
        page = response.content.decode()
        assert "Copy link" in page
        assert "it works once, until" in page
        client.force_login(dave)
        joined = client.post(link.removeprefix("http://testserver"), follow=True)
        assert "Welcome to The Testers!" in joined.content.decode()
        assert family.memberships.filter(user=dave).exists()

    def test_a_named_invitation_says_for_whom(self, client, bob, family):
        client.force_login(bob)

        response = client.post(
            f"/families/{family.pk}/invitations/", {"username": "dave"}
        )

        assert "Send it to dave" in response.content.decode()
        assert unused_invitations().get().username == "dave"

    @pytest.mark.parametrize(
        ("username", "complaint"),
        [
            ("two words", "Enter a valid username"),
            ("x" * 151, "at most 150 characters"),
            ("erin", "erin is already a member of this family."),
        ],
    )
    def test_a_bad_name_gets_a_form_error_and_no_link(
        self, client, bob, family, username, complaint
    ):
        client.force_login(bob)

        response = client.post(
            f"/families/{family.pk}/invitations/", {"username": username}
        )

        assert response.status_code == 200
        assert complaint in errors_of(response)
        assert 'id="invitation-url"' not in response.content.decode()
        assert not unused_invitations().exists()

    def test_too_many_invitations_are_refused_for_a_while(
        self, client, bob, family, low_invitation_limit
    ):
        client.force_login(bob)
        for _ in range(2):
            client.post(f"/families/{family.pk}/invitations/")

        refused = client.post(f"/families/{family.pk}/invitations/")

        assert refused.status_code == 429
        assert int(refused["Retry-After"]) > 0
        assert "Too many attempts. Please try again later." in refused.content.decode()
        assert unused_invitations().count() == 2

    def test_links_made_in_the_api_count_against_the_same_limit(
        self, api, client, bob, family, low_invitation_limit
    ):
        for _ in range(2):
            made = api(bob).post(f"/api/families/{family.pk}/invitations/")
            assert made.status_code == 201
        client.force_login(bob)

        refused = client.post(f"/families/{family.pk}/invitations/")

        assert refused.status_code == 429
        assert 'id="invitation-url"' not in refused.content.decode()

    def test_outsiders_cannot_invite_and_a_get_is_refused(
        self, client, dave, bob, family
    ):
        client.force_login(dave)
        assert client.post(f"/families/{family.pk}/invitations/").status_code == 404
        client.force_login(bob)
        assert client.get(f"/families/{family.pk}/invitations/").status_code == 405
        assert not unused_invitations().exists()


class TestJoiningThroughSignUp:
    def test_a_new_person_signs_up_from_the_link_and_joins(self, client, alice, family):
        _, token = services.create_invitation(alice, family)
        path = f"/invitations/{token}/"

        login = client.get(path, follow=True)
        assert login.redirect_chain[-1][0] == f"/accounts/login/?next={path}"
        assert sign_up(client, username="newbie", next=path)["Location"] == path
        shown = client.get(path)
        assert "alice invites you to join the family" in shown.content.decode()
        joined = client.post(path, follow=True)

        assert "Welcome to The Testers!" in joined.content.decode()
        assert family.memberships.filter(user__username="newbie").exists()

    def test_an_expired_link_says_so_after_signing_up(self, client, alice, family):
        invitation, token = services.create_invitation(alice, family)
        invitation.expires_at = timezone.now() - timedelta(minutes=1)
        invitation.save()
        path = f"/invitations/{token}/"
        sign_up(client, username="latecomer", next=path)

        response = client.get(path)

        assert response.status_code == 410
        assert "This invitation has expired. Ask for a new one." in (
            response.content.decode()
        )
        assert not family.memberships.filter(user__username="latecomer").exists()

    def test_a_used_link_says_so_after_signing_up(self, client, alice, dave, family):
        _, token = services.create_invitation(alice, family)
        services.accept_invitation(dave, token)
        path = f"/invitations/{token}/"
        sign_up(client, username="second", next=path)

        response = client.post(path)

        assert response.status_code == 410
        assert "This invitation has already been used." in response.content.decode()


class TestLeave:
    def test_leaving_asks_first_then_leaves_and_goes_home(self, client, bob, family):
        client.force_login(bob)

        asked = client.get(f"/families/{family.pk}/leave/")
        assert "Leave The Testers?" in asked.content.decode()
        assert family.memberships.filter(user=bob).exists()
        left = client.post(f"/families/{family.pk}/leave/", follow=True)

        assert left.redirect_chain[-1][0] == "/"
        assert "You left The Testers." in left.content.decode()
        assert not family.memberships.filter(user=bob).exists()
        assert client.get(f"/families/{family.pk}/").status_code == 404

    def test_the_last_admin_leaving_hands_the_family_on(self, client, alice, family):
        client.force_login(alice)

        client.post(f"/families/{family.pk}/leave/")

        admins = family.memberships.filter(is_admin=True)
        assert list(admins.values_list("user__username", flat=True)) == ["bob"]

    def test_staff_who_are_no_members_are_told_so(self, client, carol, family):
        client.force_login(carol)
        before = snapshot()

        response = client.post(f"/families/{family.pk}/leave/", follow=True)

        assert "You are not a member of The Testers." in response.content.decode()
        assert snapshot() == before


class TestRemoveMember:
    def test_an_admin_is_asked_first_then_removes(self, client, alice, bob, family):
        client.force_login(alice)
        path = f"/families/{family.pk}/members/{bob.pk}/remove/"

        asked = client.get(path)
        assert "Remove bob from The Testers?" in asked.content.decode()
        assert family.memberships.filter(user=bob).exists()
        removed = client.post(path, follow=True)

        assert removed.redirect_chain[-1][0] == f"/families/{family.pk}/"
        assert "bob is no longer a member of The Testers." in removed.content.decode()
        assert member_names(removed) == ["alice", "erin"]

    def test_members_who_are_no_admins_cannot_remove_anyone(
        self, client, bob, erin, family
    ):
        client.force_login(bob)
        path = f"/families/{family.pk}/members/{erin.pk}/remove/"

        assert client.get(path).status_code == 403
        assert client.post(path).status_code == 403
        assert family.memberships.filter(user=erin).exists()

    def test_removing_yourself_is_leaving(self, client, alice, family):
        client.force_login(alice)

        response = client.get(f"/families/{family.pk}/members/{alice.pk}/remove/")

        assert response["Location"] == f"/families/{family.pk}/leave/"

    def test_someone_who_is_no_member_is_not_found(self, client, alice, dave, family):
        client.force_login(alice)

        for user_id in (dave.pk, HUGE):
            path = f"/families/{family.pk}/members/{user_id}/remove/"
            assert client.get(path).status_code == 404
            assert client.post(path).status_code == 404

    def test_removing_someone_already_gone_is_not_found(
        self, client, alice, bob, family
    ):
        client.force_login(alice)
        path = f"/families/{family.pk}/members/{bob.pk}/remove/"
        client.post(path)

        assert client.post(path).status_code == 404


class TestNewGiftList:
    def test_a_member_creates_a_list_of_their_own_and_opens_it(
        self, client, bob, family
    ):
        client.force_login(bob)

        response = client.post(
            f"/families/{family.pk}/lists/new/",
            {"title": "Bob's 40th", "occasion_date": "2027-05-04"},
        )

        created = GiftList.objects.get(title="Bob's 40th")
        assert response["Location"] == f"/lists/{created.pk}/"
        assert created.owner == bob and created.family == family
        assert created.occasion_date == date(2027, 5, 4)

    def test_the_date_is_optional(self, client, bob, family):
        client.force_login(bob)

        client.post(f"/families/{family.pk}/lists/new/", {"title": "Someday"})

        assert GiftList.objects.get(title="Someday").occasion_date is None

    @pytest.mark.parametrize(
        ("fields", "complaint"),
        [
            ({"title": ""}, "This field is required"),
            ({"title": "x" * 201}, "at most 200 characters"),
            ({"title": "Ok", "occasion_date": "2027-02-30"}, "Enter a valid date"),
            ({"title": "Ok", "occasion_date": "next tuesday"}, "Enter a valid date"),
            ({"title": "Ok", "occasion_date": "99999-01-01"}, "Enter a valid date"),
        ],
    )
    def test_bad_input_gets_a_form_error(self, client, bob, family, fields, complaint):
        client.force_login(bob)

        response = client.post(f"/families/{family.pk}/lists/new/", fields)

        assert response.status_code == 200
        assert complaint in errors_of(response)
        assert not GiftList.objects.exists()

    def test_outsiders_get_404(self, client, dave, family):
        client.force_login(dave)

        assert client.get(f"/families/{family.pk}/lists/new/").status_code == 404
        response = client.post(f"/families/{family.pk}/lists/new/", {"title": "Mine"})
        assert response.status_code == 404
        assert not GiftList.objects.exists()


def test_the_pages_ask_visitors_to_log_in(client, alice, bob, family):
    for path in (
        f"/families/{family.pk}/",
        f"/families/{family.pk}/leave/",
        f"/families/{family.pk}/members/{bob.pk}/remove/",
        f"/families/{family.pk}/lists/new/",
    ):
        response = client.get(path)
        assert response["Location"] == f"/accounts/login/?next={path}"
    assert client.post(f"/families/{family.pk}/invitations/").status_code == 302
    assert Membership.objects.filter(family=family).count() == 3
    assert not unused_invitations().exists()
