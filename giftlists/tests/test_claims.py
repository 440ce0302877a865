"""The claim state machine: wanted -> claimed -> purchased, and its refusals."""

import threading
import time

import pytest
from django.db import connection, transaction

from giftlists import services
from giftlists.exceptions import NotAMember, TransitionNotAllowed
from giftlists.models import Gift


def post(client, gift, verb):
    return client.post(f"/api/gifts/{gift.pk}/{verb}/")


class TestLegalTransitions:
    def test_a_member_claims_a_wanted_gift(self, api, erin, wanted_gift):
        response = post(api(erin), wanted_gift, "claim")

        assert response.status_code == 200
        assert response.json()["status"] == "claimed"
        assert response.json()["claimed_by"] == erin.pk
        assert response.json()["claimed_by_username"] == "erin"
        wanted_gift.refresh_from_db()
        assert (wanted_gift.status, wanted_gift.claimed_by) == ("claimed", erin)

    def test_the_claimer_unclaims_back_to_wanted(self, api, bob, claimed_gift):
        response = post(api(bob), claimed_gift, "unclaim")

        assert response.status_code == 200
        assert response.json()["status"] == "wanted"
        assert response.json()["claimed_by"] is None
        claimed_gift.refresh_from_db()
        assert (claimed_gift.status, claimed_gift.claimed_by) == ("wanted", None)

    def test_the_claimer_purchases_the_claimed_gift(self, api, bob, claimed_gift):
        response = post(api(bob), claimed_gift, "purchase")

        assert response.status_code == 200
        assert response.json()["status"] == "purchased"
        claimed_gift.refresh_from_db()
        assert (claimed_gift.status, claimed_gift.claimed_by) == ("purchased", bob)

    def test_purchasing_a_wanted_gift_claims_and_buys_it_at_once(
        self, api, erin, wanted_gift
    ):
        response = post(api(erin), wanted_gift, "purchase")

        assert response.status_code == 200
        assert response.json()["status"] == "purchased"
        assert response.json()["claimed_by"] == erin.pk

    def test_an_unclaimed_gift_can_be_claimed_again_by_someone_else(
        self, api, bob, erin, claimed_gift
    ):
        post(api(bob), claimed_gift, "unclaim")

        response = post(api(erin), claimed_gift, "claim")

        assert response.status_code == 200
        assert response.json()["claimed_by"] == erin.pk

    def test_claims_leave_updated_at_alone(self, bob, wanted_gift):
        before = wanted_gift.updated_at

        services.claim_gift(bob, wanted_gift)
        services.purchase_gift(bob, wanted_gift)

        wanted_gift.refresh_from_db()
        assert wanted_gift.status == "purchased"
        assert wanted_gift.updated_at == before


ILLEGAL = [
    # (gift fixture, actor fixture, action, code)
    ("wanted_gift", "alice", "claim", "own_list"),
    ("claimed_gift", "alice", "claim", "own_list"),
    ("purchased_gift", "alice", "claim", "own_list"),
    ("claimed_gift", "alice", "unclaim", "own_list"),
    ("wanted_gift", "alice", "purchase", "own_list"),
    ("claimed_gift", "alice", "purchase", "own_list"),
    ("claimed_gift", "erin", "claim", "already_claimed"),
    ("claimed_gift", "bob", "claim", "already_claimed"),
    ("purchased_gift", "erin", "claim", "already_purchased"),
    ("wanted_gift", "bob", "unclaim", "not_claimed"),
    ("claimed_gift", "erin", "unclaim", "not_claimer"),
    ("claimed_gift", "carol", "unclaim", "not_claimer"),
    ("purchased_gift", "bob", "unclaim", "already_purchased"),
    ("claimed_gift", "erin", "purchase", "not_claimer"),
    ("purchased_gift", "bob", "purchase", "already_purchased"),
    ("purchased_gift", "erin", "purchase", "already_purchased"),
]


@pytest.mark.parametrize(("gift_name", "actor_name", "verb", "code"), ILLEGAL)
def test_illegal_transitions_answer_409_and_change_nothing(
    request, api, gift_name, actor_name, verb, code
):
    gift = request.getfixturevalue(gift_name)
    actor = request.getfixturevalue(actor_name)
    before = Gift.objects.filter(pk=gift.pk).values_list().get()

    response = post(api(actor), gift, verb)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert Gift.objects.filter(pk=gift.pk).values_list().get() == before


def test_the_owner_gets_the_same_refusal_whatever_the_gift_state(
    api, alice, wanted_gift, claimed_gift, purchased_gift
):
    """A refusal must not tell the owner whether a gift was claimed."""
    client = api(alice)

    bodies = [post(client, g, "claim").json() for g in (wanted_gift, claimed_gift)]
    bodies.append(post(client, purchased_gift, "claim").json())

    assert bodies[0] == bodies[1] == bodies[2]


def test_transitions_via_services_refuse_non_members(dave, wanted_gift):
    with pytest.raises(NotAMember):
        services.claim_gift(dave, wanted_gift)


def test_services_raise_transition_not_allowed(alice, wanted_gift):
    with pytest.raises(TransitionNotAllowed) as caught:
        services.claim_gift(alice, wanted_gift)

    assert caught.value.code == "own_list"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_cannot_both_win(alice, bob, erin, family):
    """The first claim holds the lock (PostgreSQL: the row; SQLite: the database,
    taken by its IMMEDIATE transactions); the second waits, then is refused."""
    gift_list = services.create_gift_list(alice, family, "Race")
    gift = services.create_gift(alice, gift_list, "Only one")
    first_saving = threading.Event()
    results: dict[str, str] = {}
    original_save = Gift.save

    def slow_save(self, *args, **kwargs):
        if threading.current_thread().name == "first":
            first_saving.set()
            time.sleep(0.5)  # the second claim arrives while this one holds
        return original_save(self, *args, **kwargs)

    def claim(actor, name):
        try:
            if name == "second":
                first_saving.wait(5)
            with transaction.atomic():
                services.claim_gift(actor, Gift.objects.get(pk=gift.pk))
            results[name] = "won"
        except TransitionNotAllowed as exc:
            results[name] = exc.code
        finally:
            connection.close()

    Gift.save = slow_save
    try:
        threads = [
            threading.Thread(target=claim, args=(bob, "first"), name="first"),
            threading.Thread(target=claim, args=(erin, "second"), name="second"),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
    finally:
        Gift.save = original_save

    assert results == {"first": "won", "second": "already_claimed"}
    gift.refresh_from_db()
    assert gift.claimed_by == bob
