"""How many connections each user (and how many unauthenticated ones) the whole
deployment holds, so a cap holds across transports and server processes.

With channels-redis the counts live in Redis: each process keeps a hash of its
own counts under its id (see ``hub/registry.py``), rewritten from what it
really holds whenever Redis lost it and cleared when the process is found
dead; a connection is admitted when the sum over the live processes is below
the cap. With the in-memory layer (one process) the counts are the process's
own.
"""

import asyncio
import itertools
import logging
import time
import weakref
from collections import Counter
from typing import Any

from realtime.hub.next_read import BatchedReads
from realtime.hub.registry import ProcessRegistry, registry

logger = logging.getLogger(__name__)

# The key under which connections that have not signed in yet are counted.
ANONYMOUS = "anonymous"

# Admit one more connection for each (key, limit) pair in ARGV[3..], in
# order, unless the live processes already hold that limit under the key.
# KEYS[1]: the live processes (score: when each expires); KEYS[2]: this
# process's hash of counts; the others' hashes are ARGV[2] + their id. One
# call for every connection that asked while the previous one ran: a crowd
# signing in at once costs a few round trips, not one each.
_ADMIT_MANY = """
local now, prefix = tonumber(ARGV[1]), ARGV[2]
local processes = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
local totals, answers = {}, {}
for i = 3, #ARGV, 2 do
  local key, limit = ARGV[i], tonumber(ARGV[i + 1])
  local total = totals[key]
  if total == nil then
    total = 0
    for _, process in ipairs(processes) do
      total = total + tonumber(redis.call('HGET', prefix .. process, key) or '0')
    end
  end
  if total < limit then
    redis.call('HINCRBY', KEYS[2], key, 1)
    total = total + 1
    answers[#answers + 1] = 1
  else
    answers[#answers + 1] = 0
  end
  totals[key] = total
end
return answers
"""
# Admissions asked for together go in one script call, at most this many.
ADMIT_BATCH = 500


class CountUnavailable(Exception):
    """Redis, where the deployment counts its connections, did not answer."""


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

    def __init__(self, processes: ProcessRegistry) -> None:
        super().__init__()
        self.processes = processes
        self.hash_prefix = f"{processes.prefix}:rt-conns:"
        self.mine = self.hash_prefix + processes.process
        self.admit_script = processes.client.register_script(_ADMIT_MANY)
        self.admissions = BatchedReads(self._admit_many, batch_size=ADMIT_BATCH)
        self.asked = itertools.count()  # tells apart two asks for one key
        self.released: Counter[str] = Counter()  # counted out, not yet written
        self.releasing: asyncio.Task | None = None
        processes.on_rewrite.append(self.rewrite)
        processes.on_beat.append(self.keep)
        processes.on_dead.append(self.forget)

    @property
    def client(self) -> Any:
        return self.processes.client

    async def admit(self, key: str, limit: int) -> bool:
        try:
            await self.processes.join()
            admitted = await self.admissions.get((key, limit, next(self.asked)))
        except Exception as error:
            # The Redis that counts connections also carries the control
            # group: a connection let in now could hear nothing.
            logger.warning("Could not count a connection in Redis (%r)", error)
            raise CountUnavailable() from error
        if admitted:
            self.counts[key] += 1
        return bool(admitted)

    async def _admit_many(
        self, asks: list[tuple[str, int, int]]
    ) -> dict[tuple[str, int, int], bool]:
        args: list[Any] = [time.time(), self.hash_prefix]
        for key, limit, _ in asks:
            args += [key, limit]
        answers = await self.admit_script(
            keys=[self.processes.live_key, self.mine], args=args
        )
        return {ask: bool(answer) for ask, answer in zip(asks, answers, strict=True)}

    def release(self, key: str) -> None:
        super().release(key)
        if not self.processes.registered:
            return  # this process left: its counts are gone already
        # Connections that end together (a deploy, a network blip) are
        # counted out together: one round trip for the lot.
        self.released[key] += 1
        if self.releasing is None:
            self.releasing = asyncio.ensure_future(self._write_releases())
            self.releasing.add_done_callback(_ignore_failure)

    async def _write_releases(self) -> None:
        try:
            while self.released:
                released, self.released = self.released, Counter()
                async with self.client.pipeline(transaction=False) as pipe:
                    for key, count in released.items():
                        pipe.hincrby(self.mine, key, -count)
                    await pipe.execute()
        finally:
            self.releasing = None

    async def rewrite(self) -> None:
        """Write this process's counts again (Redis lost them)."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.mine)
            if self.counts:
                pipe.hset(self.mine, mapping=dict(self.counts))
            await pipe.execute()

    async def keep(self) -> None:
        """Keep this process's counts a while past its last heartbeat: if every
        process stops, nobody is left to clear them, and Redis does."""
        await self.client.expire(self.mine, self.processes.ttl * 3)

    async def forget(self, process: str) -> None:
        """A dead process's connections count no more."""
        await self.client.delete(self.hash_prefix + process)


def _ignore_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("Could not count a connection out (%r)", task.exception())


_ledgers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalLedger]" = (
    weakref.WeakKeyDictionary()
)


def ledger() -> LocalLedger:
    """The running loop's ledger: in Redis when the default channel layer is
    channels-redis, else this process's own."""
    loop = asyncio.get_running_loop()
    found = _ledgers.get(loop)
    if found is None:
        processes = registry()
        found = LocalLedger() if processes is None else RedisLedger(processes)
        _ledgers[loop] = found
    return found
