"""Sign-in throttling: failed sign-ins are counted per client address and per
username in Django's cache, and past ``SIGNIN_FAILURE_LIMIT`` failures within
``SIGNIN_FAILURE_WINDOW`` seconds every sign-in from that address or for that
username is refused until the window ends, even with the right password.

The count and the refusal live in the authentication backend, so every path
that checks a password with a request counts and refuses alike: the login page,
the admin's, ``POST /api/auth/token/``. The login forms and the token view ask
first, to say why (a form error; a 429 with ``Retry-After``).

The cache is shared by every process when ``REDIS_URL`` is set (settings). A
cache that fails is logged and does not stop sign-ins: an outage of Redis must
not lock everyone out.
"""

import hashlib
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from realtime.transports.parsers import PARSER_CLASSES

logger = logging.getLogger(__name__)

THROTTLED = (
    "Too many failed sign-ins for this account or from this address. "
    "Try again in {minutes} minute(s)."
)


def _digest(text: str) -> str:
    # Cache keys of a fixed size and alphabet, and no usernames in Redis.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _keys(request: Any, username: object) -> list[str]:
    address = request.META.get("REMOTE_ADDR") or "unknown"
    keys = [f"signin:address:{_digest(address)}"]
    if isinstance(username, str) and username.strip():
        keys.append(f"signin:user:{_digest(username.strip().casefold())}")
    return keys


def retry_after(request: Any, username: object) -> int | None:
    """Seconds until a sign-in from this request for this username is taken
    again, or None if it is taken now."""
    limit = settings.SIGNIN_FAILURE_LIMIT
    try:
        found = cache.get_many(
            [k + suffix for k in _keys(request, username) for suffix in ("", ":end")]
        )
    except Exception:
        logger.exception("The sign-in throttle could not read the cache")
        return None
    waits = [
        found.get(key + ":end", 0) - time.time()
        for key in _keys(request, username)
        if found.get(key, 0) >= limit
    ]
    return max(1, math.ceil(max(waits))) if waits else None


def record_failure(request: Any, username: object) -> None:
    """Count a failed sign-in against the address and the username."""
    window = settings.SIGNIN_FAILURE_WINDOW
    try:
        for key in _keys(request, username):
            # The window starts at the first failure and is not extended.
            if cache.add(key, 1, window):
                cache.set(key + ":end", time.time() + window, window)
                continue
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window)
    except Exception:
        logger.exception("The sign-in throttle could not write the cache")


def record_success(request: Any, username: object) -> None:
    """Forget the username's failures (its owner got in); the address keeps
    its count, so an attacker's own account does not reset it."""
    keys = _keys(request, username)[1:]
    try:
        cache.delete_many([k + suffix for k in keys for suffix in ("", ":end")])
    except Exception:
        logger.exception("The sign-in throttle could not write the cache")


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, counting failures and refusing throttled
    sign-ins without checking their password."""

    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if request is None or password is None:  # shell, tests: no client
            return super().authenticate(request, username, password, **kwargs)
        if retry_after(request, username) is not None:
            # Stops every backend; Django then answers as for a wrong password.
            raise PermissionDenied("too many failed sign-ins")
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            record_failure(request, username)
        else:
            record_success(request, username)
        return user


class ThrottledFormMixin:
    """A sign-in form that says when it is throttled, before checking."""

    @property
    def throttled(self) -> bool:
        """Whether the form was refused for too many failed sign-ins."""
        return self.has_error(NON_FIELD_ERRORS, "throttled")

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            wait = retry_after(self.request, self.cleaned_data.get("username"))
            if wait is not None:
                raise ValidationError(
                    THROTTLED.format(minutes=math.ceil(wait / 60)), code="throttled"
                )
        return super().clean()


class SignInForm(ThrottledFormMixin, AuthenticationForm):
    """The login page's form."""


class AdminSignInForm(ThrottledFormMixin, AdminAuthenticationForm):
    """The admin login page's form."""


class ThrottledObtainAuthToken(ObtainAuthToken):
    """``POST /api/auth/token/``: DRF's token view, answering 429 with
    ``Retry-After`` while the address or the username is throttled, and
    parsing bodies as the rest of the API does (bounded JSON)."""

    parser_classes = PARSER_CLASSES

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = request.data
        username = data.get("username") if isinstance(data, Mapping) else None
        wait = retry_after(request, username)
        if wait is not None:
            raise Throttled(wait, THROTTLED.format(minutes=math.ceil(wait / 60)))
        return super().post(request, *args, **kwargs)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
