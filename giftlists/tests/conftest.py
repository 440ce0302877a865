"""Shared fixtures: one family with a list in every claim state, and outsiders.

alice created the family (its admin) and owns the list; bob and erin are
members who accepted her invitations; carol is staff (and superuser) but no
member; dave belongs to another family only.
"""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from giftlists import services
from giftlists.models import Family, Gift, GiftList

from .helpers import join

User = get_user_model()


@pytest.fixture(autouse=True)
def no_sign_in_failures_counted():
    """Every test signs in from 127.0.0.1: start each with no failures counted
    (the test settings keep the cache in this process)."""
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash passwords cheaply: tests create many users, none needs real security."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Each test starts with no requests counted against the API's rate limits."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="alice-password-1")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", password="bob-password-1")


@pytest.fixture
def erin(db):
    return User.objects.create_user("erin", password="erin-password-1")


@pytest.fixture
def carol(db):
    return User.objects.create_user(
        "carol", password="carol-password-1", is_staff=True, is_superuser=True
    )


@pytest.fixture
def dave(db):
    return User.objects.create_user("dave", password="dave-password-1")


@pytest.fixture
def family(alice, bob, erin) -> Family:
    family = services.create_family(alice, "The Testers")
    join(bob, family, invited_by=alice)
    join(erin, family, invited_by=alice)
    return family


@pytest.fixture
def other_family(dave) -> Family:
    return services.create_family(dave, "Dave's Kin")


@pytest.fixture
def gift_list(family, alice) -> GiftList:
    return services.create_gift_list(alice, family, "Alice's birthday")


@pytest.fixture
def other_list(other_family, dave) -> GiftList:
    return services.create_gift_list(dave, other_family, "Dave's list")


@pytest.fixture
def wanted_gift(gift_list, alice) -> Gift:
    return services.create_gift(alice, gift_list, "Kite", price=Decimal("12.50"))


@pytest.fixture
def claimed_gift(gift_list, alice, bob) -> Gift:
    gift = services.create_gift(alice, gift_list, "Book")
    return services.claim_gift(bob, gift)


@pytest.fixture
def purchased_gift(gift_list, alice, bob) -> Gift:
    gift = services.create_gift(alice, gift_list, "Scarf")
    return services.purchase_gift(bob, gift)


@pytest.fixture
def api() -> Callable[..., APIClient]:
    """A factory of API clients authenticated as a user (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make
