"""One channel-layer membership per topic per process, shared by its WebSockets.

Channels' own pattern puts every connection's channel in the topic's group, so a
process receives, decodes and queues each event once per subscriber, and every
consumer wakes its dispatch loop for it. A :class:`Fanout` instead joins each
topic's group once, with one channel of its own, receives each event once, and
hands it to the local followers of the topic: a follower's ``push(event)``
must not block (the WebSocket consumer queues it and sends from a task of its
own, so one slow client never holds up the others).

One fan-out runs per event loop and layer while anything follows a topic; it
stops when the last follower leaves. When the layer watch finds the groups
lost (Redis restarted empty), the fan-out forgets what it joined, so the next
follower joins again; the watch closes the connections that were following,
and their clients resume from the event log.
"""

import asyncio
import logging
import weakref
from typing import Any, Protocol

from realtime.hub.watch import watch_for
from realtime.protocol.layer import EVENT as EVENT_MESSAGE_TYPE
from realtime.protocol.topics import group_name

logger = logging.getLogger(__name__)

# Seconds between re-joins of every followed group: channels-redis's core layer
# drops a membership after its group_expiry (a day here) however busy it is.
REJOIN_INTERVAL = 3600
# Seconds to wait before receiving again after the layer failed a receive.
RETRY_DELAY = 1.0


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning(
            "Could not leave a group (%s); it expires on its own",
            type(task.exception()).__name__,
        )


class Follower(Protocol):
    def push(self, event: dict[str, Any]) -> None:
        """Take one live event of a followed topic; must not block or raise."""


_fanouts: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Fanout]" = (
    weakref.WeakKeyDictionary()
)


def fanout_for(layer: Any) -> "Fanout":
    """The running loop's fan-out for ``layer``, started on first use."""
    loop = asyncio.get_running_loop()
    fanout = _fanouts.get(loop)
    if fanout is None or fanout.closed or fanout.layer is not layer:
        fanout = _fanouts[loop] = Fanout(layer)
    return fanout


class Fanout:
    """The groups one process follows and who follows each locally."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.followers: dict[str, set[Follower]] = {}
        self.joined: set[str] = set()
        self.closed = False
        self.held = 0  # follows in progress or in place; at 0 the fan-out stops
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._channel: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        watch = watch_for(layer)
        self._detach_watch = watch.attach(self.forget_groups) if watch else None

    def _lock(self, topic: str) -> asyncio.Lock:
        lock = self._locks.get(topic)
        if lock is None:
            lock = self._locks[topic] = asyncio.Lock()
        return lock

    async def channel(self) -> str:
        """This fan-out's channel, made (and its receiver started) on first use."""
        if self._channel is None:
            self._channel = asyncio.ensure_future(self.layer.new_channel())
        try:
            name = await asyncio.shield(self._channel)
        except Exception:
            self._channel = None  # let the next follower try again
            raise
        if not self._tasks and not self.closed:
            self._tasks = [
                asyncio.create_task(self._receive(name), name="realtime-fanout"),
                asyncio.create_task(self._rejoin(name), name="realtime-fanout-rejoin"),
            ]
        return name

    async def follow(self, topic: str, follower: Follower) -> None:
        """Deliver the topic's events to ``follower`` from now on.

        Returns once the group is joined: anything committed after that
        arrives, so the caller reads the topic's position afterwards.
        """
        self.held += 1
        try:
            async with self._lock(topic):
                if topic not in self.joined:
                    await self.layer.group_add(group_name(topic), await self.channel())
                    self.joined.add(topic)
                followers = self.followers.setdefault(topic, set())
                if follower in followers:
                    self.held -= 1  # already held for this follower and topic
                followers.add(follower)
        except BaseException:
            self._release()
            raise

    async def unfollow(self, topic: str, follower: Follower) -> None:
        """Stop delivering the topic to ``follower``; leave the group if it was
        the last local follower."""
        if self._drop(topic, follower):
            await self._leave(topic)

    def abandon(self, topic: str, follower: Follower) -> None:
        """Stop delivering at once, and leave the group in the background: for
        a connection that is gone and cannot wait for the layer."""
        if self._drop(topic, follower):
            task = asyncio.ensure_future(self._leave(topic))
            task.add_done_callback(_log_failure)

    def _drop(self, topic: str, follower: Follower) -> bool:
        followers = self.followers.get(topic)
        if followers is None or follower not in followers:
            return False
        followers.discard(follower)  # no event reaches it from here on
        return True

    async def _leave(self, topic: str) -> None:
        try:
            async with self._lock(topic):
                if self.followers.get(topic) or topic not in self.followers:
                    return
                del self.followers[topic]
                if topic in self.joined:
                    self.joined.discard(topic)
                    await self.layer.group_discard(
                        group_name(topic), await self.channel()
                    )
        finally:
            self._release()

    def forget_groups(self) -> None:
        """The layer lost its groups: join again on the next follow, and hear
        of the next loss too (the watch calls back once per failure)."""
        self.joined.clear()
        watch = watch_for(self.layer)
        if watch is not None and not self.closed:
            self._detach_watch = watch.attach(self.forget_groups)

    def _release(self) -> None:
        self.held -= 1
        if self.held > 0 or self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        if self._detach_watch is not None:
            self._detach_watch()

    def deliver(self, event: dict[str, Any]) -> None:
        """Hand one event to every local follower of its topic."""
        for follower in tuple(self.followers.get(event["topic"], ())):
            try:
                follower.push(event)
            except Exception:
                logger.exception("A follower refused an event of %s", event["topic"])

    async def _receive(self, channel: str) -> None:
        failing = False
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not failing:
                    logger.error(
                        "The fan-out could not receive from the channel layer "
                        "(%s: %s); retrying",
                        type(error).__name__,
                        error,
                    )
                    failing = True
                    if (watch := watch_for(self.layer)) is not None:
                        watch.check_soon()
                await asyncio.sleep(RETRY_DELAY)
                continue
            failing = False
            if message.get("type") == EVENT_MESSAGE_TYPE:
                self.deliver(message["event"])

    async def _rejoin(self, channel: str) -> None:
        while True:
            await asyncio.sleep(REJOIN_INTERVAL)
            for topic in list(self.joined):
                try:
                    await self.layer.group_add(group_name(topic), channel)
                except Exception as error:
                    logger.warning(
                        "Could not renew the group of %s (%s)",
                        topic,
                        type(error).__name__,
                    )
