"""System checks for deployments that would silently lose events or leak them."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security)
def check_allowed_hosts(app_configs: Any, **kwargs: Any) -> list[Error]:
    """realtime.E001: a wildcard host accepts any ``Host``, and the WebSocket
    Origin check compares the Origin with the ``Host`` a request names."""
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        return [
            Error(
                "ALLOWED_HOSTS contains '*' with DEBUG off.",
                hint="Every request's Host header would be believed, on every "
                "transport, and the WebSocket Origin check compares the Origin "
                "with that Host (a site whose name resolves to your server "
                "would pass it). List your hosts.",
                id="realtime.E001",
            )
        ]
    return []


@register()
def check_channel_layer(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """realtime.E002: no channel layer, nothing to carry events; realtime.W001:
    the in-memory layer reaches one process only."""
    layers = getattr(settings, "CHANNEL_LAYERS", None) or {}
    if "default" not in layers:
        return [
            Error(
                "CHANNEL_LAYERS has no 'default' layer.",
                hint="realtime sends events through the channel layer: set "
                "CHANNEL_LAYERS = {'default': {'BACKEND': "
                "'channels.layers.InMemoryChannelLayer'}} for one process, or "
                "channels-redis for several.",
                id="realtime.E002",
            )
        ]
    backend = layers["default"].get("BACKEND", "")
    if not settings.DEBUG and backend.endswith("InMemoryChannelLayer"):
        return [
            Warning(
                "The in-memory channel layer is used with DEBUG off.",
                hint="Events reach only clients of the process that made the change. "
                "With more than one server process, use channels-redis "
                "(pip install 'django-realtime-layer[redis]').",
                id="realtime.W001",
            )
        ]
    return []
