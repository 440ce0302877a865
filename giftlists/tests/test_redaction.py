"""The owner of a list never learns whether, or by whom, its gifts were claimed."""

from django.contrib.auth.models import AnonymousUser

from giftlists.redaction import is_list_owner, redact_gift_for_owner
from giftlists.serializers import GiftSerializer

TRUTH = {
    "id": 7,
    "title": "Kite",
    "status": "purchased",
    "claimed_by": 3,
    "claimed_by_username": "bob",
}


class TestRedactGiftForOwner:
    def test_shows_the_gift_as_wanted_with_no_claimer(self):
        assert redact_gift_for_owner(TRUTH) == {
            "id": 7,
            "title": "Kite",
            "status": "wanted",
            "claimed_by": None,
            "claimed_by_username": None,
        }

    def test_leaves_its_input_untouched(self):
        data = dict(TRUTH)

        redact_gift_for_owner(data)

        assert data == TRUTH

    def test_does_not_add_fields_the_payload_lacks(self):
        assert redact_gift_for_owner({"id": 7, "status": "claimed"}) == {
            "id": 7,
            "status": "wanted",
        }


def test_is_list_owner_answers_for_owner_others_and_anonymous(alice, bob, gift_list):
    assert is_list_owner(alice, gift_list)
    assert not is_list_owner(bob, gift_list)
    assert not is_list_owner(AnonymousUser(), gift_list)


def by_id(response):
    return {item["id"]: item for item in response.json()["results"]}


def test_owner_sees_every_gift_as_wanted_in_the_list(
    api, alice, gift_list, wanted_gift, claimed_gift, purchased_gift
):
    gifts = by_id(api(alice).get(f"/api/gifts/?list={gift_list.pk}"))

    assert len(gifts) == 3
    for gift in gifts.values():
        assert gift["status"] == "wanted"
        assert gift["claimed_by"] is None
        assert gift["claimed_by_username"] is None


def test_members_see_the_truth_in_the_list(
    api, bob, erin, gift_list, wanted_gift, claimed_gift, purchased_gift
):
    for member in (bob, erin):
        gifts = by_id(api(member).get(f"/api/gifts/?list={gift_list.pk}"))

        assert gifts[wanted_gift.pk]["status"] == "wanted"
        assert gifts[claimed_gift.pk]["status"] == "claimed"
        assert gifts[claimed_gift.pk]["claimed_by"] == bob.pk
        assert gifts[purchased_gift.pk]["status"] == "purchased"
        assert gifts[purchased_gift.pk]["claimed_by_username"] == "bob"


def test_owner_sees_a_purchased_gift_as_wanted_in_detail(
    api, alice, bob, purchased_gift
):
    owner_view = api(alice).get(f"/api/gifts/{purchased_gift.pk}/").json()
    member_view = api(bob).get(f"/api/gifts/{purchased_gift.pk}/").json()

    assert owner_view["status"] == "wanted"
    assert owner_view["claimed_by"] is None
    assert member_view["status"] == "purchased"
    assert member_view["claimed_by"] == bob.pk
    assert {
        k: v for k, v in owner_view.items() if "claim" not in k and k != "status"
    } == {k: v for k, v in member_view.items() if "claim" not in k and k != "status"}


def test_owner_editing_a_claimed_gift_still_sees_it_as_wanted(api, alice, claimed_gift):
    response = api(alice).patch(
        f"/api/gifts/{claimed_gift.pk}/", {"notes": "Blue please"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["notes"] == "Blue please"
    assert response.json()["status"] == "wanted"
    assert response.json()["claimed_by"] is None
    claimed_gift.refresh_from_db()
    assert claimed_gift.status == "claimed"


def test_staff_owner_is_redacted_too(api, carol, family, alice):
    from giftlists import services

    gift_list = services.create_gift_list(carol, family, "Carol's list")
    gift = services.create_gift(carol, gift_list, "Tea")
    services.claim_gift(alice, gift)

    data = api(carol).get(f"/api/gifts/{gift.pk}/").json()

    assert (data["status"], data["claimed_by"]) == ("wanted", None)


def test_serializer_without_a_request_shows_the_truth(bob, purchased_gift):
    data = GiftSerializer(purchased_gift).data

    assert data["status"] == "purchased"
    assert data["claimed_by"] == bob.pk
    assert data["claimed_by_username"] == "bob"
