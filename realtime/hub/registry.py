"""The live server processes of a deployment, in Redis where it runs.

What a process holds for the whole deployment (its connections' places in
the per-user caps, its followers' presence) is kept in Redis under the
process's id. A heartbeat every ``CONNECTION_COUNT_TTL``/3 seconds keeps the
process among the live ones; a process that stops clears what it held as it
goes (ASGI lifespan shutdown); one that dies without a word drops out after
``CONNECTION_COUNT_TTL`` seconds, and the next heartbeat of any process clears
what it held. A heartbeat that finds its process missing (Redis
restarted empty) has everything the process holds written again.
"""

import asyncio
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from realtime.conf import realtime_settings

logger = logging.getLogger(__name__)

Hook = Callable[..., Awaitable[None]]


class ProcessRegistry:
    """This process's id and heartbeat in Redis, and what to do for processes
    found dead or for Redis found empty."""

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.process = uuid.uuid4().hex
        self.live_key = f"{prefix}:rt-processes"
        self.on_rewrite: list[Hook] = []  # () -> None: write it all again
        self.on_beat: list[Hook] = []  # () -> None: keep what it holds alive
        self.on_dead: list[Hook] = []  # (process id) -> None: clear what it held
        self.heartbeat: asyncio.Task | None = None
        self.registered = False

    @property
    def ttl(self) -> int:
        return int(realtime_settings.CONNECTION_COUNT_TTL)

    async def join(self) -> None:
        """Be among the live processes now (before counting anything), and
        keep beating."""
        self.keep_beating()
        if not self.registered:
            expires = time.time() + self.ttl
            await self.client.zadd(self.live_key, {self.process: expires})
            self.registered = True

    async def leave(self) -> None:
        """This process stops: give back what it held (its places in the
        connection caps, its presence) now, as for a dead process, instead of
        after ``CONNECTION_COUNT_TTL``: clients reconnecting after a deploy
        are not refused for connections that no longer exist."""
        if self.heartbeat is not None:
            self.heartbeat.cancel()
        if not self.registered:
            return
        self.registered = False  # what it would still write goes nowhere
        await self.client.zrem(self.live_key, self.process)
        for hook in self.on_dead:
            await hook(self.process)

    def keep_beating(self) -> None:
        """Start the heartbeat if it is not running (it runs for the loop's life)."""
        if self.heartbeat is None or self.heartbeat.done():
            self.heartbeat = asyncio.get_running_loop().create_task(
                self.beat(), name="realtime-process-heartbeat"
            )

    async def beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.beat_once()
            except Exception as error:
                logger.warning("The process heartbeat failed (%r)", error)

    async def beat_once(self) -> None:
        """Stay among the live processes; rewrite if Redis forgot us; clear
        what dead processes held."""
        now = time.time()
        added = await self.client.zadd(self.live_key, {self.process: now + self.ttl})
        if added:  # we were not there: Redis restarted empty, or was flushed
            for hook in self.on_rewrite:
                await hook()
        for hook in self.on_beat:
            await hook()
        dead = await self.client.zrangebyscore(self.live_key, "-inf", now)
        for process in dead:
            name = process.decode() if isinstance(process, bytes) else process
            for hook in self.on_dead:
                await hook(name)
            await self.client.zrem(self.live_key, name)


_registries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def registry() -> ProcessRegistry | None:
    """The running loop's registry when the default channel layer is
    channels-redis, else None: one process, nothing to share.

    With several Redis shards it lives on the shard that carries the control
    group: every connection already depends on that one (re-authorization
    requests travel through it), so keeping presence and connection counts
    there adds no second shard whose loss stops every connection."""
    loop = asyncio.get_running_loop()
    if loop not in _registries:
        _registries[loop] = _make_registry()
    return _registries[loop]


# Redis connections per process for the registry, the ledger and presence,
# and the seconds a command waits for one of them before it fails.
POOL_SIZE = 100
POOL_WAIT = 20


def _make_registry() -> ProcessRegistry | None:
    config = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {})
    if not config.get("BACKEND", "").startswith("channels_redis."):
        return None
    from channels.layers import get_channel_layer
    from channels_redis.utils import create_pool, decode_hosts
    from redis.asyncio import BlockingConnectionPool, Redis

    from realtime.hub.shards import shard_of
    from realtime.protocol.layer import CONTROL_GROUP

    options = config.get("CONFIG", {})
    hosts = decode_hosts(options.get("hosts"))
    shard = shard_of(get_channel_layer(), CONTROL_GROUP) if len(hosts) > 1 else 0
    if len(hosts) > 1:
        logger.info(
            "Presence and connection counts are kept on Redis shard %d (of %d), "
            "with the control group",
            shard,
            len(hosts),
        )
    host = dict(hosts[shard])
    if "address" in host:
        # A storm of connections (every client back after a deploy) asks for
        # more round trips at once than the pool holds: they wait their turn
        # for a connection rather than fail with "Too many connections".
        address = host.pop("address")
        host["max_connections"] = min(
            host.get("max_connections") or POOL_SIZE, POOL_SIZE
        )
        pool = BlockingConnectionPool.from_url(address, timeout=POOL_WAIT, **host)
    else:  # Sentinel: channels-redis's pool follows the master
        pool = create_pool(host)
    return ProcessRegistry(Redis(connection_pool=pool), options.get("prefix", "asgi"))
