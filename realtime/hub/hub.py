"""One channel-layer membership per topic per process, shared by its sessions.

Channels' own pattern puts every connection's channel in the topic's group, so
a process receives, decodes and queues each event once per subscriber. A
:class:`Hub` instead joins each topic's group once, with one channel of its
own, receives each event once, and hands it to the topic's local sessions
(``session.push(event)`` never blocks: the session queues it and writes from a
task of its own, so one slow client never holds up the others).

The hub also joins the control group once, for re-authorization requests that
concern every follower of a resource type, and each local user's group once,
for requests that concern one user's connections: so a connection needs no
channel of its own, and opening one costs no layer round trip when its user
is already here. It relays the layer watch too: when the layer lost its
groups (Redis restarted empty) it forgets what it joined and closes its
sessions, whose clients resume from the event log.

One hub runs per event loop and layer while any session is attached to it.
"""

import asyncio
import logging
import weakref
from typing import Any, Protocol

from realtime.hub.reorder import Reorder
from realtime.hub.shards import shard_of
from realtime.hub.watch import deaf, watch_for
from realtime.protocol import layer as layer_messages
from realtime.protocol.topics import USER_GROUP_PREFIX, group_name, user_group_name

logger = logging.getLogger(__name__)

# Seconds between re-joins of every joined group: channels-redis's core layer
# drops a membership after its group_expiry (a day here) however busy it is.
REJOIN_INTERVAL = 3600
# Seconds to wait before receiving again after the layer failed a receive.
RETRY_DELAY = 1.0


class Member(Protocol):
    """What the hub needs of a session."""

    def push(self, message: dict[str, Any]) -> None:
        """Take one live change of a followed topic (its envelope per view);
        must not block or raise."""

    def push_client_event(self, message: dict[str, Any]) -> None:
        """Take a client event of a followed topic; must not block or raise."""

    def push_presence(self, message: dict[str, Any]) -> None:
        """Take a presence change of a followed topic; must not block or raise."""

    def follows_any(self, resource_types: frozenset[str]) -> bool:
        """Whether it follows a topic of one of these resource types."""

    def reauthorize_soon(self, message: dict[str, Any]) -> None:
        """Re-check its grants in a task of its own."""

    def layer_failed(self) -> None:
        """The layer lost its groups: end, so that the client resumes."""


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning(
            "Could not leave a group (%s); it expires on its own",
            type(task.exception()).__name__,
        )


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = (
    weakref.WeakKeyDictionary()
)


