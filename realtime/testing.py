"""Helpers for testing live models: a JSON WebSocket client on the ASGI app.

Projects that register their own models can use it in their tests::

    client = await SocketClient.connect(application, f"/ws/?token={token}")
    await client.expect("welcome")
    await client.subscribe("gift-list:17")
"""

from typing import Any

from channels.testing import WebsocketCommunicator

# How long a test waits for a message that should come; generous for slow CI.
RECEIVE_TIMEOUT = 5


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

    async def assert_silent(self, timeout: float = 0.3) -> None:
        """Nothing arrives within ``timeout`` seconds."""
        assert await self.communicator.receive_nothing(timeout=timeout)

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
        await self.communicator.disconnect()
