"""A WebSocket test client over a real socket (the ``websockets`` library)."""

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

RECEIVE_TIMEOUT = 10


class WsClient:
    """JSON messages over one real WebSocket connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls, url: str, token: str | None = None, **kwargs: Any
    ) -> "WsClient":
        if token is not None:
            url = f"{url}?token={token}"
        return cls(await connect(url, open_timeout=20, **kwargs))

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def receive_until(self, kind: str, timeout: float = RECEIVE_TIMEOUT) -> list:
        seen = []
        while True:
            seen.append(await self.receive(timeout))
            if seen[-1]["type"] == kind:
                return seen

    async def welcome(self) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == "welcome", message
        return message

    async def subscribe(self, *topics: str, **extra: Any) -> dict[str, Any]:
        await self.send({"type": "subscribe", "topics": list(topics), **extra})
        return (await self.receive_until("subscribed"))[-1]

    async def events(self, count: int, timeout: float = RECEIVE_TIMEOUT) -> list[dict]:
        """The next ``count`` event messages (other messages are skipped)."""
        found = []
        while len(found) < count:
            message = await self.receive(timeout)
            if message["type"] == "event":
                found.append(message)
        return found

    async def close(self) -> None:
        await self.connection.close()
