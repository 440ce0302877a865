"""Settings for the test suite: the normal settings with the development key.

The environment still chooses the database and channel layer, so the same
suite runs on SQLite and the in-memory layer, and on PostgreSQL and Redis.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_DEBUG", "1")

from .settings import *  # noqa: F403
from .settings import CHANNEL_LAYERS, DATABASES

# A test database of this run's own, so two runs on one machine do not collide.
# For SQLite a file, not memory: consumers do their database work in other
# threads, and a file database lets them wait on its lock.
_database = DATABASES["default"]
if _database["ENGINE"].endswith("sqlite3"):
    _database["TEST"] = {
        "NAME": str(
            Path(tempfile.gettempdir()) / f"giftlists-test-{os.getpid()}.sqlite3"
        )
    }
else:
    _database["TEST"] = {"NAME": f"test_{_database['NAME']}_{os.getpid()}"}

# Likewise a Redis key prefix of this run's own: the suite empties the channel
# layer around every test, which must not touch another run's keys.
if "CONFIG" in CHANNEL_LAYERS["default"] and "REDIS_PREFIX" not in os.environ:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test{os.getpid()}"

# The cache stays in this process: tests clear it (sign-in throttle counts),
# which on Redis would empty a database other runs share.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
