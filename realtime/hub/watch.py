"""Is this process still in its channel-layer groups? One watch per process
(per event loop) checks it, and tells the connections when it is not.

channels-redis loses every group membership when Redis restarts without
persistence (or is flushed), and its core layer reconnects by itself: the
consumers of a process then wait forever on groups that no longer exist, and
nothing fails. The watch notices that the way a consumer would: it keeps its
own channel in a group and, every ``LAYER_CHECK_INTERVAL`` seconds, joins a new
group, sends a check message to the old one and waits for it to come back.
A send that raises (Redis down) or a message that does not come back within
``LAYER_CHECK_TIMEOUT`` (the group is gone) fails the check, and every
connection attached to the watch is told to close, so its client reconnects
and resumes from the event log.

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
from realtime.ops import metrics

logger = logging.getLogger(__name__)

CHECK_MESSAGE_TYPE = "realtime.layer_check"
GROUP_PREFIX = "rt-layer-check."

_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch]" = (
    weakref.WeakKeyDictionary()
)


class LayerWatch:
    """Checks one channel layer from one event loop; calls back on failure."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.failed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.wake = asyncio.Event()
        self.checks = 0  # checks passed so far
        self.task = asyncio.create_task(self.run(), name="realtime-layer-watch")

    def attach(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` once when the next check fails; returns a detacher."""
        future = self.failed

        def done(_: asyncio.Future) -> None:
            callback()

        future.add_done_callback(done)
        return lambda: future.remove_done_callback(done)

    def check_soon(self) -> None:
        """Run the next check now (a connection saw the layer fail)."""
        self.wake.set()

    def trip(self, error: BaseException) -> None:
        metrics.LAYER_CHECKS_FAILED.inc()
        logger.error(
            "The channel layer failed its check (%s: %s); closing this process's "
            "WebSocket connections so that their clients resume",
            type(error).__name__,
            error,
        )
        failed, self.failed = self.failed, asyncio.get_running_loop().create_future()
        failed.set_result(None)

    async def pause(self) -> None:
        with suppress(TimeoutError):
            async with asyncio.timeout(float(realtime_settings.LAYER_CHECK_INTERVAL)):
                await self.wake.wait()
        self.wake.clear()

    async def run(self) -> None:
        timeout = float(realtime_settings.LAYER_CHECK_TIMEOUT)
        while True:
            channel = group = None
            try:
                channel = await self.layer.new_channel()
                group = GROUP_PREFIX + uuid.uuid4().hex
                await self.layer.group_add(group, channel)
                while True:
                    await self.pause()
                    # Join the next group before proving the old one: a reset
                    # between two checks is always caught by the later one.
                    following = GROUP_PREFIX + uuid.uuid4().hex
                    await self.layer.group_add(following, channel)
                    token = uuid.uuid4().hex
                    async with asyncio.timeout(timeout):
                        await self.layer.group_send(
                            group, {"type": CHECK_MESSAGE_TYPE, "token": token}
                        )
                        while (await self.layer.receive(channel)).get("token") != token:
                            pass
                    self.checks += 1
                    with suppress(Exception):
                        await self.layer.group_discard(group, channel)
                    group = following
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.trip(error)
                if group is not None and channel is not None:
                    with suppress(Exception):
                        await self.layer.group_discard(group, channel)
                await self.pause()


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
