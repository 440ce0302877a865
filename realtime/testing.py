"""Helpers for testing live models: a JSON WebSocket client on the ASGI app.

Projects that register their own models can use it in their tests::

    client = await SocketClient.connect(application, f"/ws/?token={token}")
    await client.expect("welcome")
    await client.subscribe("gift-list:17")
"""

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator

# How long a test waits for a message that should come; generous for slow CI.
RECEIVE_TIMEOUT = 5

# Every client not yet closed, so that a test's teardown can close what the test
# left open (a refused handshake included: channels' denier keeps reading the
# channel layer until its client disconnects).
_open_clients: list["SocketClient"] = []


class SocketClient:
    """A test WebSocket client speaking the realtime protocol's JSON."""

    def __init__(self, communicator: WebsocketCommunicator) -> None:
        self.communicator = communicator
        self.connected = False

    @classmethod
    async def connect(
        cls,
        application: Any,
        path: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> "SocketClient":
        """Open a connection; ``.connected`` says whether the handshake passed."""
        client = cls(WebsocketCommunicator(application, path, headers=headers or []))
        _open_clients.append(client)
        client.connected, _ = await client.communicator.connect()
        return client

    async def send(self, message: Any) -> None:
        await self.communicator.send_json_to(message)

    async def send_text(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def expect(
        self, kind: str, timeout: float = RECEIVE_TIMEOUT
    ) -> dict[str, Any]:
        """The next message, which must be of type ``kind``."""
        message = await self.receive(timeout)
        assert message["type"] == kind, message
        return message

    async def receive_until(
        self, kind: str, timeout: float = RECEIVE_TIMEOUT
    ) -> list[dict[str, Any]]:
        """Messages up to and including the first of type ``kind``."""
        seen = []
        while True:
            message = await self.receive(timeout)
            seen.append(message)
            if message["type"] == kind:
                return seen

    async def nothing_before(
        self, barrier: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any]:
        """The next message, which must be the ``barrier``; returns it.

        How a test shows that nothing arrived: not by waiting a while (on a slow
        machine the stray message comes later), but by a message the server
        sends after anything it could wrongly have sent, through the same
        ordered path. For events, publish a later one on a topic this
        connection follows; for replies to this connection's own messages, a
        ``ping``'s ``pong`` will do. ``barrier`` tells that message apart.
        """
        message = await self.receive()
        assert barrier(message), f"this came before the barrier: {message}"
        return message

    async def closed_with(self, timeout: float = RECEIVE_TIMEOUT) -> int | None:
        """Read until the server closes; return the close code."""
        while True:
            output = await self.communicator.receive_output(timeout)
            if output["type"] == "websocket.close":
                return output.get("code")

    async def subscribe(self, *topics: str, **extra: Any) -> dict[str, Any]:
        """Subscribe and return the ``subscribed`` reply (errors are skipped)."""
        await self.send({"type": "subscribe", "topics": list(topics), **extra})
        return (await self.receive_until("subscribed"))[-1]

    async def close(self) -> None:
        if self in _open_clients:
            _open_clients.remove(self)
        await self.communicator.disconnect()


async def close_open_clients() -> None:
    """Close every client still open: for a test's teardown, before it empties
    the channel layer, so that no application instance is still reading it."""
    while _open_clients:
        await _open_clients[-1].close()


async def stop_leftover_tasks(timeout: float = 10) -> None:
    """Cancel the tasks a test left on its event loop and wait for them.

    Raises ``AssertionError`` with each task's stack if any is still running
    after ``timeout`` seconds, instead of letting the loop's shutdown wait on it
    forever.
    """
    current = asyncio.current_task()
    leftovers = [task for task in asyncio.all_tasks() if task is not current]
    for task in leftovers:
        task.cancel()
    if not leftovers:
        return
    _, pending = await asyncio.wait(leftovers, timeout=timeout)
    if pending:
        raise AssertionError(
            f"{len(pending)} task(s) did not stop within {timeout}s of being "
            "cancelled:\n" + describe_tasks(pending)
        )


@asynccontextmanager
async def empty_channel_layer(timeout: float = 30) -> AsyncIterator[Any]:
    """Around a test: start it on an empty channel layer (in memory or Redis);
    after it, close the clients it left open, stop its leftover tasks, and empty
    the layer again. A step that hangs fails with the stacks of what waits,
    rather than hanging the run."""
    # A layer instance of the test's own: channels-redis keeps locks per
    # instance, and a receive cancelled at a test's end can leave one bound to
    # that test's event loop, which then breaks the next test's receives.
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    layer = get_channel_layer()
    await _flush(layer, timeout)
    yield layer
    await close_open_clients()
    await stop_leftover_tasks()
    await _flush(layer, timeout)


async def _flush(layer: Any, timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            await layer.flush()
    except TimeoutError:
        cleaners = getattr(layer, "receive_cleaners", [])
        raise AssertionError(
            f"Emptying the channel layer took over {timeout}s. Its pending "
            f"receive cleaners: {cleaners!r}. Tasks of this loop:\n"
            + describe_tasks(asyncio.all_tasks())
        ) from None


def describe_tasks(tasks: Any) -> str:
    """Each task's name and stack, for a failure message."""
    out = io.StringIO()
    for task in tasks:
        task.print_stack(file=out)
    return out.getvalue()
