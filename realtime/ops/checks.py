"""System checks for deployments that would silently lose events or leak them."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security)
def check_allowed_hosts(app_configs: Any, **kwargs: Any) -> list[Error]:
    """realtime.E001: a wildcard host disables the WebSocket Origin check."""
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                "ALLOWED_HOSTS contains '*' with DEBUG off.",
                hint="Any site could open WebSockets with your users' cookies "
                "(the Origin check trusts ALLOWED_HOSTS). List your hosts.",
                id="realtime.E001",
            )
        ]
    return []


@register()
def check_channel_layer(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """realtime.W001: the in-memory layer reaches one process only."""
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if not settings.DEBUG and backend.endswith("InMemoryChannelLayer"):
        return [
            Warning(
                "The in-memory channel layer is used with DEBUG off.",
                hint="Events reach only clients of the process that made the change. "
                "With more than one server process set REDIS_URL.",
                id="realtime.W001",
            )
        ]
    return []
