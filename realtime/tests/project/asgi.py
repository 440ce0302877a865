"""The test project's ASGI application, as the docs tell a project to build it."""

import os

from realtime.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "realtime.tests.project.settings")

application = get_asgi_application()
