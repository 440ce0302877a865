"""System checks of the gift-list settings, so a bad value stops start-up with a
clear message instead of failing when someone creates a family."""

from typing import Any

from django.core.checks import Error, register

from .currencies import CURRENCY_CODES, default_currency


@register()
def check_default_currency(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``GIFTLISTS_DEFAULT_CURRENCY`` must be an active ISO 4217 code."""
    code = default_currency()
    if code in CURRENCY_CODES:
        return []
    return [
        Error(
            f"GIFTLISTS_DEFAULT_CURRENCY is {code!r}, not an ISO 4217 currency code.",
            hint="Use a three-letter code such as EUR, GBP or USD.",
            id="giftlists.E001",
        )
    ]
