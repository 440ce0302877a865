from django.apps import AppConfig


class GiftListsConfig(AppConfig):
    """Family gift lists: the first application built on ``realtime``.

    Its models and topic policies are registered in ``giftlists/realtime.py``,
    which the realtime app imports by itself.
    """

    name = "giftlists"
    verbose_name = "Gift lists"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
