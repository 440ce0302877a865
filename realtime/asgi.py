"""``get_asgi_application()``: Django's, plus the realtime endpoints.

In a project's ``asgi.py``, replace Django's import with this one::

    from realtime.asgi import get_asgi_application

    application = get_asgi_application()

HTTP goes to Django, except the Server-Sent Events stream; WebSockets at
``/ws/`` pass the Origin check and sign in with the session cookie (or a token,
see PROTOCOL.md section 2). Nothing here reads settings before Django is set up.
"""

from typing import Any

from realtime.protocol.paths import SSE_PATH, WEBSOCKET_PATH


def get_asgi_application() -> Any:
    """Set Django up and return the project's ASGI application."""
    from django.core.asgi import get_asgi_application as django_application

    django_app = django_application()  # sets Django up first
    return RealtimeApplication(django_app)


class RealtimeApplication:
    """Routes each connection: the realtime endpoints, else Django."""

    def __init__(self, django_app: Any) -> None:
        from realtime.auth.origin import BrowserOriginValidator
        from realtime.auth.scope import SessionAuthMiddleware
        from realtime.transports.sse import SseConsumer
        from realtime.transports.websocket import RealtimeConsumer

        self.django = django_app
        self.sse = SessionAuthMiddleware(SseConsumer.as_asgi())
        self.websocket = BrowserOriginValidator(
            SessionAuthMiddleware(RealtimeConsumer.as_asgi())
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        from realtime.publishing.sending import remember_server_loop

        remember_server_loop()
        kind = scope["type"]
        if kind == "http":
            if scope["path"] == SSE_PATH:
                return await self.sse(scope, receive, send)
            return await self.django(scope, receive, send)
        if kind == "websocket":
            if scope["path"] == WEBSOCKET_PATH:
                return await self.websocket(scope, receive, send)
            # Refused before acceptance: the server answers the handshake 403.
            return await send({"type": "websocket.close", "code": 1000})
        if kind == "lifespan":
            from realtime.ops.lifespan import lifespan

            return await lifespan(receive, send)
        raise ValueError(f"the realtime application does not serve {kind!r}")
