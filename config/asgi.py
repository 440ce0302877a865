"""ASGI entry point: Django's HTTP plus the realtime endpoints (``/ws/``, the SSE
stream), as ``realtime.asgi`` builds them."""

import os

from realtime.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
