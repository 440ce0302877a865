"""Re-checking open subscriptions when the data a policy reads changes.

A policy names what its answer depends on (``depends_on``): models, or
many-to-many fields such as ``Board.members``. A committed change to one of
them re-checks the subscriptions it can affect, in every process:

- where the changed row points at users (the user model itself, a foreign key
  to it, a many-to-many to it), only those users' connections re-check, for
  the old and the new user of a changed key;
- otherwise every follower of the policy's resource type re-checks.

So a member removed from a board loses its topic on open sockets without a
hand-written signal handler.
"""

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models.fields.related_descriptors import ManyToManyDescriptor
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

# resource type -> (signal, sender, dispatch_uid) of every receiver it connected
_connected: dict[str, list[tuple[Any, Any, str]]] = {}
# Where a dependency row remembers the users it pointed at when loaded.
USERS_ATTR = "_realtime_policy_users"


def _is_user_model(model: Any) -> bool:
    return model is apps.get_model(settings.AUTH_USER_MODEL)


def _user_keys(model: type[models.Model]) -> list[str]:
    """The attnames of the model's foreign keys to the user model."""
    return [
        field.attname
        for field in model._meta.concrete_fields
        if field.is_relation and _is_user_model(field.related_model)
    ]


def _users_of(instance: models.Model) -> set[Any]:
    if _is_user_model(type(instance)):
        return {instance.pk}
    return {getattr(instance, attname) for attname in _user_keys(type(instance))} - {
        None
    }


def _request(resource_type: str, users: Iterable[Any] | None) -> None:
    from realtime.publishing.reauthorize import reauthorize_topics, reauthorize_users

    if users is None:
        reauthorize_topics([resource_type])
    elif users := [user for user in users if user is not None]:
        reauthorize_users(users)


def _resolve(dependency: Any) -> Any:
    if isinstance(dependency, str):
        return apps.get_model(dependency)
    return dependency


def watch_dependencies(resource_type: str, policy: Any) -> None:
    """Connect the receivers for the policy's ``depends_on`` (replacing any
    the resource type had)."""
    unwatch_dependencies(resource_type)
    connected = _connected[resource_type] = []

    def connect(signal: Any, receiver: Any, sender: Any, kind: str) -> None:
        uid = f"realtime.depends.{resource_type}.{kind}.{sender._meta.label_lower}"
        signal.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
        connected.append((signal, sender, uid))

    for dependency in map(_resolve, policy.depends_on):
        if isinstance(dependency, ManyToManyDescriptor):
            through = dependency.through
            connect(m2m_changed, _m2m_receiver(resource_type), through, "m2m")
        elif isinstance(dependency, type) and issubclass(dependency, models.Model):
            save, delete, init = _row_receivers(resource_type, dependency)
            connect(post_init, init, dependency, "init")
            connect(post_save, save, dependency, "save")
            connect(post_delete, delete, dependency, "delete")
        else:
            raise TypeError(
                f"depends_on of {resource_type!r}: {dependency!r} is neither a "
                "model nor a many-to-many field"
            )


def unwatch_dependencies(resource_type: str) -> None:
    """Disconnect what ``watch_dependencies`` connected for the resource type."""
    for signal, sender, uid in _connected.pop(resource_type, []):
        signal.disconnect(sender=sender, dispatch_uid=uid)


def _row_receivers(resource_type: str, model: type[models.Model]) -> tuple:
    points_at_users = _is_user_model(model) or bool(_user_keys(model))

    def remember(sender: Any, instance: models.Model, **kwargs: Any) -> None:
        if points_at_users and instance.pk is not None:
            setattr(instance, USERS_ATTR, _users_of(instance))

    def changed(sender: Any, instance: models.Model, **kwargs: Any) -> None:
        if kwargs.get("raw"):
            return  # fixtures loading
        if not points_at_users:
            _request(resource_type, None)
            return
        before = getattr(instance, USERS_ATTR, set())
        now = _users_of(instance)
        setattr(instance, USERS_ATTR, now)
        _request(resource_type, before | now)

    return changed, changed, remember


def _m2m_receiver(resource_type: str) -> Any:
    def changed(
        sender: Any,
        instance: models.Model,
        action: str,
        reverse: bool,
        model: type[models.Model],
        pk_set: set[Any] | None,
        **kwargs: Any,
    ) -> None:
        if action not in {"post_add", "post_remove", "pre_clear"}:
            return
        if _is_user_model(type(instance)):
            _request(resource_type, [instance.pk])
        elif not _is_user_model(model):
            _request(resource_type, None)
        elif action == "pre_clear":  # who is about to go: read before the clear
            field = _m2m_field(sender, type(instance), model)
            _request(
                resource_type, getattr(instance, field).values_list("pk", flat=True)
            )
        else:
            _request(resource_type, pk_set or ())

    return changed


def _m2m_field(through: Any, owner: type[models.Model], target: Any) -> str:
    """The accessor on ``owner`` of the many-to-many that ``through`` carries."""
    for field in owner._meta.get_fields():
        if not field.many_to_many:
            continue
        if field.auto_created:  # the reverse side of another model's field
            if field.through is through:
                return field.get_accessor_name()
        elif field.remote_field.through is through:
            return field.name
    raise LookupError(f"no many-to-many of {owner.__name__} uses {through.__name__}")
