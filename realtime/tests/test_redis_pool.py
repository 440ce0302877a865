"""A burst of Redis round trips larger than the process's pool (every client
back at once after a deploy) waits for connections instead of failing.

The pool is Redis's, so the test runs on Redis in both passes: the second
pass's REDIS_URL, or the machine's own Redis in the first."""

import asyncio
import os

from django.test import override_settings

from realtime.hub.registry import registry

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


async def test_a_burst_larger_than_the_pool_gets_every_answer():
    layers = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "max_connections": 3}],
                "prefix": f"pool-test-{os.getpid()}",
            },
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        processes = registry()  # this loop's: made now, with a pool of 3
    key = f"{processes.prefix}:burst-test"
    try:
        counts = await asyncio.gather(*(processes.client.incr(key) for _ in range(40)))
        assert sorted(counts) == list(range(1, 41))
    finally:
        await processes.client.delete(key)
