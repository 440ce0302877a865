"""Credentials that end under open connections: a logout, a deactivated or
deleted user. Each asks the user's connections to re-check themselves, which
closes those the credential opened (4401)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_init, post_save

from realtime.auth.credentials import session_fingerprint


def end_session_connections(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    """Receiver of ``user_logged_out``: end the connections of that session.

    The signal comes before the session is deleted, so the session is named in
    the message; the user's token connections stay open.
    """
    if user is None or request is None:
        return
    from realtime.publishing.reauthorize import reauthorize_users

    session_key = getattr(getattr(request, "session", None), "session_key", None)
    ended = [session_fingerprint(session_key)] if session_key else []
    reauthorize_users([user.pk], ended_sessions=ended)


# The user fields that decide what a connection may do; any other change (a
# login's last_login, say) leaves its connections alone.
ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser")
ACCESS_ATTR = "_realtime_access"


def _access(user: Any) -> tuple:
    return tuple(user.__dict__.get(name) for name in ACCESS_FIELDS)


def remember_access(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Receiver of the user model's ``post_init``: what its access was."""
    setattr(instance, ACCESS_ATTR, _access(instance))


def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deactivated user's connections close; a changed staff flag may change
    what they can follow."""
    from realtime.publishing.reauthorize import reauthorize_users

    if kwargs.get("raw") or kwargs.get("created"):
        return
    before = getattr(instance, ACCESS_ATTR, None)
    remember_access(sender, instance)
    if before != _access(instance):
        reauthorize_users([instance.pk])


def user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deleted user's connections close."""
    from realtime.publishing.reauthorize import reauthorize_users

    reauthorize_users([instance.pk])


def connect_revocations() -> None:
    """Connect the receivers (idempotent)."""
    user_model = get_user_model()
    user_logged_out.connect(
        end_session_connections, dispatch_uid="realtime.revocation.logout"
    )
    for signal, receiver, name in (
        (post_init, remember_access, "user_loaded"),
        (post_save, user_saved, "user_saved"),
        (post_delete, user_deleted, "user_deleted"),
    ):
        signal.connect(
            receiver, sender=user_model, dispatch_uid=f"realtime.revocation.{name}"
        )
