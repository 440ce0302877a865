"""A family's members: anyone may leave, and only a family admin (the family's
creator at first) or staff removes others.
"""

from giftlists import services
from giftlists.models import Membership

from .helpers import snapshot


def test_the_creator_of_a_family_is_its_admin(api, dave):
    response = api(dave).post("/api/families/", {"name": "Dave's"}, format="json")

    assert Membership.objects.get(family_id=response.json()["id"]).is_admin


def test_anyone_may_leave(api, erin, family):
    response = api(erin).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 204
    assert not family.memberships.filter(user=erin).exists()


def test_the_admin_removes_a_member(api, alice, erin, family):
    response = api(alice).delete(f"/api/families/{family.pk}/members/{erin.pk}/")

    assert response.status_code == 204
    assert not family.memberships.filter(user=erin).exists()


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
    assert services.add_member(alice, family, "dave").is_admin is False
