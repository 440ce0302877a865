"""ASGI entry point: the SSE stream, then the rest of HTTP to Django; WebSocket
through the origin check and auth."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from realtime.origin import BrowserOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.sse import SseConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        # The SSE stream is a long-lived async response, so it is served by a
        # consumer rather than a Django view; every other path goes to Django.
        "http": URLRouter(
            [
                path("realtime/sse/", AuthMiddlewareStack(SseConsumer.as_asgi())),
                re_path(r"", django_asgi_app),
            ]
        ),
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
