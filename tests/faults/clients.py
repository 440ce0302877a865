"""Test clients that behave like realtime.js: they follow topics, remember the
last seq of each (or the SSE cursor), and after any close reconnect and resume."""

import asyncio
import contextlib
import itertools
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from realtime.session.session import UNAVAILABLE

ABNORMAL_CLOSURE = 1006


def close_code(error: ConnectionClosed) -> int:
    return error.rcvd.code if error.rcvd is not None else ABNORMAL_CLOSURE


class Resumer:
    """Follows ``topics`` over one of ``urls`` (in turn), resuming on every close."""

    def __init__(self, urls: list[str], token: str, topics: list[str]) -> None:
        self.urls = itertools.cycle(urls)
        self.token = token
        self.topics = topics
        self.seqs: dict[str, int] = {}
        self.events: list[dict[str, Any]] = []
        self.closes: list[int] = []
        self.refusals = 0
        self.replies: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def start(self) -> "Resumer":
        self.task = asyncio.create_task(self.run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def run(self) -> None:
        while True:
            url = next(self.urls)
            try:
                async with connect(
                    f"{url}?token={self.token}", open_timeout=10, close_timeout=2
                ) as socket:
                    await self.follow(socket)
            except ConnectionClosed as closed:
                self.closes.append(close_code(closed))
            except (OSError, InvalidHandshake, TimeoutError):
                self.refusals += 1
            await asyncio.sleep(0.2)  # the client's backoff, kept short

    async def follow(self, socket: Any) -> None:
        message = json.loads(await socket.recv())
        if message == UNAVAILABLE:
            # Redis could not count the sign-in (mid-failover, say): the
            # close (1011) follows, and the next attempt may be let in.
            await socket.recv()  # raises ConnectionClosed at that close
        assert message["type"] == "welcome", message
        subscribe: dict[str, Any] = {"type": "subscribe", "topics": self.topics}
        if self.seqs:
            subscribe["since"] = dict(self.seqs)
        await socket.send(json.dumps(subscribe))
        async for text in socket:
            message = json.loads(text)
            if message["type"] == "subscribed":
                self.replies.append(message)
                for topic, seq in message["seqs"].items():
                    self.seqs.setdefault(topic, seq)
                self.ready.set()
            elif message["type"] == "event":
                topic, seq = message["topic"], message["seq"]
                assert seq > self.seqs.get(topic, 0), (topic, seq, self.seqs)
                self.seqs[topic] = seq
                self.events.append(message)
            elif message["type"] == "error":
                self.errors.append(message)

    def seen(self, topic: str) -> list[int]:
        return [event["seq"] for event in self.events if event["topic"] == topic]


class SseResumer:
    """Follows ``topics`` on the SSE stream as an ``EventSource`` would: after
    every end or refusal it reconnects with ``Last-Event-ID``."""

    def __init__(self, base_url: str, token: str, topics: list[str]) -> None:
        self.url = f"{base_url}/realtime/sse/"
        self.token = token
        self.topics = topics
        self.last_event_id: str | None = None
        self.events: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = []
        self.opened = 0  # streams the server started
        self.violations: list[tuple[int, list[int]]] = []
        self.refusals = 0
        self.task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def start(self) -> "SseResumer":
        self.task = asyncio.create_task(self.run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=60)) as http:
            while True:
                headers = {"Authorization": f"Token {self.token}"}
                if self.last_event_id is not None:
                    headers["Last-Event-ID"] = self.last_event_id
                try:
                    async with http.stream(
                        "GET",
                        self.url,
                        params={"topics": ",".join(self.topics)},
                        headers=headers,
                    ) as response:
                        if response.status_code != 200:
                            self.refusals += 1
                        else:
                            self.opened += 1
                            await self.follow(response)
                except httpx.HTTPError:
                    self.refusals += 1
                await asyncio.sleep(0.2)  # EventSource's retry, kept short

    async def follow(self, response: httpx.Response) -> None:
        record: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line:
                field, _, value = line.partition(":")
                record[field] = value.removeprefix(" ")
                continue
            if "data" in record:
                self.handle(record)
            record = {}

    def handle(self, record: dict[str, str]) -> None:
        if "id" in record:
            self.last_event_id = record["id"]
        message = json.loads(record["data"])
        if message["type"] == "subscribed":
            self.replies.append(message)
            self.ready.set()
        elif message["type"] == "event":
            seen = self.seen(message["topic"])
            if seen and message["seq"] != seen[-1] + 1:
                self.violations.append((message["seq"], seen))
            self.events.append(message)

    def seen(self, topic: str) -> list[int]:
        """The seqs received on ``topic``; raises at once if one came out of order."""
        assert not self.violations, (
            f"out of order (seq, seen before): {self.violations}"
        )
        return [event["seq"] for event in self.events if event["topic"] == topic]
