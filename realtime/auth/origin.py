"""The WebSocket handshake's Origin check.

Browsers always send ``Origin``; a foreign one means another site's page is trying
to use the visitor's cookies (cross-site WebSocket hijacking) and is refused.
Scripts and services send none: they are let through and must authenticate.

An Origin is compared whole, scheme, host and port, as Django's CSRF check
compares it for unsafe requests: it is allowed when it is the request's own
origin (``http``/``https`` for ``ws``/``wss``, and the ``Host`` the request
names, which ``ALLOWED_HOSTS`` must allow) or is listed in
``CSRF_TRUSTED_ORIGINS`` (wildcards such as ``https://*.example.com`` too). A
host name alone is not enough: ``http://gifts.example.com`` is another origin
than ``https://gifts.example.com``, and ``:8001`` another than ``:8000``.
"""

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.utils.http import is_same_domain

from realtime.auth.hosts import header, host_is_allowed, is_secure, request_host


def origin_allowed(scope: dict[str, Any], origin: str) -> bool:
    """Whether a handshake with this ``Origin`` header may proceed."""
    host = request_host(scope)
    if host is None:
        # Nothing to compare with (no Host header and no server address: only
        # in-process test harnesses): the Origin's host must be allowed.
        parsed = _split(origin)
        return (
            parsed is not None
            and bool(parsed.hostname)
            and host_is_allowed(parsed.netloc)
        )
    if host_is_allowed(host):
        own = f"{'https' if is_secure(scope) else 'http'}://{host}"
        if origin == own:
            return True
    return trusted_origin(origin)


def trusted_origin(origin: str) -> bool:
    """Whether ``CSRF_TRUSTED_ORIGINS`` lists the origin, as Django reads it."""
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    parsed = _split(origin)
    if parsed is None:
        return False
    return any(
        is_same_domain(parsed.netloc, pattern.netloc.removeprefix("*"))
        for pattern in map(urlsplit, (item for item in trusted if "*" in item))
        if pattern.scheme == parsed.scheme
    )


def _split(origin: str) -> Any:
    try:
        return urlsplit(origin)
    except ValueError:
        return None


class BrowserOriginValidator:
    """Refuse handshakes whose Origin is not the request's own or a trusted
    one (403); allow handshakes without an Origin."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        origin = header(scope, b"origin")
        if origin is None or origin_allowed(scope, origin):
            return await self.application(scope, receive, send)
        denier = WebsocketDenier()
        return await denier(scope, receive, send)
