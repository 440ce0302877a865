"""Which models broadcast, to which topics, shown how.

``register(Gift, topics=..., serializer=..., entity_type="gift")`` in the app
that owns the model (imported from its ``AppConfig.ready()``) connects the
signals in every process, so a change from a view, the admin, the shell or a
management command is published the same way.
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

TopicsFunc = Callable[[Any], Iterable[str]]
SerializeFunc = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Registration:
    """How one model's changes become events."""

    model: type[models.Model]
    entity_type: str
    topics: TopicsFunc
    serialize: SerializeFunc
    tenant: Callable[[Any], object] | None
    status_field: str | None
    ignore_fields: frozenset[str]

    def tracked_attnames(self, instance: models.Model) -> list[str]:
        """Fields whose change counts as a change of the entity."""
        return [
            field.attname
            for field in instance._meta.concrete_fields
            if field.name not in self.ignore_fields
            and field.attname not in self.ignore_fields
        ]

    def tenant_of(self, instance: models.Model) -> object:
        return self.tenant(instance) if self.tenant else None


_registry: dict[type[models.Model], Registration] = {}


def _serializer_func(serializer: Any) -> SerializeFunc:
    """Accept a DRF serializer class or a plain ``instance -> dict`` function.

    A DRF serializer is built once and asked for each instance's
    ``to_representation()``, as DRF itself shares one child serializer between
    all the rows of a list: it keeps no state between calls. Building one per
    change bound all its fields again, which cost more than the rest of
    publishing (Django serves each request in a new thread, so a per-thread
    copy would be rebuilt every time too).
    """
    if isinstance(serializer, type) and hasattr(serializer, "to_representation"):
        shared: list[Any] = []
        lock = threading.Lock()

        def serialize(instance: Any) -> dict[str, Any]:
            if not shared:
                with lock:
                    if not shared:
                        built = serializer()
                        built.fields  # noqa: B018 (bind every field before sharing)
                        shared.append(built)
            return dict(shared[0].to_representation(instance))

        return serialize
    if callable(serializer):
        return serializer
    raise TypeError("serializer must be a DRF serializer class or a callable")


def _auto_now_fields(model: type[models.Model]) -> set[str]:
    return {
        field.name
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False)
    }


def register(
    model: type[models.Model],
    *,
    topics: TopicsFunc,
    serializer: Any,
    entity_type: str,
    tenant: Callable[[Any], object] | None = None,
    status_field: str | None = None,
    ignore_fields: Iterable[str] = (),
) -> Registration:
    """Publish the model's committed changes to the topics ``topics(instance)`` names.

    ``serializer`` gives the payload (use the REST API's serializer, so events show
    what the API shows); per-recipient redaction belongs to the topic policy.
    A change of ``status_field`` is ``STATUS_CHANGED``; other changes ``UPDATED``;
    a save that changes nothing publishes nothing. ``auto_now`` fields and
    ``ignore_fields`` do not count as changes.
    """
    from . import signals

    registration = Registration(
        model=model,
        entity_type=entity_type,
        topics=topics,
        serialize=_serializer_func(serializer),
        tenant=tenant,
        status_field=status_field,
        ignore_fields=frozenset(ignore_fields) | _auto_now_fields(model),
    )
    _registry[model] = registration
    signals.connect(model)
    return registration


def unregister(model: type[models.Model]) -> None:
    """Stop broadcasting a model's changes."""
    from . import signals

    if _registry.pop(model, None) is not None:
        signals.disconnect(model)


def registration_for(model: type[models.Model]) -> Registration | None:
    """The registration of a model, or None if it does not broadcast."""
    return _registry.get(model)


def registered_models() -> list[type[models.Model]]:
    """Every model that broadcasts."""
    return list(_registry)
