"""``manage.py seed_demo``: a small demo family, safe to run again and again."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import models, transaction
from rest_framework.authtoken.models import Token

from giftlists.models import Family, Gift, GiftList, Membership

FAMILY_NAME = "The Demo Family"
#: The demo family's admin, as if she had created it: she may remove members.
FAMILY_ADMIN = "alice"
LOGIN_URL = "http://127.0.0.1:8000/accounts/login/"
ADMIN_URL = "http://127.0.0.1:8000/admin/"


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


def ensure(
    model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
) -> models.Model:
    """Get or create the row matching ``lookup`` and give it ``values``.

    Saves only when something differs, so a second run writes nothing (and
    broadcasts nothing).
    """
    obj = model._default_manager.filter(**lookup).order_by("pk").first()
    if obj is None:
        obj = model(**lookup, **values)
        obj.save()
        return obj
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if changed:
        obj.save(update_fields=changed)
    return obj


class Command(BaseCommand):
    help = (
        "Create or reset the demo users (alice, bob, carol), their family, two "
        "gift lists with gifts in every state, and API tokens. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            users = {demo.username: self._user(demo) for demo in DEMO_USERS}
            family = ensure(Family, {"name": FAMILY_NAME}, {})
            # Members are written directly: the demo stands for invitations
            # its people accepted long ago.
            for name, user in users.items():
                ensure(
                    Membership,
                    {"family": family, "user": user},
                    {"is_admin": name == FAMILY_ADMIN},
                )
            for title, (owner, when, gifts) in DEMO_LISTS.items():
                gift_list = ensure(
                    GiftList,
                    {"family": family, "title": title},
                    {"owner": users[owner], "occasion_date": when},
                )
                for gift_title, price, status, claimer in gifts:
                    ensure(
                        Gift,
                        {"list": gift_list, "title": gift_title},
                        {
                            "price": Decimal(price),
                            "status": status,
                            "claimed_by": users[claimer] if claimer else None,
                            "url": "",
                            "notes": "",
                        },
                    )
            tokens = {
                name: Token.objects.get_or_create(user=user)[0].key
                for name, user in users.items()
            }
        self._report(tokens)

    def _user(self, demo: DemoUser) -> Any:
        user = ensure(
            get_user_model(),
            {"username": demo.username},
            {
                "is_staff": demo.is_staff,
                "is_superuser": demo.is_staff,
                "is_active": True,
            },
        )
        if not user.check_password(demo.password):
            user.set_password(demo.password)
            user.save(update_fields=["password"])
        return user

    def _report(self, tokens: dict[str, str]) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo data ready: family {FAMILY_NAME!r}."))
        write(f"Log in at {LOGIN_URL}")
        write(f"Admin (carol) at {ADMIN_URL}")
        write(f"{FAMILY_ADMIN} is the family's admin; members invite others.")
        write("Users (username / password, API token):")
        for demo in DEMO_USERS:
            role = " (staff, superuser)" if demo.is_staff else ""
            write(
                f"  {demo.username} / {demo.password}{role}"
                f"  token: {tokens[demo.username]}"
            )
