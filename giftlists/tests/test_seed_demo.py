"""``seed_demo`` builds the demo and leaves the same data however often it runs."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from giftlists.models import Family, Gift, GiftList, Membership

from .helpers import snapshot

User = get_user_model()
PASSWORDS = {
    "alice": "giftlists-alice",
    "bob": "giftlists-bob",
    "carol": "giftlists-carol",
}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def users_snapshot() -> list:
    return list(
        User.objects.order_by("pk").values_list(
            "pk", "username", "password", "is_staff", "is_superuser", "is_active"
        )
    )


def tokens_snapshot() -> list:
    return list(Token.objects.order_by("user_id").values_list("user_id", "key"))


@pytest.mark.django_db
def test_seed_builds_the_demo_family():
    seed()

    family = Family.objects.get(name="The Demo Family")
    members = set(family.memberships.values_list("user__username", flat=True))
    assert members == {"alice", "bob", "carol"}
    admins = family.memberships.filter(is_admin=True)
    assert list(admins.values_list("user__username", flat=True)) == ["alice"]
    lists = {gl.title: gl for gl in GiftList.objects.filter(family=family)}
    assert set(lists) == {"Alice's birthday", "Bob's holidays"}
    assert lists["Alice's birthday"].owner.username == "alice"
    assert lists["Bob's holidays"].owner.username == "bob"
    for gift_list in lists.values():
        gifts = list(gift_list.gifts.all())
        assert {g.status for g in gifts} == {"wanted", "claimed", "purchased"}
        for gift in gifts:
            if gift.status == "wanted":
                assert gift.claimed_by is None
            else:
                assert gift.claimed_by not in (None, gift_list.owner)


@pytest.mark.django_db
def test_seed_users_can_log_in_with_the_printed_passwords(client):
    output = seed()

    for username, password in PASSWORDS.items():
        assert f"{username} / {password}" in output
        assert client.login(username=username, password=password)
    carol = User.objects.get(username="carol")
    assert carol.is_staff and carol.is_superuser
    assert not User.objects.get(username="alice").is_staff
    assert not User.objects.get(username="bob").is_staff


@pytest.mark.django_db
def test_seed_prints_where_to_log_in_and_the_tokens():
    output = seed()

    assert "http://127.0.0.1:8000/accounts/login/" in output
    assert "/admin/" in output
    for token in Token.objects.select_related("user"):
        assert token.user.username in PASSWORDS
        assert token.key in output
    assert Token.objects.count() == 3


@pytest.mark.django_db
def test_seeding_twice_leaves_identical_data():
    seed()
    first = (snapshot(), users_snapshot(), tokens_snapshot())

    seed()

    assert (snapshot(), users_snapshot(), tokens_snapshot()) == first
    assert Family.objects.count() == 1
    assert Membership.objects.count() == 3
    assert GiftList.objects.count() == 2
    assert Gift.objects.count() == 6


@pytest.mark.django_db
def test_seeding_again_resets_changed_demo_data(client):
    seed()
    first = snapshot()
    alice = User.objects.get(username="alice")
    alice.set_password("something-else")
    alice.save()
    gift = Gift.objects.filter(status="claimed").first()
    gift.status = "wanted"
    gift.claimed_by = None
    gift.save()

    seed()

    assert snapshot()[:3] == first[:3]
    assert [row[:2] for row in snapshot()[3]] == [row[:2] for row in first[3]]
    gift.refresh_from_db()
    assert gift.status == "claimed" and gift.claimed_by is not None
    assert client.login(username="alice", password="giftlists-alice")
