from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Turns committed model changes into live events for subscribed clients."""

    name = "realtime"
    verbose_name = "Realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from realtime.auth.revocation import connect_revocations
        from realtime.conf import realtime_settings
        from realtime.ops import checks  # noqa: F401  (registers the system checks)

        connect_revocations()
        if realtime_settings.AUTODISCOVER:
            # Each app's realtime.py registers its models and policies, in every
            # process (web, shell, management commands), like admin.py.
            autodiscover_modules("realtime")
