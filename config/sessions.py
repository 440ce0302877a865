"""Django's database session store, refusing session keys no session has.

A quoted cookie may spell any byte in octal (``sessionid="abcdefgh\\000"``), and
Django reads that key as it is; PostgreSQL refuses a NUL in a query, so the
lookup raised and every page answered 500. Such a key is no session here: the
request goes on signed out, as with any unknown key.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    """The database store; a key holding a NUL is treated as no key."""

    def _validate_session_key(self, key: str | None) -> bool:
        return bool(super()._validate_session_key(key)) and "\x00" not in key
