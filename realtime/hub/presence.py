"""Who is present in a topic, across the deployment (PROTOCOL.md section 7).

A user is present in a topic while at least one of their connections that
follows it asked to be shown; ``join`` and ``leave`` count connections and
say when the user's first one arrived or last one left anywhere, which is when
the others hear a ``presence_diff``. With channels-redis the entries live in
Redis, per topic and user, counted per process (``hub/registry.py`` clears a
dead process's within ``CONNECTION_COUNT_TTL`` and has them written again
when Redis restarted empty); with the in-memory layer, in the process.
"""

import asyncio
import itertools
import json
import logging
import time
import weakref
from typing import Any

from realtime.hub.next_read import BatchedReads, NextRead
from realtime.hub.presence_scripts import JOIN_MANY, LEAVE, LEAVE_MANY, STATE
from realtime.hub.registry import ProcessRegistry, registry

logger = logging.getLogger(__name__)

Entry = dict[str, Any]
# Joins (or leaves) written together in one script call, at most this many.
JOIN_BATCH = 200


def entry_of(user_id: str, meta: dict[str, Any], connections: int) -> Entry:
    """A presence entry as clients get it (before a view's presentation)."""
    return {**meta, "user_id": user_id, "connections": connections}


class LocalPresence:
    """Presence in this process alone (the in-memory layer: one process)."""

    def __init__(self) -> None:
        # topic -> user -> (metadata, connection ids)
        self.topics: dict[str, dict[str, tuple[dict, set[str]]]] = {}

    async def join(
        self, topic: str, user_id: str, meta: dict[str, Any], connection: str
    ) -> Entry | None:
        """Count a connection in; the user's entry when it is their first."""
        users = self.topics.setdefault(topic, {})
        first = user_id not in users
        connections = users.setdefault(user_id, (meta, set()))[1]
        connections.add(connection)
        return entry_of(user_id, meta, 1) if first else None

    async def leave(self, topic: str, user_id: str, connection: str) -> Entry | None:
        """Count a connection out; the user's entry when it was their last."""
        users = self.topics.get(topic, {})
        if user_id not in users:
            return None
        meta, connections = users[user_id]
        connections.discard(connection)
        if connections:
            return None
        del users[user_id]
        if not users:
            self.topics.pop(topic, None)
        return entry_of(user_id, meta, 0)

    async def state(self, topic: str) -> dict[str, Entry]:
        """Everyone present in the topic, by user id."""
        return {
            user_id: entry_of(user_id, meta, len(connections))
            for user_id, (meta, connections) in self.topics.get(topic, {}).items()
        }


