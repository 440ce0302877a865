"""Connection authentication: session cookie, ``?token=``, or a first ``auth``
message. Connection tickets are redeemed here; other tokens go to the backend
named by the ``TOKEN_AUTHENTICATOR`` setting (a dotted path), loaded when first
used.

A connection remembers what signed it in (its :class:`Binding`): the Django
session and the API token it stands on, directly or through the ticket it
was opened with. When either ends (a logout, a token deleted, a password
changed) the connection ends too.
"""

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils.module_loading import import_string

from realtime.conf import realtime_settings


def drf_token_user(token: str) -> Any | None:
    """The active user owning a DRF auth token, or None (also when
    ``rest_framework.authtoken`` is not installed)."""
    from django.apps import apps

    if not apps.is_installed("rest_framework.authtoken"):
        return None
    from rest_framework.authtoken.models import Token

    if not token or len(token) > 128:
        return None
    found = Token.objects.select_related("user").filter(key=token).first()
    if found is None or not found.user.is_active:
        return None
    return found.user


def fingerprint(secret: str) -> str:
    """A credential's digest: what is kept and sent instead of the secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


# Kept for the logout message's field name and older callers.
session_fingerprint = fingerprint


@dataclass(frozen=True, slots=True)
class Binding:
    """What a connection was signed in with: the Django session it stands on
    (its key), and the API token (its fingerprint), either or both."""

    session_key: str | None = None
    token: str | None = None

    @property
    def method(self) -> str:
        """How it signed in, for the logs: "session" or "token"."""
        return "token" if self.token is not None else "session"

    def fingerprints(self) -> set[str]:
        """The digests a revocation names to end this connection."""
        found = set()
        if self.session_key:
            found.add(fingerprint(self.session_key))
        if self.token:
            found.add(self.token)
        return found


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: Any
    binding: Binding


def authenticate_token_sync(token: str) -> Authenticated | None:
    """The user a token (a ticket, or an API token through the configured
    backend) signs in, and what the connection stands on; None if it fails."""
    from realtime.auth.tickets import TICKET_PREFIX, redeem_ticket

    if "\x00" in token:
        # No credential holds a NUL (``?token=%00``), and PostgreSQL refuses
        # text with one: a lookup would raise instead of finding nothing.
        return None
    if token.startswith(TICKET_PREFIX):
        return redeem_ticket(token)
    user = import_string(realtime_settings.TOKEN_AUTHENTICATOR)(token)
    if user is None:
        return None
    return Authenticated(user, Binding(token=fingerprint(token)))


async def authenticate_token(token: str) -> Authenticated | None:
    """``authenticate_token_sync`` from async code; API tokens of the default
    backend are looked up in batches with the other connections' (one query
    for a crowd signing in at once)."""
    from realtime.auth.tickets import TICKET_PREFIX

    if (
        "\x00" in token
        or not token
        or len(token) > 128
        or token.startswith(TICKET_PREFIX)
        or not _uses_drf_tokens()
    ):
        return await database_sync_to_async(authenticate_token_sync)(token)
    from realtime.auth.token_lookups import token_lookups

    user = await token_lookups().get(token)
    if user is None:
        return None
    return Authenticated(user, Binding(token=fingerprint(token)))


def binding_holds_sync(user: Any, binding: Binding) -> bool:
    """Whether what the connection stands on still signs in ``user``: its
    session exists and is still the user's (a password change ends the other
    sessions), and its DRF token (if it stood on one) still exists."""
    if binding.session_key is not None and not _session_is_users(
        binding.session_key, user
    ):
        return False
    if binding.token is not None and _uses_drf_tokens():
        from rest_framework.authtoken.models import Token

        keys = Token.objects.filter(user_id=user.pk).values_list("key", flat=True)
        if binding.token not in {fingerprint(key) for key in keys}:
            return False
    return True


binding_holds = database_sync_to_async(binding_holds_sync)


def _uses_drf_tokens() -> bool:
    from django.apps import apps

    return realtime_settings.TOKEN_AUTHENTICATOR == DEFAULT_AUTHENTICATOR and (
        apps.is_installed("rest_framework.authtoken")
    )


DEFAULT_AUTHENTICATOR = "realtime.auth.credentials.drf_token_user"


def _session_is_users(session_key: str, user: Any) -> bool:
    from types import SimpleNamespace

    from django.contrib.auth import get_user

    store = _session_store(session_key)
    if not store.exists(session_key):
        return False
    # Django's own check: the session's user, and the hash of the password it
    # was signed in with (a password change invalidates the other sessions).
    found = get_user(SimpleNamespace(session=store))
    return found.is_authenticated and found.pk == user.pk


def _session_store(session_key: str) -> Any:
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def token_from_query(scope: dict[str, Any]) -> str | None:
    """The ``token`` query parameter of a connection, or None when absent."""
    query = scope.get("query_string", b"").decode("latin-1")
    values = parse_qs(query, keep_blank_values=True).get("token")
    return values[0] if values else None


def session_user(scope: dict[str, Any]) -> Any | None:
    """The user of the session cookie, if the connection has an active one."""
    user = scope.get("user")
    if user is not None and user.is_authenticated and user.is_active:
        return user
    return None


def _refreshed(user: Any) -> Any | None:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk=user.pk, is_active=True).first()


refreshed_user = database_sync_to_async(_refreshed)
"""The user as the database has it now, or None if deleted or deactivated."""
