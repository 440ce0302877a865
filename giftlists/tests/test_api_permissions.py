"""Who may call which route: the permission matrix of the REST API.

Roles: ``owner`` owns the list (alice, who also created the family and is its
admin), ``member`` is another member of its family (bob, who also claimed the
claimed gift), ``staff`` is a staff user who is no member (carol),
``non_member`` belongs to another family (dave), and ``anonymous`` sends no
credentials.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from giftlists import services

from .helpers import snapshot

User = get_user_model()
ROLES = ["owner", "member", "staff", "non_member", "anonymous"]


@dataclass(frozen=True)
class Route:
    method: str
    path: Callable[[dict], str]
    expect: dict[str, int]
    body: Callable[[dict], dict] | None = None
    #: Roles for whom the call succeeds without writing anything.
    writes_nothing_for: frozenset[str] = frozenset()


def everyone(code: int, anonymous: int = 401) -> dict[str, int]:
    return {role: code for role in ROLES[:-1]} | {"anonymous": anonymous}


def by_role(owner: int, member: int, staff: int, non_member: int) -> dict[str, int]:
    return {
        "owner": owner,
        "member": member,
        "staff": staff,
        "non_member": non_member,
        "anonymous": 401,
    }


ROUTES: dict[str, Route] = {
    "list families": Route("get", lambda w: "/api/families/", everyone(200)),
    "create family": Route(
        "post", lambda w: "/api/families/", everyone(201), lambda w: {"name": "New"}
    ),
    "get family": Route(
        "get", lambda w: f"/api/families/{w['family'].pk}/", by_role(200, 200, 200, 404)
    ),
    "rename family": Route(
        "patch",
        lambda w: f"/api/families/{w['family'].pk}/",
        by_role(200, 200, 200, 404),
        lambda w: {"name": "Renamed"},
    ),
    "delete family": Route(
        "delete", lambda w: f"/api/families/{w['family'].pk}/", everyone(405)
    ),
    "list members": Route(
        "get",
        lambda w: f"/api/families/{w['family'].pk}/members/",
        by_role(200, 200, 200, 404),
    ),
    "add member without consent (removed)": Route(
        "post",
        lambda w: f"/api/families/{w['family'].pk}/members/",
        everyone(405),
        lambda w: {"username": "frank"},
    ),
    "remove member bob": Route(
        "delete",
        lambda w: f"/api/families/{w['family'].pk}/members/{w['bob'].pk}/",
        by_role(204, 204, 204, 404),
    ),
    "remove member erin": Route(
        "delete",
        lambda w: f"/api/families/{w['family'].pk}/members/{w['erin'].pk}/",
        by_role(204, 403, 204, 404),
    ),
    "invite": Route(
        "post",
        lambda w: f"/api/families/{w['family'].pk}/invitations/",
        by_role(201, 201, 201, 404),
        lambda w: {"username": "frank"},
    ),
    "accept an invitation": Route(
        "post",
        lambda w: f"/api/invitations/{w['token']}/accept/",
        by_role(200, 200, 201, 201),
        writes_nothing_for=frozenset({"owner", "member"}),
    ),
    "list gift lists": Route("get", lambda w: "/api/gift-lists/", everyone(200)),
    "create gift list": Route(
        "post",
        lambda w: "/api/gift-lists/",
        by_role(201, 201, 201, 400),
        lambda w: {"family": w["family"].pk, "title": "Wedding"},
    ),
    "get gift list": Route(
        "get",
        lambda w: f"/api/gift-lists/{w['list'].pk}/",
        by_role(200, 200, 200, 404),
    ),
    "patch gift list": Route(
        "patch",
        lambda w: f"/api/gift-lists/{w['list'].pk}/",
        by_role(200, 403, 200, 404),
        lambda w: {"title": "Alice turns 40"},
    ),
    "put gift list": Route(
        "put",
        lambda w: f"/api/gift-lists/{w['list'].pk}/",
        everyone(405),
        lambda w: {"family": w["family"].pk, "title": "Alice turns 40"},
    ),
    "delete gift list": Route(
        "delete",
        lambda w: f"/api/gift-lists/{w['list'].pk}/",
        by_role(204, 403, 204, 404),
    ),
    "list gifts": Route("get", lambda w: "/api/gifts/", everyone(200)),
    "create gift": Route(
        "post",
        lambda w: "/api/gifts/",
        by_role(201, 201, 201, 400),
        lambda w: {"list": w["list"].pk, "title": "Umbrella"},
    ),
    "get gift": Route(
        "get", lambda w: f"/api/gifts/{w['wanted'].pk}/", by_role(200, 200, 200, 404)
    ),
    "patch gift": Route(
        "patch",
        lambda w: f"/api/gifts/{w['wanted'].pk}/",
        by_role(200, 403, 200, 404),
        lambda w: {"title": "Red kite"},
    ),
    "put gift": Route(
        "put",
        lambda w: f"/api/gifts/{w['wanted'].pk}/",
        everyone(405),
        lambda w: {"list": w["list"].pk, "title": "Red kite"},
    ),
    "delete gift": Route(
        "delete",
        lambda w: f"/api/gifts/{w['wanted'].pk}/",
        by_role(204, 403, 204, 404),
    ),
    "claim wanted gift": Route(
        "post",
        lambda w: f"/api/gifts/{w['wanted'].pk}/claim/",
        by_role(409, 200, 200, 404),
    ),
    "unclaim bob's claim": Route(
        "post",
        lambda w: f"/api/gifts/{w['claimed'].pk}/unclaim/",
        by_role(409, 200, 409, 404),
    ),
    "purchase bob's claim": Route(
        "post",
        lambda w: f"/api/gifts/{w['claimed'].pk}/purchase/",
        by_role(409, 200, 409, 404),
    ),
    "purchase wanted gift": Route(
        "post",
        lambda w: f"/api/gifts/{w['wanted'].pk}/purchase/",
        by_role(409, 200, 200, 404),
    ),
}


@pytest.fixture
def world(
    alice,
    bob,
    carol,
    dave,
    erin,
    family,
    other_family,
    gift_list,
    wanted_gift,
    claimed_gift,
) -> dict[str, Any]:
    User.objects.create_user("frank", password="frank-password-1")
    _, token = services.create_invitation(alice, family)
    return {
        "owner": alice,
        "member": bob,
        "staff": carol,
        "non_member": dave,
        "anonymous": None,
        "bob": bob,
        "erin": erin,
        "token": token,
        "family": family,
        "list": gift_list,
        "wanted": wanted_gift,
        "claimed": claimed_gift,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(ROUTES))
def test_permission_matrix(name, role, world, api):
    """Each role gets the status the matrix promises; refusals write nothing."""
    route = ROUTES[name]
    client = api(world[role])
    body = route.body(world) if route.body else None
    before = snapshot()

    response = getattr(client, route.method)(route.path(world), body, format="json")

    assert response.status_code == route.expect[role], response.content
    if response.status_code >= 400:
        assert snapshot() == before
        assert "detail" in response.json() or route.expect[role] == 400
    elif route.method != "get" and role not in route.writes_nothing_for:
        assert snapshot() != before
    else:
        assert snapshot() == before


def test_every_route_of_the_api_is_in_the_matrix():
    """No route escapes the matrix: each router pattern appears in it."""
    from giftlists.api_urls import urlpatterns

    covered = {
        "family-list",
        "family-detail",
        "family-members",
        "family-member",
        "family-invitations",
        "invitation-accept",
        "gift-list-list",
        "gift-list-detail",
        "gift-list",
        "gift-detail",
        "gift-claim",
        "gift-unclaim",
        "gift-purchase",
    }
    assert {pattern.name for pattern in urlpatterns} == covered


def test_anonymous_requests_are_refused_with_a_reason(db):
    response = APIClient().get("/api/gifts/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "detail": "Authentication credentials were not provided."
    }


def test_non_member_sees_only_rows_of_their_own_families(
    api, dave, other_list, gift_list, wanted_gift
):
    client = api(dave)

    families = client.get("/api/families/").json()["results"]
    lists = client.get("/api/gift-lists/").json()["results"]
    gifts = client.get("/api/gifts/").json()["results"]

    assert [f["name"] for f in families] == ["Dave's Kin"]
    assert [g["title"] for g in lists] == ["Dave's list"]
    assert gifts == []


def test_member_sees_the_family_lists_and_gifts(
    api, bob, gift_list, other_list, wanted_gift, claimed_gift
):
    client = api(bob)

    lists = client.get("/api/gift-lists/").json()["results"]
    gifts = client.get("/api/gifts/").json()["results"]

    assert [item["id"] for item in lists] == [gift_list.pk]
    assert {g["id"] for g in gifts} == {wanted_gift.pk, claimed_gift.pk}


def test_staff_sees_every_family(api, carol, family, other_family):
    names = {f["name"] for f in api(carol).get("/api/families/").json()["results"]}

    assert names == {"The Testers", "Dave's Kin"}


def test_family_shows_members_in_the_order_they_joined(api, bob, family):
    data = api(bob).get(f"/api/families/{family.pk}/").json()

    assert [m["username"] for m in data["members"]] == ["alice", "bob", "erin"]
    assert set(data) == {"id", "name", "currency", "members", "created_at"}


def test_creating_a_family_makes_the_creator_its_member(api, dave):
    response = api(dave).post("/api/families/", {"name": "Newcomers"}, format="json")

    assert response.status_code == 201
    assert [m["username"] for m in response.json()["members"]] == ["dave"]


def test_a_member_who_leaves_no_longer_sees_the_family(api, bob, family, gift_list):
    client = api(bob)

    response = client.delete(f"/api/families/{family.pk}/members/{bob.pk}/")

    assert response.status_code == 204
    assert client.get(f"/api/families/{family.pk}/").status_code == 404
    assert client.get(f"/api/gift-lists/{gift_list.pk}/").status_code == 404


def test_removing_someone_who_is_not_a_member_is_a_400(api, carol, dave, family):
    before = snapshot()

    response = api(carol).delete(f"/api/families/{family.pk}/members/{dave.pk}/")

    assert response.status_code == 400
    assert "user" in response.json()
    assert snapshot() == before


def test_creating_a_list_makes_the_creator_its_owner(api, bob, family):
    response = api(bob).post(
        "/api/gift-lists/", {"family": family.pk, "title": "Bob's"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["owner"] == bob.pk
    assert response.json()["owner_username"] == "bob"


def test_new_gifts_are_wanted_and_unclaimed(api, bob, gift_list):
    response = api(bob).post(
        "/api/gifts/",
        {"list": gift_list.pk, "title": "Lego set", "price": "59.99"},
        format="json",
    )

    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "wanted"
    assert data["claimed_by"] is None
    assert data["price"] == "59.99"
    assert data["url"] == "" and data["notes"] == ""


class TestTokenAuthentication:
    def test_good_credentials_get_a_token_that_authenticates(self, alice, family):
        response = APIClient().post(
            "/api/auth/token/",
            {"username": "alice", "password": "alice-password-1"},
            format="json",
        )

        assert response.status_code == 200
        token = response.json()["token"]
        assert token == Token.objects.get(user=alice).key
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        names = [f["name"] for f in client.get("/api/families/").json()["results"]]
        assert names == ["The Testers"]

    def test_bad_credentials_get_a_400(self, alice):
        response = APIClient().post(
            "/api/auth/token/",
            {"username": "alice", "password": "wrong"},
            format="json",
        )

        assert response.status_code == 400
        assert "non_field_errors" in response.json()

    def test_an_unknown_token_is_refused(self, db):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

        response = client.get("/api/families/")

        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}


class TestPagination:
    @pytest.mark.parametrize(
        "path", ["/api/families/", "/api/gift-lists/", "/api/gifts/"]
    )
    def test_list_endpoints_are_paginated(self, api, bob, wanted_gift, path):
        data = api(bob).get(path).json()

        assert set(data) == {"count", "next", "previous", "results"}
        assert data["count"] == len(data["results"]) == 1

    def test_more_than_a_page_of_gifts_spreads_over_pages(
        self, api, alice, bob, gift_list
    ):
        from giftlists import services

        for number in range(51):
            services.create_gift(alice, gift_list, f"Gift {number}")
        client = api(bob)

        first = client.get(f"/api/gifts/?list={gift_list.pk}").json()
        second = client.get(first["next"]).json()

        assert first["count"] == 51
        assert len(first["results"]) == 50
        assert [g["title"] for g in second["results"]] == ["Gift 50"]


def test_listing_gifts_takes_a_constant_number_of_queries(
    api, alice, bob, gift_list, django_assert_max_num_queries
):
    from giftlists import services

    for number in range(20):
        gift = services.create_gift(alice, gift_list, f"Gift {number}")
        if number % 2:
            services.claim_gift(bob, gift)
    client = api(alice)

    with django_assert_max_num_queries(4):
        response = client.get("/api/gifts/")

    assert response.status_code == 200
    assert response.json()["count"] == 20
