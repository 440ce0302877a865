"""Managing one's own gift list from the pages: edit it, archive it, delete it
after a question that says what goes; and the family's currency.

Only the list's owner (or staff) may; anyone else gets a 403 page that says
why, never a server error. Whoever claimed or bought a gift that is deleted is
told on their own topic, and only there.
"""

from datetime import date

import pytest
from django.utils.html import escape

from giftlists import services
from giftlists.checks import check_default_currency
from giftlists.exceptions import NotPermitted, TransitionNotAllowed
from giftlists.models import Family, Gift, GiftList

from .helpers import snapshot

pytestmark = pytest.mark.django_db


def notices_of(client, user) -> list[dict]:
    """The notices on ``user``'s own topic, read as their pages read them (the
    log); their joining the family is on it too, and left out."""
    topic = f"user:{user.pk}"
    answer = client.get(f"/api/realtime/events/?topics={topic}&cursor={topic}@0")
    assert answer.status_code == 200
    events = answer.json()["events"]
    return [event for event in events if event["event"] == "GIFT_REMOVED"]


class TestEditList:
    def test_the_owner_changes_title_date_and_description(
        self, client, alice, gift_list
    ):
        client.force_login(alice)
        form = client.get(f"/lists/{gift_list.pk}/edit/").content.decode()
        assert f'value="{escape(gift_list.title)}"' in form

        response = client.post(
            f"/lists/{gift_list.pk}/edit/",
            {
                "title": "Alice at forty",
                "occasion_date": "2027-03-01",
                "description": "Size M. Send things to Grandma's.",
            },
            follow=True,
        )

        gift_list.refresh_from_db()
        assert (gift_list.title, gift_list.occasion_date) == (
            "Alice at forty",
            date(2027, 3, 1),
        )
        assert gift_list.description == "Size M. Send things to Grandma's."
        page = response.content.decode()
        assert "Size M. Send things to Grandma&#x27;s." in page

    def test_an_empty_title_is_shown_on_the_form_and_nothing_changes(
        self, client, alice, gift_list
    ):
        client.force_login(alice)
        before = snapshot()

        response = client.post(f"/lists/{gift_list.pk}/edit/", {"title": ""})

        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
        assert snapshot() == before

    @pytest.mark.parametrize("action", ["edit", "delete"])
    def test_a_member_who_does_not_own_it_gets_a_403_page(
        self, client, bob, gift_list, action
    ):
        client.force_login(bob)
        before = snapshot()

        for response in (
            client.get(f"/lists/{gift_list.pk}/{action}/"),
            client.post(f"/lists/{gift_list.pk}/{action}/", {"title": "Mine"}),
        ):
            assert response.status_code == 403
            assert f"Only the list&#x27;s owner may {action} it." in (
                response.content.decode()
            )
        assert snapshot() == before

    def test_an_outsider_is_told_the_list_does_not_exist(self, client, dave, gift_list):
        client.force_login(dave)

        assert client.get(f"/lists/{gift_list.pk}/edit/").status_code == 404
        assert client.post(f"/lists/{gift_list.pk}/archive/").status_code == 404


class TestArchive:
    def test_an_archived_list_is_read_only_and_shown_apart(
        self, client, alice, bob, family, gift_list, wanted_gift
    ):
        client.force_login(alice)
        client.post(f"/lists/{gift_list.pk}/archive/", {"archived": "1"})

        gift_list.refresh_from_db()
        assert gift_list.archived
        page = client.get(f"/families/{family.pk}/").content.decode()
        archived = page.split('<details class="archived"', 1)[1]
        assert escape(gift_list.title) in archived
        home = client.get("/").content.decode()
        assert escape(gift_list.title) in home.split('<details class="archived"', 1)[1]
        with pytest.raises(NotPermitted):
            services.create_gift(alice, gift_list, "One more thing")
        with pytest.raises(TransitionNotAllowed):
            services.claim_gift(bob, Gift.objects.get(pk=wanted_gift.pk))

        client.post(f"/lists/{gift_list.pk}/archive/", {"archived": "0"})
        gift_list.refresh_from_db()
        assert not gift_list.archived

    def test_a_member_cannot_archive_someone_elses_list(self, client, bob, gift_list):
        client.force_login(bob)

        response = client.post(f"/lists/{gift_list.pk}/archive/", {"archived": "1"})

        assert response.status_code == 403
        gift_list.refresh_from_db()
        assert not gift_list.archived


