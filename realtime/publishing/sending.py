"""The after-commit send: committed events and control requests to the layer.

If a send fails (Redis down) the change still stands, the failure is logged
once, and the event stays in the log for resume and gap repair. In a request
served by this process's ASGI server the send is handed to the server's event
loop and the request goes on; elsewhere (shell, management command, worker) it
runs to completion before returning.
"""

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.log.prune import maybe_prune
from realtime.ops import metrics
from realtime.protocol.layer import event_message
from realtime.protocol.topics import group_name

logger = logging.getLogger(__name__)

# The event loop of this process's ASGI server, and the process it belongs to
# (a forked worker must not use its parent's).
_server: tuple[asyncio.AbstractEventLoop, int] | None = None


def remember_server_loop() -> None:
    """Record the running loop as this process's server loop (cheap; called for
    every connection and request the realtime ASGI application serves)."""
    global _server
    loop = asyncio.get_running_loop()
    if _server is None or _server[0] is not loop:
        _server = (loop, os.getpid())


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The server's running loop, when called from another thread of this process."""
    if _server is None:
        return None
    loop, pid = _server
    if pid != os.getpid() or not loop.is_running() or _on_loop(loop):
        return None
    return loop


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def send_events(
    logged: dict[str, dict[str, dict[str, Any]]], echo_to: str | None = None
) -> None:
    """Send committed events to their topics' groups; never raises.

    ``logged`` maps each topic to its envelopes per view; ``echo_to`` is the
    connection whose request made the change (it gets them marked as its
    echo). Only for events already in the log: ``publish()`` calls it on
    commit. Calling it for an event that is not logged would break resume and
    gap repair.
    """
    metrics.PUBLISHED.inc(len(logged))
    if logged:
        run_after_commit(
            lambda layer: _group_send_all(layer, logged, echo_to),
            lambda: _send_failed(logged),
        )
    maybe_prune()


def run_after_commit(
    send: Callable[[Any], Awaitable[None]], failed: Callable[[], None]
) -> None:
    """Run ``send(layer)``: on the server's loop without waiting when there is
    one (waiting kept the request's thread, the one that runs this process's
    views, idle until the busy loop got round to it), else to completion.
    Sends handed to the loop leave in the order they were handed over."""
    layer = get_channel_layer()
    if layer is None:
        return
    loop = server_loop()
    if loop is not None:
        loop.call_soon_threadsafe(_queue_send, loop, layer, send, failed)
        return

    async def send_now() -> None:
        await send(layer)

    try:
        async_to_sync(send_now)()
    except Exception:
        failed()


def _send_failed(logged: dict[str, dict[str, dict[str, Any]]]) -> None:
    metrics.DROPPED.labels("send_failed").inc(len(logged))
    first = next(iter(next(iter(logged.values())).values()))
    logger.exception(
        "Could not send %d event(s) to the channel layer (first: %s#%s); "
        "they stay in the log, and clients recover them on resume or gap.",
        len(logged),
        first["topic"],
        first["seq"],
        extra={"trace_id": first["trace_id"] or "-"},
    )


# The last queued send per loop: each send waits for the one before it, so one
# process's events leave in the order their transactions committed.
_send_tails: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def _queue_send(
    loop: asyncio.AbstractEventLoop,
    layer: Any,
    send: Callable[[Any], Awaitable[None]],
    failed: Callable[[], None],
) -> None:
    task = loop.create_task(_send_after(_send_tails.get(loop), layer, send, failed))
    _send_tails[loop] = task

    def forget(done: asyncio.Task) -> None:
        if _send_tails.get(loop) is done:
            del _send_tails[loop]

    task.add_done_callback(forget)


async def _send_after(
    previous: asyncio.Task | None,
    layer: Any,
    send: Callable[[Any], Awaitable[None]],
    failed: Callable[[], None],
) -> None:
    if previous is not None:
        await asyncio.wait([previous])
    try:
        await send(layer)
    except Exception:
        failed()
        # Tried again aside, so that the sends behind it do not wait.
        task = asyncio.get_running_loop().create_task(_send_again(layer, send))
        _resends.add(task)
        task.add_done_callback(_resends.discard)


# Seconds before each further attempt at a send that failed. On the core
# layer, a process whose inbox is on a stopped Redis shard stays a member of
# a topic's group until it leaves it, and every send to that group fails
# meanwhile, for the healthy processes too: a later attempt reaches them.
# Followers drop a copy that comes twice, or after a later one.
RESEND_DELAYS = (0.5, 1.0, 2.0, 4.0)
_resends: set[asyncio.Task] = set()


async def _send_again(layer: Any, send: Callable[[Any], Awaitable[None]]) -> None:
    for delay in RESEND_DELAYS:
        await asyncio.sleep(delay)
        try:
            await send(layer)
        except Exception as error:
            logger.debug("A send failed again (%r)", error)
            continue
        logger.info("A send that had failed went through on a later attempt")
        return


async def _group_send_all(
    layer: Any, logged: dict[str, dict[str, dict[str, Any]]], echo_to: str | None
) -> None:
    for topic, views in logged.items():
        await layer.group_send(group_name(topic), event_message(topic, views, echo_to))
