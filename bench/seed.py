"""Seed a benchmark database through the ORM; print what the load needs as JSON.

Run with the site's environment: ``python -m bench.seed USERS LISTS``. Creates
one family, a writer who owns LISTS gift lists, USERS subscribers who are
members, and a token for everyone. Bulk inserts send no signals, so seeding
publishes nothing and every topic starts at seq 0.
"""

import json
import os
import sys


def seed(users: int, lists: int) -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from giftlists.models import Family, GiftList, Membership

    user_model = get_user_model()
    family = Family.objects.create(name="Bench family")
    people = user_model.objects.bulk_create(
        [user_model(username="bench-writer")]
        + [user_model(username=f"bench-{n}") for n in range(users)]
    )
    for person in people:
        person.set_unusable_password()
    user_model.objects.bulk_update(people, ["password"])
    Membership.objects.bulk_create(
        [Membership(family=family, user=person) for person in people]
    )
    tokens = Token.objects.bulk_create(
        [Token(user=person, key=Token.generate_key()) for person in people]
    )
    writer = people[0]
    gift_lists = GiftList.objects.bulk_create(
        [
            GiftList(family=family, owner=writer, title=f"Bench list {n}")
            for n in range(lists)
        ]
    )
    return {
        "family": family.pk,
        "writer_token": tokens[0].key,
        "tokens": [token.key for token in tokens[1:]],
        "lists": [gift_list.pk for gift_list in gift_lists],
    }


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    print(json.dumps(seed(int(sys.argv[1]), int(sys.argv[2]))))
