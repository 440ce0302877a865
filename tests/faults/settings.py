"""Settings of the fault tests' server processes: the normal settings, with
``REALTIME`` keys from ``REALTIME_TEST_SETTINGS`` (JSON) on top, so a test can
shorten timeouts and limits without a settings file of its own."""

import json
import os

from config.settings import *  # noqa: F403
from config.settings import REALTIME, REST_FRAMEWORK

REALTIME.update(json.loads(os.environ.get("REALTIME_TEST_SETTINGS", "{}")))

# These tests make many changes quickly and are not about throttling (its own
# tests are in giftlists/tests): every rate far above what they use.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        scope: "100000/hour"
        for scope in REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
    },
}
