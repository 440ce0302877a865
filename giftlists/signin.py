"""Throttling of the account forms, counted per client address and per name in
Django's cache.

Sign-in: failed sign-ins are counted per client address and per username, and
past ``SIGNIN_FAILURE_LIMIT`` failures within ``SIGNIN_FAILURE_WINDOW`` seconds
every sign-in from that address or for that username is refused until the
window ends, even with the right password. The count and the refusal live in
the authentication backend, so every path that checks a password with a request
counts and refuses alike: the login page, the admin's, ``POST /api/auth/token/``.
The login forms and the token view ask first, to say why (a form error; a 429
with ``Retry-After``). A wrong current password on the change-password form
counts as a failed sign-in too.

Sign-up and password reset count every submission, not only failures (a bot
that creates accounts, or mails reset links to someone, succeeds): sign-ups
per client address (``SIGNUP_LIMIT`` in ``SIGNUP_WINDOW``), reset requests per
address and per email (``PASSWORD_RESET_LIMIT`` in ``PASSWORD_RESET_WINDOW``).

The cache is shared by every process when ``REDIS_URL`` is set (settings). A
cache that fails is logged and does not stop anyone: an outage of Redis must
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


class AttemptCounter:
    """Attempts of one kind, counted per client address and per name (a
    username, an email) in Django's cache, each in a window that starts at its
    first attempt; past the limit, refused until the window ends.

    ``limit_setting`` and ``window_setting`` name the settings (read per call),
    ``message`` the refusal, with ``{minutes}``.
    """

    def __init__(
        self, scope: str, limit_setting: str, window_setting: str, message: str
    ) -> None:
        self.scope = scope
        self.limit_setting = limit_setting
        self.window_setting = window_setting
        self.message = message

    def keys(self, request: Any, name: object) -> list[str]:
        """The cache keys counting for this request: its address, then ``name``."""
        address = request.META.get("REMOTE_ADDR") or "unknown"
        keys = [f"{self.scope}:address:{_digest(address)}"]
        if isinstance(name, str) and name.strip():
            keys.append(f"{self.scope}:user:{_digest(name.strip().casefold())}")
        return keys

    def retry_after(self, request: Any, name: object) -> int | None:
        """Seconds until an attempt from this request for ``name`` is taken
        again, or None if it is taken now."""
        limit = getattr(settings, self.limit_setting)
        keys = self.keys(request, name)
        try:
            found = cache.get_many(
                [k + suffix for k in keys for suffix in ("", ":end")]
            )
        except Exception:
            logger.exception("The %s throttle could not read the cache", self.scope)
            return None
        waits = [
            found.get(key + ":end", 0) - time.time()
            for key in keys
            if found.get(key, 0) >= limit
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def record(self, request: Any, name: object) -> None:
        """Count an attempt against the address and ``name``."""
        window = getattr(settings, self.window_setting)
        try:
            for key in self.keys(request, name):
                # The window starts at the first attempt and is not extended.
                if cache.add(key, 1, window):
                    cache.set(key + ":end", time.time() + window, window)
                    continue
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, window)
        except Exception:
            logger.exception("The %s throttle could not write the cache", self.scope)

    def forget_name(self, request: Any, name: object) -> None:
        """Forget ``name``'s attempts; the address keeps its count."""
        keys = self.keys(request, name)[1:]
        try:
            cache.delete_many([k + suffix for k in keys for suffix in ("", ":end")])
        except Exception:
            logger.exception("The %s throttle could not write the cache", self.scope)

    def refusal(self, wait: int) -> str:
        """The sentence that tells someone throttled when to come back."""
        return self.message.format(minutes=math.ceil(wait / 60))


SIGNIN = AttemptCounter(
    "signin", "SIGNIN_FAILURE_LIMIT", "SIGNIN_FAILURE_WINDOW", THROTTLED
)
SIGNUP = AttemptCounter(
    "signup",
    "SIGNUP_LIMIT",
    "SIGNUP_WINDOW",
    "Too many sign-ups from this address. Try again in {minutes} minute(s).",
)
PASSWORD_RESET = AttemptCounter(
    "password-reset",
    "PASSWORD_RESET_LIMIT",
    "PASSWORD_RESET_WINDOW",
    "Too many password reset requests from this address or for this email. "
    "Try again in {minutes} minute(s).",
)


def retry_after(request: Any, username: object) -> int | None:
    """Seconds until a sign-in from this request for this username is taken
    again, or None if it is taken now."""
    return SIGNIN.retry_after(request, username)


def record_failure(request: Any, username: object) -> None:
    """Count a failed sign-in against the address and the username."""
    SIGNIN.record(request, username)


def record_success(request: Any, username: object) -> None:
    """Forget the username's failures (its owner got in); the address keeps
    its count, so an attacker's own account does not reset it."""
    SIGNIN.forget_name(request, username)


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
    """A form that says when it is throttled, before checking anything else.

    ``attempts`` is the counter, ``attempts_name_field`` the field whose value
    is counted besides the address (None: the address only). The form needs
    the request (``self.request``; Django's sign-in forms keep it).
    """

    attempts: AttemptCounter = SIGNIN
    attempts_name_field: str | None = "username"
    #: Whether every submission counts (sign-up, reset) or only failures,
    #: which the authentication backend counts (sign-in).
    count_every_attempt = False

    @property
    def throttled(self) -> bool:
        """Whether the form was refused for too many attempts."""
        return self.has_error(NON_FIELD_ERRORS, "throttled")

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            name = None
            if self.attempts_name_field:
                name = self.cleaned_data.get(self.attempts_name_field)
                if name is None:  # invalid: count the text as sent
                    name = self.data.get(self.add_prefix(self.attempts_name_field))
            wait = self.attempts.retry_after(self.request, name)
            if wait is not None:
                raise ValidationError(self.attempts.refusal(wait), code="throttled")
            if self.count_every_attempt:
                self.attempts.record(self.request, name)
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
            raise Throttled(wait, SIGNIN.refusal(wait))
        return super().post(request, *args, **kwargs)


obtain_auth_token = ThrottledObtainAuthToken.as_view()
