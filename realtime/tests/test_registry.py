"""``register()``: which saves and deletes become which events.

Uses Django's own ``auth.Group`` as the registered model, to show that any
model of any app can be made live.
"""

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from realtime.models import Event
from realtime.publishing.registry import register, unregister
from realtime.publishing.signals import publish_instances, update_and_publish

pytestmark = pytest.mark.django_db(transaction=True)


def logged():
    return list(
        Event.objects.order_by("id").values_list("topic", "seq", "event", "entity_id")
    )


@pytest.fixture
def live_groups():
    """Groups broadcast to ``team:<first letter of the name>``."""
    registration = register(
        Group,
        topics=lambda group: [f"team:{group.name[0]}"],
        serializer=lambda group: {"id": group.pk, "name": group.name},
        entity_type="group",
    )
    yield registration
    unregister(Group)


def test_create_update_delete_publish_added_updated_deleted(live_groups):
    group = Group.objects.create(name="alpha")
    group.name = "apple"
    group.save()
    group_id = group.pk
    group.delete()
    assert logged() == [
        ("team:a", 1, "ADDED", str(group_id)),
        ("team:a", 2, "UPDATED", str(group_id)),
        ("team:a", 3, "DELETED", str(group_id)),
    ]
    events = list(Event.objects.order_by("id"))
    assert events[1].payload == {"id": group_id, "name": "apple"}
    assert events[2].payload == {"id": group_id}
    assert {e.entity_type for e in events} == {"group"}


def test_save_that_changes_nothing_publishes_nothing(live_groups):
    group = Group.objects.create(name="alpha")
    group.save()
    Group.objects.get(pk=group.pk).save()
    assert [e[2] for e in logged()] == ["ADDED"]


def test_change_of_status_field_is_status_changed(live_groups):
    unregister(Group)
    register(
        Group,
        topics=lambda group: ["team:all"],
        serializer=lambda group: {"id": group.pk},
        entity_type="group",
        status_field="name",
    )
    group = Group.objects.create(name="open")
    group.name = "closed"
    group.save()
    assert [e[2] for e in logged()] == ["ADDED", "STATUS_CHANGED"]


def test_row_that_moves_topics_is_deleted_there_and_added_here(live_groups):
    group = Group.objects.create(name="alpha")
    group.name = "beta"
    group.save()
    assert logged() == [
        ("team:a", 1, "ADDED", str(group.pk)),
        ("team:a", 2, "DELETED", str(group.pk)),
        ("team:b", 1, "ADDED", str(group.pk)),
    ]


def test_rolled_back_save_logs_nothing(live_groups):
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="alpha")
        raise RuntimeError("rollback")
    assert logged() == []


def test_bulk_create_publishes_through_publish_instances(live_groups):
    with transaction.atomic():
        groups = Group.objects.bulk_create([Group(name="ant"), Group(name="bee")])
        assert publish_instances(groups, "ADDED") == 2
    assert [(topic, event) for topic, _, event, _ in logged()] == [
        ("team:a", "ADDED"),
        ("team:b", "ADDED"),
    ]


def test_queryset_update_publishes_each_changed_row(live_groups):
    ant = Group.objects.create(name="ant")
    bee = Group.objects.create(name="bee")
    Event.objects.all().delete()
    assert update_and_publish(Group.objects.filter(pk=bee.pk), name="bee") == 1
    assert logged() == []  # the row did not change
    assert update_and_publish(Group.objects.filter(pk=ant.pk), name="bat") == 1
    # ant changed and moved from team:a to team:b.
    assert [(topic, event, entity) for topic, _, event, entity in logged()] == [
        ("team:a", "DELETED", str(ant.pk)),
        ("team:b", "ADDED", str(ant.pk)),
    ]


def test_unregistered_model_publishes_nothing():
    Group.objects.create(name="alpha")
    assert logged() == []
    with pytest.raises(ValueError, match="not registered"):
        publish_instances([Group(name="x", pk=1)])
