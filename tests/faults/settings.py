"""Settings of the fault tests' server processes: the normal settings, with
``REALTIME`` keys from ``REALTIME_TEST_SETTINGS`` (JSON) on top, so a test can
shorten timeouts and limits without a settings file of its own."""

import json
import os

from config.settings import *  # noqa: F403
from config.settings import REALTIME

REALTIME.update(json.loads(os.environ.get("REALTIME_TEST_SETTINGS", "{}")))
