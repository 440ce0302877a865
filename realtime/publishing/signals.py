"""Thin signal receivers that turn saves and deletes of registered models into
``publish()`` calls, plus ``publish_instances`` for the writes that send no
signals (``QuerySet.update()``, ``bulk_create``).
"""

import copy
from collections.abc import Iterable
from typing import Any

from django.db import models, transaction
from django.db.models.signals import post_delete, post_init, post_save

from realtime.protocol.events import ADDED, DELETED, STATUS_CHANGED, UPDATED
from realtime.publishing.publisher import publish
from realtime.publishing.registry import Registration, registration_for

# The field values an instance had when loaded or last saved, for diffing.
SNAPSHOT_ATTR = "_realtime_snapshot"


def _uid(signal_name: str, model: type[models.Model]) -> str:
    return f"realtime.{signal_name}.{model._meta.label_lower}"


def connect(model: type[models.Model]) -> None:
    """Connect the receivers for one registered model (idempotent)."""
    post_init.connect(_remember, sender=model, dispatch_uid=_uid("init", model))
    post_save.connect(_on_save, sender=model, dispatch_uid=_uid("save", model))
    post_delete.connect(_on_delete, sender=model, dispatch_uid=_uid("delete", model))


def disconnect(model: type[models.Model]) -> None:
    """Disconnect the receivers of one model."""
    post_init.disconnect(sender=model, dispatch_uid=_uid("init", model))
    post_save.disconnect(sender=model, dispatch_uid=_uid("save", model))
    post_delete.disconnect(sender=model, dispatch_uid=_uid("delete", model))


def _snapshot(instance: models.Model) -> dict[str, Any]:
    values = instance.__dict__
    return {
        field.attname: values[field.attname]
        for field in instance._meta.concrete_fields
        if field.attname in values  # deferred fields are not loaded
    }


def _remember(
    sender: type[models.Model], instance: models.Model, **kwargs: Any
) -> None:
    if instance.pk is not None:
        setattr(instance, SNAPSHOT_ATTR, _snapshot(instance))


def _as_before(instance: models.Model, snapshot: dict[str, Any]) -> models.Model:
    """A detached copy of the instance with its previous field values."""
    before = copy.copy(instance)
    before._state = copy.copy(instance._state)
    before._state.fields_cache = {}
    before.__dict__.update(snapshot)
    return before


def _publish(
    registration: Registration,
    instance: models.Model,
    topics: Iterable[str],
    event: str,
    payload: dict[str, Any] | None = None,
    using: str = "default",
) -> None:
    topics = list(topics)
    if not topics:
        return
    publish(
        topics,
        event,
        entity_type=registration.entity_type,
        entity_id=instance.pk,
        payload=payload if payload is not None else registration.serialize(instance),
        tenant_id=registration.tenant_of(instance),
        using=using,
    )


def _on_save(
    sender: type[models.Model],
    instance: models.Model,
    created: bool,
    raw: bool = False,
    using: str = "default",
    **kwargs: Any,
) -> None:
    registration = registration_for(sender)
    if registration is None or raw:  # raw: fixtures loading, not a user's change
        return
    previous = None if created else getattr(instance, SNAPSHOT_ATTR, None)
    publish_change(registration, instance, previous, created=created, using=using)


def publish_change(
    registration: Registration,
    instance: models.Model,
    previous: dict[str, Any] | None,
    *,
    created: bool = False,
    using: str = "default",
) -> None:
    """Publish what saving ``instance`` changed, given its earlier field values.

    A row that moved between topics is ``DELETED`` where it left and ``ADDED``
    where it arrived; where it stayed, a status change is ``STATUS_CHANGED`` and
    any other change ``UPDATED``. Without earlier values (``previous`` None) the
    change is unknown and is published as ``UPDATED``.
    """
    setattr(instance, SNAPSHOT_ATTR, _snapshot(instance))
    topics_now = set(registration.topics(instance))
    if created:
        _publish(registration, instance, topics_now, ADDED, using=using)
        return
    if previous is None:
        _publish(registration, instance, topics_now, UPDATED, using=using)
        return
    current = getattr(instance, SNAPSHOT_ATTR)
    changed = {
        name
        for name in registration.tracked_attnames(instance)
        if name in previous and previous.get(name) != current.get(name)
    }
    if not changed:
        return
    topics_before = set(registration.topics(_as_before(instance, previous)))
    event = UPDATED
    if registration.status_field:
        status = instance._meta.get_field(registration.status_field).attname
        event = STATUS_CHANGED if status in changed else UPDATED
    left, joined = topics_before - topics_now, topics_now - topics_before
    if left:
        _publish(
            registration,
            instance,
            left,
            DELETED,
            payload={"id": instance.pk},
            using=using,
        )
    if joined:
        _publish(registration, instance, joined, ADDED, using=using)
    _publish(registration, instance, topics_now & topics_before, event, using=using)


def _on_delete(
    sender: type[models.Model],
    instance: models.Model,
    using: str = "default",
    **kwargs: Any,
) -> None:
    registration = registration_for(sender)
    if registration is None:
        return
    _publish(
        registration,
        instance,
        registration.topics(instance),
        DELETED,
        payload={"id": instance.pk},
        using=using,
    )


def publish_instances(
    instances: Iterable[models.Model], event: str = UPDATED, using: str = "default"
) -> int:
    """Publish ``event`` for each instance, for writes that fire no signals.

    After ``bulk_create`` pass the created objects with ``ADDED``; after
    ``QuerySet.update()`` pass the re-read rows with ``UPDATED`` (or
    ``STATUS_CHANGED``). Returns how many instances were published. Call it in the
    same transaction as the write, so nothing is sent if it rolls back.
    """
    count = 0
    for instance in instances:
        registration = registration_for(type(instance))
        if registration is None:
            raise ValueError(
                f"{type(instance).__name__} is not registered with realtime"
            )
        payload = {"id": instance.pk} if event == DELETED else None
        _publish(
            registration,
            instance,
            registration.topics(instance),
            event,
            payload=payload,
            using=using,
        )
        setattr(instance, SNAPSHOT_ATTR, _snapshot(instance))
        count += 1
    return count


def update_and_publish(queryset: models.QuerySet, **values: Any) -> int:
    """``queryset.update(**values)``, then publish each touched row's change.

    Each row is diffed against its values before the update, exactly as a
    ``save()`` would be: no event for a row the update left unchanged,
    ``STATUS_CHANGED`` for a status change, and ``DELETED``/``ADDED`` for a row
    that moved between topics. Returns the number of rows updated.
    """
    model = queryset.model
    registration = registration_for(model)
    if registration is None:
        raise ValueError(f"{model.__name__} is not registered with realtime")
    manager = model._default_manager.using(queryset.db)
    with transaction.atomic(using=queryset.db):
        before = {row.pk: _snapshot(row) for row in queryset.select_for_update()}
        updated = manager.filter(pk__in=list(before)).update(**values)
        for row in manager.filter(pk__in=list(before)).order_by("pk"):
            publish_change(registration, row, before[row.pk], using=queryset.db)
    return updated