class RedisPresence(LocalPresence):
    """Presence of every live process, in Redis; the local part is kept too,
    to be written again when Redis lost it."""

    def __init__(self, processes: ProcessRegistry) -> None:
        super().__init__()
        self.processes = processes
        client, prefix = processes.client, processes.prefix
        self.prefix = f"{prefix}:rt-presence"
        self.join_script = client.register_script(JOIN_MANY)
        self.leave_script = client.register_script(LEAVE)
        self.leave_many_script = client.register_script(LEAVE_MANY)
        self.state_script = client.register_script(STATE)
        # Connections that join while one batch is written go in the next.
        self.joins = BatchedReads(self.join_many, batch_size=JOIN_BATCH)
        self.leaves = BatchedReads(self.leave_many, batch_size=JOIN_BATCH)
        self.asked = itertools.count()  # tells apart two asks alike
        processes.on_rewrite.append(self.rewrite)
        processes.on_beat.append(self.keep)
        processes.on_dead.append(self.forget)
        self.on_leaves: list[Any] = []  # (topic, entry) -> None, for a dead one's
        self.state_reads: NextRead | None = None  # made in the running loop

    def keys(self, topic: str, user_id: str, process: str | None = None) -> list[str]:
        return [
            f"{self.prefix}:{topic}:user:{user_id}",
            f"{self.prefix}:{topic}:users",
            f"{self.prefix}:{topic}:meta",
            f"{self.prefix}-of:{process or self.processes.process}",
            self.processes.live_key,
        ]

    async def join(
        self, topic: str, user_id: str, meta: dict[str, Any], connection: str
    ) -> Entry | None:
        await super().join(topic, user_id, meta, connection)
        await self.processes.join()
        ask = (topic, user_id, json.dumps(meta), next(self.asked))
        first = await self.joins.get(ask)
        return entry_of(user_id, meta, 1) if first else None

    async def join_many(self, asks: list[tuple[str, str, str, int]]) -> dict:
        """One script call for every join asked meanwhile: whether each was
        its user's first connection in its topic anywhere."""
        args: list[Any] = [self.processes.process, time.time(), self.prefix]
        for topic, user_id, meta, _ in asks:
            args += [topic, user_id, meta]
        of = f"{self.prefix}-of:{self.processes.process}"
        firsts = await self.join_script(keys=[of, self.processes.live_key], args=args)
        return {ask: bool(first) for ask, first in zip(asks, firsts, strict=True)}

    async def leave(self, topic: str, user_id: str, connection: str) -> Entry | None:
        users = self.topics.get(topic, {})
        if user_id not in users or connection not in users[user_id][1]:
            return None
        meta = users[user_id][0]
        await super().leave(topic, user_id, connection)
        if not self.processes.registered:
            return None  # this process left: its presence is gone already
        last = await self.leaves.get((topic, user_id, next(self.asked)))
        return entry_of(user_id, meta, 0) if last else None

    async def leave_many(self, asks: list[tuple[str, str, int]]) -> dict:
        """One script call for every leave asked meanwhile: whether each was
        its user's last connection in its topic anywhere."""
        args: list[Any] = [self.processes.process, time.time(), self.prefix]
        for topic, user_id, _ in asks:
            args += [topic, user_id]
        of = f"{self.prefix}-of:{self.processes.process}"
        lasts = await self.leave_many_script(
            keys=[of, self.processes.live_key], args=args
        )
        return {ask: bool(last) for ask, last in zip(asks, lasts, strict=True)}

    async def state(self, topic: str) -> dict[str, Entry]:
        # A crowd joining one topic shares its reads (see next_read.py).
        if self.state_reads is None:
            self.state_reads = NextRead(self.read_state)
        return await self.state_reads.get(topic)

    async def read_state(self, topic: str) -> dict[str, Entry]:
        """The topic's presence as Redis has it now (every live process's)."""
        found = await self.state_script(
            keys=[
                f"{self.prefix}:{topic}:users",
                f"{self.prefix}:{topic}:meta",
                self.processes.live_key,
            ],
            args=[f"{self.prefix}:{topic}:user:", time.time()],
        )
        state = {}
        for index in range(0, len(found), 3):
            user_id = _text(found[index])
            state[user_id] = entry_of(
                user_id, json.loads(_text(found[index + 1])), int(found[index + 2])
            )
        return state

    async def rewrite(self) -> None:
        """Write this process's presence again (Redis lost it): no diffs, the
        others never heard it leave."""
        for topic, users in self.topics.items():
            for user_id, (meta, connections) in users.items():
                keys = self.keys(topic, user_id)
                async with self.processes.client.pipeline(transaction=True) as pipe:
                    pipe.hset(keys[0], self.processes.process, len(connections))
                    pipe.sadd(keys[1], user_id)
                    pipe.hset(keys[2], user_id, json.dumps(meta))
                    pipe.sadd(keys[3], f"{topic}\n{user_id}")
                    await pipe.execute()

    async def keep(self) -> None:
        """Keep this process's list of entries a while past its last heartbeat
        (if every process stops, nobody is left to clear them)."""
        of = f"{self.prefix}-of:{self.processes.process}"
        await self.processes.client.expire(of, self.processes.ttl * 3)

    async def forget(self, process: str) -> None:
        """A dead process's connections leave; tell whoever listens of each
        user now absent everywhere."""
        client = self.processes.client
        of = f"{self.prefix}-of:{process}"
        for member in await client.smembers(of):
            topic, user_id = _text(member).split("\n", 1)
            keys = self.keys(topic, user_id, process)
            meta = await client.hget(keys[2], user_id)
            left = await self.leave_script(
                keys=keys, args=[user_id, process, time.time(), _text(member), "all"]
            )
            if left:
                entry = entry_of(user_id, json.loads(_text(meta or b"{}")), 0)
                for listener in self.on_leaves:
                    await listener(topic, entry)
        await client.delete(of)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


_stores: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LocalPresence]" = (
    weakref.WeakKeyDictionary()
)


def presence_store() -> LocalPresence:
    """The running loop's presence store: in Redis with channels-redis."""
    loop = asyncio.get_running_loop()
    found = _stores.get(loop)
    if found is None:
        processes = registry()
        if processes is None:
            found = LocalPresence()
        else:
            found = RedisPresence(processes)
            found.on_leaves.append(announce_leave)
        _stores[loop] = found
    return found


async def announce_leave(topic: str, entry: Entry) -> None:
    """Tell every process's followers that a dead process's user left."""
    from channels.layers import get_channel_layer

    from realtime.protocol.layer import presence_message
    from realtime.protocol.topics import group_name

    await get_channel_layer().group_send(
        group_name(topic), presence_message(topic, {}, {entry["user_id"]: entry})
    )
