"""One client interface over the three transports, for the contract suite.

A :class:`Transport` opens a :class:`Session` on some topics, optionally
resuming from a cursor; the session hands out events in arrival order and
keeps the cursor a real client would resume from. Refusals of any kind become
:class:`Refused` with the protocol's error code and the topic it names.
"""

import asyncio
import contextlib
import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import httpx

from realtime.protocol.topics import format_cursor, parse_cursor
from tests.e2e.wsclient import WsClient

RECEIVE_TIMEOUT = 10
# How often the polling client asks when nothing is new: quick, for tests.
POLL_INTERVAL = 0.05


class Refused(Exception):
    """The server refused to open: an error code, and the topic it named."""

    def __init__(self, code: str, topic: str | None = None) -> None:
        super().__init__(f"{code} {topic or ''}")
        self.code = code
        self.topic = topic


@dataclass
class Opened:
    """What the server said on opening: where each topic stands, and recovery.

    ``recovered`` is None when no cursor was given.
    """

    seqs: dict[str, int]
    recovered: bool | None = None
    unrecovered: list[str] = field(default_factory=list)


class Session(ABC):
    """An open subscription on one transport."""

    opened: Opened

    @property
    @abstractmethod
    def cursor(self) -> str:
        """The cursor this client would resume from now."""

    @abstractmethod
    async def next_event(self, timeout: float) -> dict[str, Any]:
        """The next event object (PROTOCOL.md section 1) this client receives."""

    async def events(
        self, count: int, timeout: float = RECEIVE_TIMEOUT
    ) -> list[dict[str, Any]]:
        """The next ``count`` events, in the order they came."""
        return [await self.next_event(timeout) for _ in range(count)]

    @abstractmethod
    async def close(self) -> None: ...


class Transport(ABC):
    """How a client reaches the server's events."""

    name: str

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @abstractmethod
    async def open(
        self, token: str, topics: list[str], cursor: str | None = None
    ) -> Session:
        """Subscribe to ``topics`` (resuming after ``cursor``); raises Refused."""


# -- WebSocket ----------------------------------------------------------------


class WebSocketSession(Session):
    def __init__(self, socket: WsClient, opened: Opened, positions: dict) -> None:
        self.socket = socket
        self.opened = opened
        self.positions = positions

    @property
    def cursor(self) -> str:
        return format_cursor(self.positions)

    async def next_event(self, timeout: float) -> dict[str, Any]:
        while True:
            message = await self.socket.receive(timeout)
            if message["type"] == "event":
                self.positions[message["topic"]] = message["seq"]
                return message
            if message["type"] == "error":
                raise Refused(message["code"], message.get("topic"))

    async def close(self) -> None:
        await self.socket.close()


class WebSocketTransport(Transport):
    name = "websocket"

    async def open(
        self, token: str, topics: list[str], cursor: str | None = None
    ) -> Session:
        url = self.base_url.replace("http://", "ws://") + "/ws/"
        socket = await WsClient.open(url, token)
        first = await socket.receive()
        if first["type"] == "error":
            await socket.close()
            raise Refused(first["code"])
        since = parse_cursor(cursor) if cursor is not None else None
        request: dict[str, Any] = {"type": "subscribe", "topics": topics}
        if since is not None:
            request["since"] = since
        await socket.send(request)
        *errors, reply = await socket.receive_until("subscribed")
        if errors:
            await socket.close()
            raise Refused(errors[0]["code"], errors[0].get("topic"))
        unrecovered = reply.get("unrecovered", [])
        opened = Opened(reply["seqs"], reply.get("recovered"), unrecovered)
        # Replayed events follow the reply: the client stands where it was.
        positions = {
            topic: seq
            if since is None or topic not in since or topic in unrecovered
            else since[topic]
            for topic, seq in reply["seqs"].items()
        }
        return WebSocketSession(socket, opened, positions)


# -- Server-Sent Events -------------------------------------------------------


