import os

from django.apps import AppConfig

#: Set to 1 only to measure what realtime costs a REST write (bench/, scenario
#: S4): the gift-list models then publish nothing and no topic can be followed.
REALTIME_DISABLED_ENV = "REALTIME_DISABLED"


def realtime_disabled() -> bool:
    """Whether ``REALTIME_DISABLED=1`` asks this process to skip registration."""
    return os.environ.get(REALTIME_DISABLED_ENV, "").strip() == "1"


class GiftListsConfig(AppConfig):
    """Family gift lists: the first application built on ``realtime``."""

    name = "giftlists"
    verbose_name = "Gift lists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        if realtime_disabled():
            return
        # Registering the models with realtime wires their signals in every
        # process (web, shell, management commands), not only where sockets live.
        from . import realtime  # noqa: F401
