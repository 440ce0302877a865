"""The claim state machine: wanted -> claimed -> purchased, and its refusals."""

import threading

import pytest
from django.db import connection

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


# Seconds a claim waits for the other's signal: a hang guard, never reached when
# the claims behave.
SIGNAL_WAIT = 20


def is_gift_statement(sql: str, verb: str) -> bool:
    return sql.startswith(verb) and f'"{Gift._meta.db_table}"' in sql


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_claims_cannot_both_win(alice, bob, erin, family):
    """The second claim reaches the gift while the first holds it unsaved, and
    waits: it reads the gift only after the first has saved, and is refused.
    The lock is the row on PostgreSQL, the database on SQLite (its IMMEDIATE
    transactions); without it the second reads a wanted gift and both win."""
    gift_list = services.create_gift_list(alice, family, "Race")
    gift = services.create_gift(alice, gift_list, "Only one")
    first_holds = threading.Event()  # the first claim has read the gift, unsaved
    second_arrived = threading.Event()  # the second is at the lock, or past it
    order: list[str] = []
    outcomes: dict[str, object] = {}

    def first_saves_once_the_second_arrived(execute, sql, params, many, context):
        if is_gift_statement(sql, "UPDATE"):
            first_holds.set()
            assert second_arrived.wait(SIGNAL_WAIT), "the second claim never came"
            order.append("first saves")
        return execute(sql, params, many, context)

    def second_says_where_it_is(execute, sql, params, many, context):
        if "FOR UPDATE" in sql or sql.startswith("BEGIN IMMEDIATE"):
            second_arrived.set()  # it may wait here for the first's commit
        result = execute(sql, params, many, context)
        if is_gift_statement(sql, "SELECT"):
            order.append("second reads the gift")
            second_arrived.set()  # nothing made it wait
        return result

    def claim(actor, name, wrapper, after=None):
        try:
            if after is not None:
                assert after.wait(SIGNAL_WAIT), f"{name}: the first claim never held"
            with connection.execute_wrapper(wrapper):
                services.claim_gift(actor, gift)
            outcomes[name] = "won"
        except TransitionNotAllowed as refused:
            outcomes[name] = refused.code
        except BaseException as error:
            outcomes[name] = error
        finally:
            # Whatever happened, the other claim is not left waiting for this one.
            first_holds.set()
            second_arrived.set()
            connection.close()

    threads = [
        threading.Thread(
            target=claim, args=(bob, "first", first_saves_once_the_second_arrived)
        ),
        threading.Thread(
            target=claim, args=(erin, "second", second_says_where_it_is, first_holds)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for outcome in outcomes.values():
        if isinstance(outcome, BaseException):
            raise outcome

    assert outcomes == {"first": "won", "second": "already_claimed"}
    assert order == ["first saves", "second reads the gift"]
    gift.refresh_from_db()
    assert gift.claimed_by == bob
