"""Which models broadcast, to which topics, shown how.

``realtime.register(Gift, topics=...)`` in the app's ``realtime.py`` (which the
realtime app imports in every process when Django starts) connects the signals,
so a change from a view, the admin, the shell or a management command is
published the same way.
"""

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models

from realtime.protocol.events import ENTITY_TYPE_PATTERN

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


def model_payload(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete fields by name; a foreign key as its id.

    What ``register()`` publishes without a serializer. ``publish()`` then turns
    dates into ISO 8601 text and decimals and UUIDs into strings.
    """
    return {
        field.name: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
    }


def default_entity_type(model: type[models.Model]) -> str:
    """The model's class name in kebab case: ``GiftList`` -> ``gift-list``."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", model.__name__).lower()
    return re.sub(r"[^a-z0-9-]+", "-", words).strip("-")[:40] or "entity"


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
    serializer: Any = None,
    entity_type: str | None = None,
    tenant: Callable[[Any], object] | None = None,
    status_field: str | None = None,
    ignore_fields: Iterable[str] = (),
) -> Registration:
    """Publish the model's committed changes to the topics ``topics(instance)`` names.

    ``serializer`` gives the payload: a DRF serializer class (use the REST API's,
    so events show what the API shows) or an ``instance -> dict`` function;
    without one, the model's concrete fields (:func:`model_payload`).
    ``entity_type`` defaults to the model's name in kebab case. Per-recipient
    redaction belongs to the topic policy.
    A change of ``status_field`` is ``STATUS_CHANGED``; other changes ``UPDATED``;
    a save that changes nothing publishes nothing. ``auto_now`` fields and
    ``ignore_fields`` do not count as changes.
    """
    from realtime.publishing import signals

    entity_type = entity_type or default_entity_type(model)
    if not ENTITY_TYPE_PATTERN.match(entity_type):
        raise ValueError(
            f"entity_type {entity_type!r} must match {ENTITY_TYPE_PATTERN.pattern}"
        )
    if not callable(topics):
        raise TypeError("topics must be a function: instance -> list of topics")
    registration = Registration(
        model=model,
        entity_type=entity_type,
        topics=topics,
        serialize=model_payload if serializer is None else _serializer_func(serializer),
        tenant=tenant,
        status_field=status_field,
        ignore_fields=frozenset(ignore_fields) | _auto_now_fields(model),
    )
    _registry[model] = registration
    signals.connect(model)
    return registration


def unregister(model: type[models.Model]) -> None:
    """Stop broadcasting a model's changes."""
    from realtime.publishing import signals

    if _registry.pop(model, None) is not None:
        signals.disconnect(model)


def registration_for(model: type[models.Model]) -> Registration | None:
    """The registration of a model, or None if it does not broadcast."""
    return _registry.get(model)


def registered_models() -> list[type[models.Model]]:
    """Every model that broadcasts."""
    return list(_registry)
