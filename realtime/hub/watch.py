"""Is this process still in its channel-layer groups? One watch per process
(per event loop) checks it, shard by shard, and tells the connections when it
is not.

channels-redis loses every group membership when Redis restarts without
persistence (or is flushed), and its core layer reconnects by itself: the
consumers of a process then wait forever on groups that no longer exist, and
nothing fails. The watch notices that the way a consumer would: it keeps its
own channel in a group on each shard and, every ``LAYER_CHECK_INTERVAL``
seconds, joins a new group there, sends a check message to the old one and
waits for it to come back. A send that raises (that Redis is down) or a message
that does not come back within ``LAYER_CHECK_TIMEOUT`` (the group is gone)
fails the check of that shard, and every listener hears which shard failed:
the hub then closes the connections that depend on a group there, so their
clients reconnect and resume from the event log, and the others carry on.

That timeout counts only the time in which this event loop ran on schedule
(``loop_time``): a loop starved of CPU, too far behind to read an answer that
has come in, is not a failed layer, and closing every connection then would
only add reconnections to the overload.

A connection that sees the layer fail itself (its receive raised) asks for a
check at once instead of waiting for the next one.
"""

import asyncio
import logging
import uuid
import weakref
from collections.abc import Callable
from contextlib import suppress
from typing import Any

from channels.layers import InMemoryChannelLayer

from realtime.conf import realtime_settings
from realtime.hub.loop_time import wait_in_loop_time
from realtime.hub.shards import group_on_shard, resubscribes, shard_count
from realtime.ops import metrics

logger = logging.getLogger(__name__)

CHECK_MESSAGE_TYPE = "realtime.layer_check"
GROUP_PREFIX = "rt-layer-check."
# Attempts at a channel of the watch's own before every shard counts as
# failed: the pub/sub layer subscribes a new channel on the shard its random
# name hashes to, so while one of N shards is down 1 in N attempts fails.
CHANNEL_ATTEMPTS = 10

Listener = Callable[[int], None]

_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch]" = (
    weakref.WeakKeyDictionary()
)


