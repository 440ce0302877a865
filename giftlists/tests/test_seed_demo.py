"""``seed_demo`` builds the demo in an empty database, and leaves a database
that holds anything as it is, saying so."""

import shutil
import subprocess
from decimal import Decimal
from io import StringIO
from pathlib import Path

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


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
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
def test_seeding_again_keeps_what_changed_in_between_and_says_it_skipped(client):
    seed()
    alice = User.objects.get(username="alice")
    alice.set_password("something-else")
    alice.save()
    gift = Gift.objects.get(title="Board game night set")
    gift.price = Decimal("44.00")
    gift.save()
    renamed = Gift.objects.get(title="Hiking socks")
    renamed.title = "Wool hiking socks"
    renamed.save()
    claimed = Gift.objects.get(title="Cast-iron skillet")
    claimed.status = "wanted"
    claimed.claimed_by = None
    claimed.save()
    changed = snapshot()

    output = seed()

    assert "Skipped seeding" in output and "Nothing was changed" in output
    assert snapshot() == changed
    assert Gift.objects.get(title="Board game night set").price == Decimal("44.00")
    assert not Gift.objects.filter(title="Hiking socks").exists()
    assert Gift.objects.filter(title="Wool hiking socks").count() == 1
    assert Gift.objects.get(title="Cast-iron skillet").status == "wanted"
    assert client.login(username="alice", password="something-else")


@pytest.mark.django_db
def test_a_database_with_any_account_is_not_seeded():
    User.objects.create_user("someone", password="x")

    output = seed()

    assert "Skipped seeding" in output
    assert "1 account(s) and 0 families" in output
    assert Family.objects.count() == 0
    assert list(User.objects.values_list("username", flat=True)) == ["someone"]


@pytest.mark.django_db
def test_the_printed_links_name_the_host_and_port_given():
    first = seed("--base-url", "http://0.0.0.0:18200/")
    again = seed("--base-url", "http://0.0.0.0:18200")

    for output in (first, again):
        assert "http://0.0.0.0:18200/accounts/login/" in output
        assert "http://0.0.0.0:18200/admin/" in output
        assert ":8000" not in output


@pytest.mark.django_db
def test_a_skipped_run_still_prints_the_demo_users_tokens():
    seed()

    output = seed()

    for token in Token.objects.select_related("user"):
        assert f"{token.user.username} / " in output
        assert token.key in output


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_seeds_and_serves_on_its_host_and_port():
    root = Path(__file__).resolve().parents[2]

    # -n: the commands make would run, none of them run.
    shown = subprocess.run(
        ["make", "-n", "run", "HOST=0.0.0.0", "PORT=18200"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "manage.py seed_demo --base-url http://0.0.0.0:18200" in shown
    assert "manage.py runserver 0.0.0.0:18200" in shown
