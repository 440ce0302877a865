"""A minimal Django project for the realtime app's own tests: nothing but the
app and what it needs, so they prove the package without the example site.

The environment chooses the database and channel layer as the site's settings
do (``DATABASE_URL``, ``REDIS_URL``), so the suite runs on SQLite and the
in-memory layer, and on PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

import dj_database_url

DEBUG = True
SECRET_KEY = "realtime-tests-only"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "realtime",
    # A small app of a project adopting realtime: its realtime.py registers
    # a model and a policy, found by the realtime app itself.
    "realtime.tests.project.notes",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "realtime.ops.middleware.RequestContextMiddleware",
]
ROOT_URLCONF = "realtime.tests.project.urls"
ASGI_APPLICATION = "realtime.tests.project.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A test database of this run's own: a file for SQLite (consumers query from
# other threads, which a file database lets wait on its lock), a database
# named after the process on PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or "sqlite:///unused.sqlite3"
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"realtime-{os.getpid()}.sqlite3")
    }
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_realtime_{os.getpid()}"}

_redis = os.environ.get("REDIS_URL", "").strip()
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # No socket_timeout: redis-py enforces it with asyncio.wait_for,
                # which on Python 3.11 can swallow a cancellation.
                "hosts": [{"address": _redis, "max_connections": 1000}],
                # A prefix of this run's own: the suite empties the layer
                # around every test.
                "prefix": f"rt{os.getpid()}",
            },
        }
        if _redis
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}
REALTIME: dict = {}
