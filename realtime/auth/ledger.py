"""How many connections each user (and how many unauthenticated ones) the whole
deployment holds, so a cap holds across transports and server processes.

With channels-redis the counts live in Redis: each process keeps a hash of its
own counts, which a heartbeat rewrites from what the process really holds
(so it heals after Redis restarts empty) and lets expire if the process dies;
a connection is admitted when the sum over the live processes is below the
cap. A process that dies without a word stops counting within
``CONNECTION_COUNT_TTL`` seconds. With the in-memory layer (one process) the
counts are the process's own.
"""

import asyncio
import logging
import time
import uuid
import weakref
from collections import Counter
from typing import Any

from django.conf import settings

from realtime.conf import realtime_settings

logger = logging.getLogger(__name__)

# The key under which connections that have not signed in yet are counted.
ANONYMOUS = "anonymous"

# Admit one more connection for ARGV[2] unless the live processes already hold
# ARGV[3]; KEYS[1] is the set of live processes (score: when each expires),
# KEYS[2] this process's hash of counts; the others' hashes are ARGV[6] + id.
_ADMIT = """
local now, key = tonumber(ARGV[1]), ARGV[2]
local limit, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[5])
local total = 0
for _, process in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  total = total + tonumber(redis.call('HGET', ARGV[6] .. process, key) or '0')
end
if total >= limit then return 0 end
redis.call('HINCRBY', KEYS[2], key, 1)
redis.call('EXPIRE', KEYS[2], ttl)
return 1
"""


class LocalLedger:
    """The counts of this process alone (the in-memory layer: one process)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    async def admit(self, key: str, limit: int) -> bool:
        """Count one more connection under ``key`` unless ``limit`` are held."""
        if self.counts[key] >= limit:
            return False
        self.counts[key] += 1
        return True

    def release(self, key: str) -> None:
        """Count one connection under ``key`` less."""
        self.counts[key] -= 1
        if self.counts[key] <= 0:
            del self.counts[key]


class RedisLedger(LocalLedger):
    """The counts of every live process, in Redis."""

    def __init__(self, client: Any, prefix: str) -> None:
        super().__init__()
        self.client = client
        self.process = uuid.uuid4().hex
        self.processes_key = f"{prefix}:rt-conns"
        self.hash_prefix = f"{prefix}:rt-conns:"
        self.mine = self.hash_prefix + self.process
        self.admit_script = client.register_script(_ADMIT)
        self.heartbeat: asyncio.Task | None = None

    @property
    def ttl(self) -> int:
        return int(realtime_settings.CONNECTION_COUNT_TTL)

    async def admit(self, key: str, limit: int) -> bool:
        self.keep_beating()
        try:
            admitted = await self.admit_script(
                keys=[self.processes_key, self.mine],
                args=[
                    time.time(),
                    key,
                    limit,
                    self.ttl,
                    self.process,
                    self.hash_prefix,
                ],
            )
        except Exception as error:
            # Redis cannot count: this process's own count still caps it.
            logger.warning("Could not count a connection in Redis (%r)", error)
            return await super().admit(key, limit)
        if admitted:
            self.counts[key] += 1
        return bool(admitted)

    def release(self, key: str) -> None:
        super().release(key)
        task = asyncio.ensure_future(self.client.hincrby(self.mine, key, -1))
        task.add_done_callback(_ignore_failure)

    def keep_beating(self) -> None:
        if self.heartbeat is None or self.heartbeat.done():
            self.heartbeat = asyncio.get_running_loop().create_task(
                self.beat(), name="realtime-connection-counts"
            )

    async def beat(self) -> None:
        """Rewrite this process's counts and stay among the live processes."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    pipe.delete(self.mine)
                    if self.counts:
                        pipe.hset(self.mine, mapping=dict(self.counts))
                        pipe.expire(self.mine, self.ttl)
                    expires = time.time() + self.ttl
                    pipe.zadd(self.processes_key, {self.process: expires})
                    await pipe.execute()
            except Exception as error:
                logger.warning("Could not renew connection counts (%r)", error)


def _ignore_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("Could not count a connection out (%r)", task.exception())


_ledgers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalLedger]" = (
    weakref.WeakKeyDictionary()
)


def ledger() -> LocalLedger:
    """The running loop's ledger: in Redis when the default channel layer is
    channels-redis (its first host), else this process's own."""
    loop = asyncio.get_running_loop()
    found = _ledgers.get(loop)
    if found is None:
        found = _ledgers[loop] = _make_ledger()
    return found


def _make_ledger() -> LocalLedger:
    config = getattr(settings, "CHANNEL_LAYERS", {}).get("default", {})
    if not config.get("BACKEND", "").startswith("channels_redis."):
        return LocalLedger()
    from channels_redis.utils import create_pool, decode_hosts
    from redis.asyncio import Redis

    options = config.get("CONFIG", {})
    host = decode_hosts(options.get("hosts"))[0]
    return RedisLedger(
        Redis(connection_pool=create_pool(host)), options.get("prefix", "asgi")
    )
