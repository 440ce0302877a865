"""Credentials that end under open connections: a logout, a token deleted or
rotated, a password changed, a user deactivated or deleted. Each asks the
user's connections to re-check themselves (``reauthorize_users``), which
closes those the credential signed in (4401), and voids the unused tickets
issued on it."""

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_init, post_save

from realtime.auth.credentials import fingerprint


def end_session_connections(
    sender: Any, request: Any, user: Any, **kwargs: Any
) -> None:
    """Receiver of ``user_logged_out``: end what that session signed in.

    The signal comes before the session is deleted, so the message names it;
    the user's connections on other sessions and tokens stay open.
    """
    if user is None or request is None:
        return
    from realtime.auth.tickets import void_tickets
    from realtime.publishing.reauthorize import reauthorize_users

    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        void_tickets(session_key=session_key)
    ended = [fingerprint(session_key)] if session_key else []
    reauthorize_users([user.pk], ended=ended)


def end_token_connections(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Receiver of a DRF token's ``post_delete`` (revoked, or rotated): end
    what it signed in, and the tickets issued on it."""
    from realtime.auth.tickets import void_tickets
    from realtime.publishing.reauthorize import reauthorize_users

    token = fingerprint(instance.key)
    void_tickets(token=token)
    reauthorize_users([instance.user_id], ended=[token])


# The user fields that decide what a connection may do; any other change (a
# login's last_login, say) leaves its connections alone. A new password ends
# the user's other sessions, and what they signed in.
ACCESS_FIELDS = ("is_active", "is_staff", "is_superuser", "password")
ACCESS_ATTR = "_realtime_access"


def _access(user: Any) -> tuple:
    return tuple(user.__dict__.get(name) for name in ACCESS_FIELDS)


def remember_access(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Receiver of the user model's ``post_init``: what its access was."""
    setattr(instance, ACCESS_ATTR, _access(instance))


def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deactivated user's connections close; a changed staff flag may change
    what they can follow; a changed password ends the other sessions."""
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
    if apps.is_installed("rest_framework.authtoken"):
        from rest_framework.authtoken.models import Token

        post_delete.connect(
            end_token_connections,
            sender=Token,
            dispatch_uid="realtime.revocation.token_deleted",
        )
