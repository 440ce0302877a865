"""The user of a connection's Django session cookie, put in its ASGI scope.

Channels' ``AuthMiddlewareStack`` does this too, but also wraps ``send`` to
save the session, which realtime connections never change: its wrapper read
the lazy session again on every frame sent. This reads it once, at connect.
"""

from importlib import import_module
from types import SimpleNamespace
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.models import AnonymousUser
from django.http.cookie import parse_cookie


def session_key_from(scope: dict[str, Any]) -> str | None:
    """The session cookie's value in the scope's ``Cookie`` headers, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            key = parse_cookie(value.decode("latin-1")).get(
                settings.SESSION_COOKIE_NAME
            )
            # A quoted cookie may spell a NUL ("\\000"); no session key holds
            # one, and PostgreSQL refuses it in a query: no session.
            if key and "\x00" not in key:
                return key
    return None


def _session_and_user(session_key: str) -> tuple[Any, Any]:
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    # Django's own lookup: the session's user, its backend, and the check that
    # the password has not changed since the session began.
    return session, get_user(SimpleNamespace(session=session))


class SessionAuthMiddleware:
    """Sets ``scope["user"]`` (AnonymousUser without a valid session) and
    ``scope["session"]`` from the session cookie, then calls the application."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        session_key = session_key_from(scope)
        session, user = None, AnonymousUser()
        if session_key is not None:
            session, user = await database_sync_to_async(_session_and_user)(session_key)
        scope = {**scope, "user": user, "session": session}
        return await self.application(scope, receive, send)
