"""``manage.py seed_demo``: a small demo family, in an empty database only.

A database that already holds accounts or families is left as it is (the
command says so), so ``make run`` keeps whatever changed since the last run.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from giftlists.models import Family, Gift, GiftList, Membership

FAMILY_NAME = "The Demo Family"
#: The demo family's admin, as if she had created it: she may remove members.
FAMILY_ADMIN = "alice"
#: Where the site is served unless ``--base-url`` says otherwise (runserver's
#: default; ``make run`` passes its HOST and PORT).
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    is_staff: bool = False


DEMO_USERS = [
    DemoUser("alice", "giftlists-alice"),
    DemoUser("bob", "giftlists-bob"),
    DemoUser("carol", "giftlists-carol", is_staff=True),
]

# list title -> (owner, occasion date, gifts as (title, price, status, claimer))
DEMO_LISTS: dict[str, tuple[str, date, list[tuple[str, str, str, str | None]]]] = {
    "Alice's birthday": (
        "alice",
        date(2027, 3, 14),
        [
            ("Board game night set", "39.90", Gift.Status.WANTED, None),
            ("Cast-iron skillet", "54.00", Gift.Status.CLAIMED, "bob"),
            ("Noise-cancelling headphones", "199.00", Gift.Status.PURCHASED, "carol"),
        ],
    ),
    "Bob's holidays": (
        "bob",
        date(2026, 12, 24),
        [
            ("Hiking socks", "18.50", Gift.Status.WANTED, None),
            ("Insulated travel mug", "24.00", Gift.Status.CLAIMED, "alice"),
            ("1000-piece puzzle", "21.99", Gift.Status.PURCHASED, "carol"),
        ],
    ),
}


class Command(BaseCommand):
    help = (
        "Create the demo users (alice, bob, carol), their family, two gift "
        "lists with gifts in every state, and API tokens, in an empty database; "
        "a database with accounts or families in it is left as it is."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url",
            default=DEFAULT_BASE_URL,
            help=f"Where the site is served, for the links printed (default: "
            f"{DEFAULT_BASE_URL}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base_url = options["base_url"].rstrip("/")
        with transaction.atomic():
            users_found = get_user_model().objects.count()
            families_found = Family.objects.count()
            if users_found or families_found:
                self._report_skipped(base_url, users_found, families_found)
                return
            tokens = self._seed()
        self._report(base_url, tokens)

    def _seed(self) -> dict[str, str]:
        users = {demo.username: self._user(demo) for demo in DEMO_USERS}
        family = Family.objects.create(name=FAMILY_NAME)
        # Members are written directly: the demo stands for invitations its
        # people accepted long ago.
        for name, user in users.items():
            Membership.objects.create(
                family=family, user=user, is_admin=name == FAMILY_ADMIN
            )
        for title, (owner, when, gifts) in DEMO_LISTS.items():
            gift_list = GiftList.objects.create(
                family=family, title=title, owner=users[owner], occasion_date=when
            )
            for gift_title, price, status, claimer in gifts:
                Gift.objects.create(
                    list=gift_list,
                    title=gift_title,
                    price=Decimal(price),
                    status=status,
                    claimed_by=users[claimer] if claimer else None,
                )
        return {
            name: Token.objects.create(user=user).key for name, user in users.items()
        }

    def _user(self, demo: DemoUser) -> Any:
        return get_user_model().objects.create_user(
            demo.username,
            password=demo.password,
            is_staff=demo.is_staff,
            is_superuser=demo.is_staff,
        )

    def _report(self, base_url: str, tokens: dict[str, str]) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo data ready: family {FAMILY_NAME!r}."))
        self._where(base_url)
        write(f"{FAMILY_ADMIN} is the family's admin; members invite others.")
        write("Users (username / password, API token):")
        for demo in DEMO_USERS:
            role = " (staff, superuser)" if demo.is_staff else ""
            write(
                f"  {demo.username} / {demo.password}{role}"
                f"  token: {tokens[demo.username]}"
            )

    def _report_skipped(self, base_url: str, users: int, families: int) -> None:
        write = self.stdout.write
        kin = "family" if families == 1 else "families"
        write(
            self.style.WARNING(
                f"Skipped seeding: the database already holds {users} account(s) "
                f"and {families} {kin}. Nothing was changed."
            )
        )
        self._where(base_url)
        # Read, never made: a skipped run writes nothing.
        tokens = dict(
            Token.objects.filter(
                user__username__in=[demo.username for demo in DEMO_USERS]
            ).values_list("user__username", "key")
        )
        write("Demo users, unless changed since (username / password, API token):")
        for demo in DEMO_USERS:
            token = tokens.get(demo.username, "none")
            write(f"  {demo.username} / {demo.password}  token: {token}")
        write(
            "For a fresh demo, delete the database (db.sqlite3, unless "
            "DATABASE_URL names another) and run this again."
        )

    def _where(self, base_url: str) -> None:
        write = self.stdout.write
        write(f"Log in at {base_url}/accounts/login/ (or sign up there)")
        write(f"Admin (carol) at {base_url}/admin/")
