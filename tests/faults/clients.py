"""A test client that behaves like realtime.js: it follows topics, remembers the
last seq of each, and after any close reconnects and resumes with ``since``."""

import asyncio
import contextlib
import itertools
import json
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

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
