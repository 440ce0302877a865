"""Who may remove whom from a family: ``giftlists.rules``.

alice created the family (its admin); bob and erin are members; carol is staff
and no member; dave belongs to another family.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from giftlists import rules

from .helpers import join


@pytest.mark.parametrize(
    ("actor", "user", "allowed"),
    [
        ("bob", "bob", True),  # anyone may leave
        ("alice", "alice", True),  # the admin too
        ("alice", "bob", True),  # the admin removes others
        ("bob", "erin", False),  # a member who is no admin does not
        ("bob", "alice", False),  # not even the admin
        ("carol", "bob", True),  # staff remove anyone
        ("dave", "bob", False),  # outsiders remove nobody
        ("dave", "dave", False),  # nor leave a family they are not in
    ],
)
def test_who_may_remove_whom(request, family, carol, dave, actor, user, allowed):
    people = {name: request.getfixturevalue(name) for name in {actor, user}}

    assert rules.can_remove_member(people[actor], family, people[user]) is allowed


def test_anonymous_visitors_remove_nobody(family, bob):
    assert rules.can_remove_member(AnonymousUser(), family, bob) is False


def test_the_creator_is_the_family_admin_and_joining_makes_nobody_admin(
    family, alice, bob, carol, dave
):
    join(dave, family, invited_by=bob)

    assert rules.is_family_admin(alice, family)
    assert not rules.is_family_admin(bob, family)
    assert not rules.is_family_admin(dave, family)
    assert rules.is_family_admin(carol, family)  # staff
    assert not rules.is_family_admin(AnonymousUser(), family)


def test_an_admin_of_one_family_is_no_admin_of_another(other_family, dave, alice):
    assert rules.is_family_admin(dave, other_family)
    assert not rules.can_remove_member(alice, other_family, dave)
