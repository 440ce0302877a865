from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    """Turns committed model changes into live events for subscribed clients."""

    name = "realtime"
    verbose_name = "Realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from . import checks  # noqa: F401  (registers the system checks)
        from .auth import user_logged_out as end_session_sockets

        user_logged_out.connect(
            end_session_sockets, dispatch_uid="realtime.auth.user_logged_out"
        )