class TestDeleteList:
    def test_the_question_counts_the_gifts_and_tells_nothing_of_claims(
        self, client, alice, gift_list, wanted_gift, claimed_gift, purchased_gift
    ):
        client.force_login(alice)

        page = client.get(f"/lists/{gift_list.pk}/delete/").content.decode()

        assert "its 3 gifts, with every claim and purchase" in page
        assert "bob" not in page

    def test_deleting_tells_each_claimer_and_no_one_else(
        self, client, alice, bob, erin, family, gift_list, wanted_gift, claimed_gift
    ):
        client.force_login(alice)

        response = client.post(f"/lists/{gift_list.pk}/delete/", follow=True)

        assert response.redirect_chain[-1][0] == f"/families/{family.pk}/"
        assert not GiftList.objects.filter(pk=gift_list.pk).exists()
        client.force_login(bob)
        (notice,) = notices_of(client, bob)
        assert notice["event"] == "GIFT_REMOVED"
        assert notice["data"]["payload"]["title"] == claimed_gift.title
        assert notice["data"]["payload"]["status"] == "claimed"
        client.force_login(erin)
        assert notices_of(client, erin) == []


class TestDeleteGift:
    @pytest.mark.parametrize("state", ["claimed_gift", "purchased_gift"])
    def test_whoever_claimed_or_bought_it_is_told(
        self, api, alice, bob, state, request
    ):
        gift = request.getfixturevalue(state)

        assert api(alice).delete(f"/api/gifts/{gift.pk}/").status_code == 204

        (notice,) = notices_of(api(bob), bob)
        payload = notice["data"]["payload"]
        assert (payload["title"], payload["status"]) == (gift.title, gift.status)
        assert payload["list_title"] == gift.list.title
        assert payload["list_owner"] == "alice"

    def test_a_wanted_gift_tells_nobody(self, api, alice, bob, wanted_gift):
        assert api(alice).delete(f"/api/gifts/{wanted_gift.pk}/").status_code == 204

        assert notices_of(api(bob), bob) == []

    def test_the_owner_cannot_read_the_claimers_notices(
        self, api, alice, bob, claimed_gift
    ):
        api(alice).delete(f"/api/gifts/{claimed_gift.pk}/")
        topic = f"user:{bob.pk}"

        answer = api(alice).get(
            f"/api/realtime/events/?topics={topic}&cursor={topic}@0"
        )

        assert answer.status_code == 403

    def test_gifts_can_be_added_with_notes_from_the_api(self, api, bob, gift_list):
        body = {"list": gift_list.pk, "title": "Kite", "notes": "A red one"}

        created = api(bob).post("/api/gifts/", body, format="json").json()

        assert Gift.objects.get(pk=created["id"]).notes == "A red one"


class TestCurrency:
    def test_a_default_outside_iso_4217_stops_start_up(self, settings):
        settings.GIFTLISTS_DEFAULT_CURRENCY = "EURO"

        (error,) = check_default_currency()

        assert error.id == "giftlists.E001"
        assert "'EURO'" in error.msg

    def test_a_new_family_uses_the_configured_default(self, settings, dave):
        settings.GIFTLISTS_DEFAULT_CURRENCY = "SEK"

        assert services.create_family(dave, "The Svenssons").currency == "SEK"

    def test_the_creator_sets_it_and_the_list_page_uses_it(
        self, client, alice, family, gift_list
    ):
        client.force_login(alice)

        client.post(f"/families/{family.pk}/currency/", {"currency": "gbp"})

        assert Family.objects.get(pk=family.pk).currency == "GBP"
        page = client.get(f"/lists/{gift_list.pk}/").content.decode()
        assert 'data-currency="GBP"' in page
        assert "Price (GBP)" in page

    @pytest.mark.parametrize("code", ["EURO", "XYZ", "", "€"])
    def test_a_code_outside_iso_4217_is_refused_on_the_form(
        self, client, alice, family, code
    ):
        client.force_login(alice)

        response = client.post(f"/families/{family.pk}/currency/", {"currency": code})

        assert response.status_code == 400
        assert Family.objects.get(pk=family.pk).currency == "EUR"

    def test_a_member_who_is_not_an_admin_gets_a_403(self, client, bob, family):
        client.force_login(bob)

        response = client.post(f"/families/{family.pk}/currency/", {"currency": "USD"})

        assert response.status_code == 403
        assert Family.objects.get(pk=family.pk).currency == "EUR"
        page = client.get(f"/families/{family.pk}/").content.decode()
        assert "Save the currency" not in page
        assert "Prices on these lists are in EUR." in page
