"""Connection authentication: session cookie, ``?token=``, or a first ``auth``
message. Token checking is a backend named by the ``TOKEN_AUTHENTICATOR``
setting (a dotted path), loaded when first used.
"""

import hashlib
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


def ticket_or_drf_token_user(token: str) -> Any | None:
    """A connection ticket's user (single use), else a DRF token's user."""
    from realtime.auth.tickets import TICKET_PREFIX, redeem_ticket

    if token.startswith(TICKET_PREFIX):
        return redeem_ticket(token)
    return drf_token_user(token)


def user_for_token_sync(token: str) -> Any | None:
    """The user a token authenticates, through the configured backend."""
    authenticator = import_string(realtime_settings.TOKEN_AUTHENTICATOR)
    return authenticator(token)


user_for_token = database_sync_to_async(user_for_token_sync)


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


def session_fingerprint(session_key: str) -> str:
    """A session key's digest: what travels to connections instead of the key."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def _session_exists(session_key: str) -> bool:
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore().exists(session_key)


session_exists = database_sync_to_async(_session_exists)
"""Whether a session key still names a session in the configured store."""
