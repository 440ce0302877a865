"""The host a connection claims, and whether ``ALLOWED_HOSTS`` allows it, read
as Django reads it for every request it serves (``HttpRequest.get_host()``).

Django never sees the realtime endpoints' requests (the SSE stream and the
WebSocket are routed around it), so they check here what Django would have:
the ``Host`` header (``X-Forwarded-Host`` with ``USE_X_FORWARDED_HOST``), else
the server's own address, validated against ``ALLOWED_HOSTS``.
"""

import logging
from typing import Any

from django.conf import settings
from django.http.request import split_domain_port, validate_host

# Django's own logger for refused hosts, so one filter or alert covers both.
security_logger = logging.getLogger("django.security.DisallowedHost")

# What Django allows when DEBUG is on and ALLOWED_HOSTS is empty.
DEBUG_HOSTS = [".localhost", "127.0.0.1", "[::1]"]


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """A request header's value (the first of that name), if present."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def is_secure(scope: dict[str, Any]) -> bool:
    """Whether the connection came over TLS, as Django's ``is_secure()`` says:
    ``SECURE_PROXY_SSL_HEADER`` when set and present, else the scheme the
    server saw (``https``/``wss``; servers take it from trusted proxies)."""
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, secure_value = proxy_header
        # Django names it as in META: HTTP_X_FORWARDED_PROTO.
        wire_name = name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        value = header(scope, wire_name)
        if value is not None:
            return value.split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") in {"https", "wss"}


def request_host(scope: dict[str, Any]) -> str | None:
    """``host[:port]`` as the request names it, not yet validated; None when
    it names none and the server gave no address (only in-process test
    harnesses do that: HTTP/1.1 clients always send ``Host``)."""
    if settings.USE_X_FORWARDED_HOST:
        forwarded = header(scope, b"x-forwarded-host")
        if forwarded is not None:
            return forwarded
    host = header(scope, b"host")
    if host is not None:
        return host
    server = scope.get("server")
    if not server or server[1] is None:  # no address, or a Unix socket
        return None
    name, port = server[0], str(server[1])
    return name if port == ("443" if is_secure(scope) else "80") else f"{name}:{port}"


def allowed_hosts() -> list[str]:
    """``ALLOWED_HOSTS``, with Django's local defaults when DEBUG is on and it
    is empty."""
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:
        return DEBUG_HOSTS
    return hosts


def host_is_allowed(host: str) -> bool:
    """Whether ``host[:port]`` passes ``ALLOWED_HOSTS`` as Django checks it."""
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed_hosts())


def refused_host(scope: dict[str, Any]) -> str | None:
    """The host a request claims if ``ALLOWED_HOSTS`` refuses it (logged as
    Django logs it), else None."""
    host = request_host(scope)
    if host is None or host_is_allowed(host):
        return None
    security_logger.error("Invalid HTTP_HOST header: %r.", host[:200])
    return host
