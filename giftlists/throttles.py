"""Per-user limits on invitations, answered with DRF's 429 and ``Retry-After``.

The rates are ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` entries named by
each class's ``scope``. Counts live in Django's default cache: per process
unless ``CACHES`` names a shared one.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class _RateFromSettings(UserRateThrottle):
    #: The rate when the settings name none for the scope.
    default_rate: str

    def get_rate(self) -> str | None:
        # DRF binds THROTTLE_RATES when it is first imported; reading the rate
        # here, per request, lets override_settings change it.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope, self.default_rate)


class InvitationCreateThrottle(_RateFromSettings):
    """Invitations one user may create: enough for a whole family in one
    sitting, too few to spray links around."""

    scope = "invitations"
    default_rate = "30/hour"


class InvitationAcceptThrottle(_RateFromSettings):
    """Attempts one user may make to accept invitations, good or bad tokens."""

    scope = "invitation_accept"
    default_rate = "60/hour"
