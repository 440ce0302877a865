"""A family's members: listed in the order they joined; anyone may leave, and
only a family admin (the family's creator at first) or staff removes others.
"""

from giftlists.models import Membership

from .helpers import join, snapshot


def members(client, family) -> list[str]:
    response = client.get(f"/api/families/{family.pk}/members/")
    return [member["username"] for member in response.json()["results"]]


def test_members_are_listed_in_the_order_they_joined_with_the_admin(api, bob, family):
    response = api(bob).get(f"/api/families/{family.pk}/members/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    rows = [(m["username"], m["is_admin"]) for m in data["results"]]
    assert rows == [("alice", True), ("bob", False), ("erin", False)]
    assert set(data["results"][0]) == {"id", "username", "is_admin", "joined_at"}


def test_the_creator_of_a_family_is_its_admin(api, dave):
    family = api(dave).post("/api/families/", {"name": "Dave's"}, format="json")

    listed = api(dave).get(f"/api/families/{family.json()['id']}/members/")
    assert [(m["username"], m["is_admin"]) for m in listed.json()["results"]] == [
        ("dave", True)
    ]


def test_anyone_may_leave(api, erin, family):
    response = api(erin).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 204
    assert not family.memberships.filter(user=erin).exists()


def test_the_admin_removes_a_member(api, alice, erin, family):
    response = api(alice).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 204
    assert members(api(alice), family) == ["alice", "bob"]


def test_a_member_who_is_no_admin_cannot_remove_another(api, bob, erin, family):
    before = snapshot()

    response = api(bob).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only a family admin may remove other members.",
        "code": "permission_denied",
    }
    assert snapshot() == before


def test_when_the_admin_leaves_the_longest_standing_member_takes_over(
    api, alice, bob, erin, family
):
    api(alice).delete(f"/api/families/{family.pk}/members/{alice.pk}/")

    response = api(bob).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 204
    assert Membership.objects.get(family=family, user=bob).is_admin


def test_a_new_member_is_no_admin(alice, dave, family):
    assert join(dave, family, invited_by=alice).is_admin is False
