"""The migration that brought family admins names one in every existing family."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("giftlists", "0001_initial")]
AFTER = [("giftlists", "0002_family_admins")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest_afterwards(transactional_db):
    """Whatever happens, the next test finds every migration applied."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_each_existing_family_gets_its_earliest_member_as_admin(
    back_to_latest_afterwards,
):
    old = migrate(BEFORE)
    User = old.get_model("auth", "User")
    Family = old.get_model("giftlists", "Family")
    Membership = old.get_model("giftlists", "Membership")
    ann, ben, cid = (User.objects.create(username=n) for n in ("ann", "ben", "cid"))
    first = Family.objects.create(name="First")
    second = Family.objects.create(name="Second")
    empty = Family.objects.create(name="Nobody left")
    for family, people in [(first, [ann, ben]), (second, [cid, ann])]:
        for person in people:
            Membership.objects.create(family=family, user=person)

    new = migrate(AFTER)
    admins = new.get_model("giftlists", "Membership").objects.filter(is_admin=True)

    assert sorted(admins.values_list("family__name", "user__username")) == [
        ("First", "ann"),
        ("Second", "cid"),
    ]
    assert not admins.filter(family_id=empty.pk).exists()