class LayerWatch:
    """Checks one channel layer, shard by shard, from one event loop; calls
    its listeners with the shard whose check failed."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.listeners: list[Listener] = []
        self.wake = asyncio.Event()
        self.checks = 0  # rounds in which every shard proved its group
        self.failing: set[int] = set()  # shards whose last check failed
        self.task = asyncio.create_task(self.run(), name="realtime-layer-watch")

    def attach(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(shard)`` whenever a check of a shard fails (and,
        on the pub/sub layer, when a failed shard answers again); returns a
        detacher."""
        self.listeners.append(listener)

        def detach() -> None:
            if listener in self.listeners:
                self.listeners.remove(listener)

        return detach

    def check_soon(self) -> None:
        """Run the next check now (a connection saw the layer fail)."""
        self.wake.set()

    def trip(self, shard: int, error: BaseException) -> None:
        metrics.LAYER_CHECKS_FAILED.inc()
        logger.error(
            "The channel layer failed its check on shard %d (%s: %s); closing the "
            "connections that depend on it so that their clients resume",
            shard,
            type(error).__name__,
            error,
        )
        self.tell(shard)

    def back(self, shard: int) -> None:
        """A failed shard answers again. The pub/sub layer resubscribes its
        groups by itself, so a connection that subscribed while the shard was
        down never heard what was sent meanwhile: every connection that
        depends on it resumes once more, from the log."""
        logger.warning(
            "The channel layer's shard %d answers again; the connections that "
            "depend on it resume once more to pick up what they missed",
            shard,
        )
        self.tell(shard)

    def tell(self, shard: int) -> None:
        for listener in tuple(self.listeners):
            try:
                listener(shard)
            except Exception:
                logger.exception("A layer watch listener failed")

    async def pause(self) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(float(realtime_settings.LAYER_CHECK_INTERVAL)):
                await self.wake.wait()
        self.wake.clear()

    async def own_channel(self) -> str:
        error: Exception = RuntimeError("no channel")
        for _ in range(CHANNEL_ATTEMPTS):
            try:
                return await self.layer.new_channel()
            except Exception as failed:
                error = failed
        raise error

    async def run(self) -> None:
        shards = range(shard_count(self.layer))
        while True:
            try:
                channel = await self.own_channel()
            except Exception as error:
                for shard in shards:
                    self.trip(shard, error)
                self.failing |= set(shards)
                await self.pause()
                continue
            groups: dict[int, str | None] = dict.fromkeys(shards)
            while True:
                failed, proven, waited_out = await self.check(channel, groups)
                for shard, error in failed.items():
                    self.trip(shard, error)
                if resubscribes(self.layer):
                    for shard in proven & self.failing:
                        self.back(shard)
                self.failing = (self.failing - proven) | set(failed)
                if waited_out:
                    # A receive cut short ends its channel on the pub/sub
                    # layer: leave the groups, start again on a new one.
                    for group in groups.values():
                        if group is not None:
                            with suppress(Exception):
                                await self.layer.group_discard(group, channel)
                    await self.pause()
                    break
                await self.pause()

    async def check(
        self, channel: str, groups: dict[int, str | None]
    ) -> tuple[dict[int, BaseException], set[int], bool]:
        """One round: every shard's group proven (or joined when it has none
        yet). Returns the shards that failed, with why, those proven, and
        whether a check message was waited for in vain."""
        failed: dict[int, BaseException] = {}
        tokens: dict[str, int] = {}
        previous = dict(groups)
        for shard, group in previous.items():
            # Join the next group before proving the old one: a reset
            # between two checks is always caught by the later one.
            groups[shard] = None
            try:
                following = group_on_shard(self.layer, GROUP_PREFIX, shard)
                await self.layer.group_add(following, channel)
                groups[shard] = following
                if group is not None:
                    token = uuid.uuid4().hex
                    tokens[token] = shard
                    await self.layer.group_send(
                        group, {"type": CHECK_MESSAGE_TYPE, "token": token}
                    )
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failed[shard] = error
                tokens = {key: value for key, value in tokens.items() if value != shard}
        sent, waited_out = set(tokens.values()), False
        try:
            if tokens:
                await self.answers(channel, tokens)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            for shard in tokens.values():
                failed[shard] = error
            waited_out = True
        # Only now: the pub/sub layer drops what arrives for a group it left.
        for group in previous.values():
            if group is not None:
                with suppress(Exception):
                    await self.layer.group_discard(group, channel)
        proven = sent - set(failed)
        if proven and not failed:
            self.checks += 1
        return failed, proven, waited_out

    async def answers(self, channel: str, tokens: dict[str, int]) -> None:
        """Receive on ``channel`` until every token in ``tokens`` came back,
        taking each from ``tokens``. Raises what a receive raised, or
        TimeoutError when ``LAYER_CHECK_TIMEOUT`` seconds of loop time passed:
        time in which this loop was behind does not count, so a starved loop
        that has not yet read an answer does not fail a healthy layer."""

        async def receive_all() -> None:
            while tokens:
                message = await self.layer.receive(channel)
                tokens.pop(message.get("token"), None)

        timeout = float(realtime_settings.LAYER_CHECK_TIMEOUT)
        loop = asyncio.get_running_loop()
        began = loop.time()
        receiving = asyncio.ensure_future(receive_all())
        try:
            if not await wait_in_loop_time(receiving, timeout):
                raise TimeoutError(f"no answer within {timeout:g} s of loop time")
            receiving.result()
        finally:
            if not receiving.done():
                receiving.cancel()
                await asyncio.wait({receiving})
            if not receiving.cancelled():
                receiving.exception()  # raised above, or not worth a log line
        waited = loop.time() - began
        if waited > timeout:
            logger.warning(
                "The channel layer's check answered after %.1f s, beyond "
                "LAYER_CHECK_TIMEOUT: this process's event loop was that far "
                "behind, and the layer is fine",
                waited,
            )


def deaf(layer: Any) -> bool:
    """Whether this loop's watch of a sharded ``layer`` found every shard
    failing: the process can deliver nothing (with the core layer, the shard
    that holds its inbox is down), whatever a send to one shard says. With one
    Redis a send says it all, and a check still pending after Redis came back
    must not keep the process out."""
    watch = _watches.get(asyncio.get_running_loop())
    shards = shard_count(layer)
    return (
        shards > 1
        and watch is not None
        and watch.layer is layer
        and len(watch.failing) >= shards
    )


def watch_for(layer: Any) -> LayerWatch | None:
    """The running loop's watch of ``layer``, started on first use.

    None for the in-memory layer (it cannot lose its groups) and when
    ``LAYER_CHECK_INTERVAL`` is None.
    """
    if (
        layer is None
        or isinstance(layer, InMemoryChannelLayer)
        or not realtime_settings.LAYER_CHECK_INTERVAL
    ):
        return None
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None or watch.layer is not layer or watch.task.done():
        if watch is not None:
            watch.task.cancel()
        watch = _watches[loop] = LayerWatch(layer)
    return watch
