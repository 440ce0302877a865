"""A burst of Redis round trips larger than the process's pool (every client
back at once after a deploy) waits for connections instead of failing."""

import asyncio
import copy

import pytest
from django.conf import settings
from django.test import override_settings

from realtime.hub.registry import registry

pytestmark = pytest.mark.skipif(
    not settings.CHANNEL_LAYERS["default"]["BACKEND"].startswith("channels_redis"),
    reason="the pool is Redis's (the second pass runs on Redis)",
)


async def test_a_burst_larger_than_the_pool_gets_every_answer():
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"][0]["max_connections"] = 3
    with override_settings(CHANNEL_LAYERS=layers):
        processes = registry()  # this loop's: made now, with a pool of 3
    key = f"{processes.prefix}:burst-test"
    try:
        counts = await asyncio.gather(*(processes.client.incr(key) for _ in range(40)))
        assert sorted(counts) == list(range(1, 41))
    finally:
        await processes.client.delete(key)