def hub_for(layer: Any) -> "Hub":
    """The running loop's hub for ``layer``, made on first use."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.closed or hub.layer is not layer:
        hub = _hubs[loop] = Hub(layer)
    return hub


class Hub:
    """The groups one process follows and which local sessions follow each."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.members: set[Member] = set()
        self.followers: dict[str, set[Member]] = {}
        self.joined: set[str] = set()
        self.closed = False
        self.held = 0  # attached members and leaves in flight; at 0 it stops
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._channel: asyncio.Future | None = None
        self._tasks: list[asyncio.Task] = []
        self.reorder = Reorder(self.deliver)  # events pass through it, in order
        watch = watch_for(layer)
        self._detach_watch = watch.attach(self.groups_lost) if watch else None

    @staticmethod
    def _group(name: str) -> str:
        """The layer group of a joined name: a topic, a user's group (by its
        group name) or the control group."""
        if name == layer_messages.CONTROL_GROUP or name.startswith(USER_GROUP_PREFIX):
            return name
        return group_name(name)

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock

    async def channel(self) -> str:
        """This hub's channel, made (and its receiver started) on first use."""
        if self._channel is None:
            self._channel = asyncio.ensure_future(self.layer.new_channel())
        try:
            name = await asyncio.shield(self._channel)
        except Exception:
            self._channel = None  # let the next session try again
            raise
        if not self._tasks and not self.closed:
            self._tasks = [
                asyncio.create_task(self._receive(name), name="realtime-hub"),
                asyncio.create_task(self._rejoin(name), name="realtime-hub-rejoin"),
            ]
        return name

    # -- members -----------------------------------------------------------

    async def attach(self, member: Member) -> None:
        """Count a session in; returns once the control group is joined."""
        self.held += 1
        self.members.add(member)
        try:
            await self._join(layer_messages.CONTROL_GROUP)
        except BaseException:
            self.detach(member)
            raise

    def detach(self, member: Member) -> None:
        """Forget a session at once: no event reaches it from here on; groups
        nobody follows any more are left in the background."""
        if member not in self.members:
            return
        self.members.discard(member)
        for topic, followers in list(self.followers.items()):
            if member in followers:
                followers.discard(member)
                self._leave_soon(topic)
        self._release()

    # -- topics ------------------------------------------------------------

    async def follow(self, topic: str, member: Member) -> None:
        """Deliver the topic's events to ``member`` from now on.

        Returns once the group is joined: anything committed after that
        arrives, so the caller reads the topic's position afterwards.
        """
        await self._join(topic)
        self.followers.setdefault(topic, set()).add(member)

    async def follow_user(self, user_id: object, member: Member) -> None:
        """Hand ``member`` the re-authorization requests of its user from now
        on (the user's group is joined once per process)."""
        name = user_group_name(user_id)
        await self.follow(name, member)
        if member not in self.members:  # detached while the group was joined
            self.abandon(name, member)

    async def unfollow(self, topic: str, member: Member) -> None:
        """Stop delivering the topic to ``member``; leave the group if it was
        the last local follower."""
        followers = self.followers.get(topic)
        if followers is not None and member in followers:
            followers.discard(member)
            self.held += 1
            await self._leave(topic)

    def abandon(self, topic: str, member: Member) -> None:
        """Stop delivering at once and leave the group in the background."""
        followers = self.followers.get(topic)
        if followers is not None and member in followers:
            followers.discard(member)
            self._leave_soon(topic)

    async def _join(self, name: str) -> None:
        if name in self.joined:
            lock = self._locks.get(name)
            if lock is None or not lock.locked():
                return  # joined, and no leave under way: nothing to wait for
        async with self._lock(name):
            if name not in self.joined:
                if deaf(self.layer):
                    # Its inbox's shard is down (core layer): a membership now
                    # would only make every send to the group fail, for the
                    # processes that can hear too.
                    raise ConnectionError("this process hears nothing from the layer")
                await self.layer.group_add(self._group(name), await self.channel())
                self.joined.add(name)

    def _leave_soon(self, topic: str) -> None:
        self.held += 1
        task = asyncio.ensure_future(self._leave(topic))
        task.add_done_callback(_log_failure)

    async def _leave(self, topic: str) -> None:
        try:
            async with self._lock(topic):
                if self.followers.get(topic) or topic not in self.followers:
                    return
                del self.followers[topic]
                self.reorder.forget(topic)
                # Left even when the watch said its shard failed: a process
                # whose own inbox is down (core layer) is still a member on
                # the shards that are up, and would fail every send there.
                self.joined.discard(topic)
                await self.layer.group_discard(self._group(topic), await self.channel())
        finally:
            self._release()

    def _release(self) -> None:
        self.held -= 1
        if self.held > 0 or self.closed:
            return
        self.closed = True
        for task in self._tasks:
            task.cancel()
        for topic in list(self.reorder.held):
            self.reorder.forget(topic)
        if self._detach_watch is not None:
            self._detach_watch()
        if layer_messages.CONTROL_GROUP in self.joined and self._channel is not None:
            self.joined.discard(layer_messages.CONTROL_GROUP)
            task = asyncio.ensure_future(self._leave_control())
            task.add_done_callback(_log_failure)

    async def _leave_control(self) -> None:
        channel = await self._channel
        await self.layer.group_discard(layer_messages.CONTROL_GROUP, channel)

    # -- the layer -----------------------------------------------------------

    def groups_lost(self, shard: int | None = None) -> None:
        """The watch found the groups on ``shard`` lost (None: every shard):
        join them again on the next follow, and end every session here that
        depends on a group there (a followed topic's, its user's, the control
        group), so that its client resumes; the others carry on."""

        def lost(group: str) -> bool:
            return shard is None or shard_of(self.layer, group) == shard

        groups = {name: self._group(name) for name in self.joined}
        self.joined -= {name for name, group in groups.items() if lost(group)}
        for name in self.reorder.last.keys() - self.joined:
            self.reorder.forget(name)  # what arrives after a rejoin starts anew
        everyone = lost(layer_messages.CONTROL_GROUP)
        for member in tuple(self.members):
            if everyone or any(
                lost(self._group(name))
                for name, followers in self.followers.items()
                if member in followers
            ):
                member.layer_failed()

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand one change (its envelope per view) to every local follower of
        its topic."""
        for member in tuple(self.followers.get(message["topic"], ())):
            try:
                member.push(message)
            except Exception:
                logger.exception("A session refused an event of %s", message["topic"])

    def deliver_to_followers(self, message: dict[str, Any], method: str) -> None:
        """Hand a client event or a presence change to every local follower of
        its topic."""
        for member in tuple(self.followers.get(message["topic"], ())):
            try:
                getattr(member, method)(message)
            except Exception:
                logger.exception("A session refused a %s", message["type"])

    def reauthorize(self, message: dict[str, Any]) -> None:
        """Ask the sessions of the message's user, or those following its
        resource types, to re-check."""
        if "user_id" in message:
            members = tuple(self.followers.get(user_group_name(message["user_id"]), ()))
        else:
            types = frozenset(message.get("resource_types") or ())
            members = tuple(m for m in self.members if m.follows_any(types))
        for member in members:
            member.reauthorize_soon(message)

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
                        "The hub could not receive from the channel layer "
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
            kind = message.get("type")
            if kind == layer_messages.EVENT:
                self.reorder.take(message)
            elif kind == layer_messages.CLIENT_EVENT:
                self.deliver_to_followers(message, "push_client_event")
            elif kind == layer_messages.PRESENCE:
                self.deliver_to_followers(message, "push_presence")
            elif kind == layer_messages.REAUTHORIZE:
                self.reauthorize(message)

    async def _rejoin(self, channel: str) -> None:
        while True:
            await asyncio.sleep(REJOIN_INTERVAL)
            for name in list(self.joined):
                try:
                    await self.layer.group_add(self._group(name), channel)
                except Exception as error:
                    logger.warning(
                        "Could not renew the group of %s (%s)",
                        name,
                        type(error).__name__,
                    )