class SseSession(Session):
    """Reads the stream in the background, message by message, as EventSource."""

    def __init__(self, client: httpx.AsyncClient, response: httpx.Response) -> None:
        self.client = client
        self.response = response
        self.messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.last_event_id = ""
        self.comments = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if "data" in fields or "id" in fields:
                        await self.messages.put(fields)
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        finally:
            await self.messages.put(None)  # the stream ended

    async def message(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next message's fields (``id`` applied as EventSource does)."""
        fields = await asyncio.wait_for(self.messages.get(), timeout)
        if fields is None:
            self.messages.put_nowait(None)
            raise EOFError("the stream ended")
        if "id" in fields:
            self.last_event_id = fields["id"]
        return fields

    @property
    def cursor(self) -> str:
        return self.last_event_id

    async def next_event(self, timeout: float) -> dict[str, Any]:
        while True:
            fields = await self.message(timeout)
            data = json.loads(fields["data"]) if "data" in fields else None
            if fields.get("event") == "error":
                raise Refused(data["code"], data.get("topic"))
            if data is not None and data.get("type") == "event":
                assert fields["event"] == data["event"], fields
                return data

    async def wait_for_comments(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.comments < count:
            assert time.monotonic() < deadline, f"{self.comments} keep-alive(s)"
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        self.reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.reader
        await self.response.aclose()
        await self.client.aclose()


class SseTransport(Transport):
    name = "sse"

    async def open(
        self, token: str, topics: list[str], cursor: str | None = None
    ) -> SseSession:
        client = httpx.AsyncClient(base_url=self.base_url, timeout=RECEIVE_TIMEOUT)
        headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
        if cursor is not None:
            headers["Last-Event-ID"] = cursor
        request = client.build_request(
            "GET",
            "/realtime/sse/",
            params={"topics": ",".join(topics)},
            headers=headers,
        )
        response = await client.send(request, stream=True)
        if response.status_code != 200:
            body = json.loads(await response.aread())
            await response.aclose()
            await client.aclose()
            raise Refused(body["code"], body.get("topic"))
        assert response.headers["content-type"].startswith("text/event-stream")
        session = SseSession(client, response)
        first = await session.message()
        assert first["event"] == "subscribed", first
        reply = json.loads(first["data"])
        session.opened = Opened(
            reply["seqs"], reply.get("recovered"), reply.get("unrecovered", [])
        )
        return session


# -- polling ------------------------------------------------------------------


class PollingSession(Session):
    def __init__(self, transport: "PollingTransport", token: str, topics: list[str]):
        self.transport = transport
        self.token = token
        self.topics = topics
        self.pending: list[dict[str, Any]] = []
        self.position = ""
        self.more = False

    @property
    def cursor(self) -> str:
        return self.position

    async def poll(self) -> dict[str, Any]:
        body = await self.transport.get(self.token, self.topics, self.position or None)
        self.pending += body["events"]
        self.position = body["cursor"]
        self.more = body["more"]
        return body

    async def next_event(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while not self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError("no event in time")
            if not self.more:
                await asyncio.sleep(POLL_INTERVAL)
            await self.poll()
        return self.pending.pop(0)

    async def close(self) -> None:
        pass


class PollingTransport(Transport):
    name = "polling"

    async def get(
        self, token: str, topics: list[str], cursor: str | None
    ) -> dict[str, Any]:
        params = {"topics": ",".join(topics)}
        if cursor is not None:
            params["cursor"] = cursor
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            response = await client.get(
                "/api/realtime/events/",
                params=params,
                headers={"Authorization": f"Token {token}"},
            )
        body = response.json()
        if response.status_code != 200:
            raise Refused(body["code"], body.get("topic"))
        return body

    async def open(
        self, token: str, topics: list[str], cursor: str | None = None
    ) -> Session:
        session = PollingSession(self, token, topics)
        session.position = cursor or ""
        body = await session.poll()
        session.opened = Opened(
            {t: s for t, s in parse_cursor(body["cursor"]).items()},
            body["recovered"] if cursor is not None else None,
            body.get("unrecovered", []),
        )
        return session


TRANSPORTS: dict[str, type[Transport]] = {
    cls.name: cls for cls in (WebSocketTransport, SseTransport, PollingTransport)
}
