from django.apps import AppConfig


class GiftListsConfig(AppConfig):
    """Family gift lists: the first application built on ``realtime``."""

    name = "giftlists"
    verbose_name = "Gift lists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registering the models with realtime wires their signals in every
        # process (web, shell, management commands), not only where sockets live.
        from . import realtime  # noqa: F401
