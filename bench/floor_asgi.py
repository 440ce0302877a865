"""The benchmark's floors: the real site plus the least a live update can cost.

Two minimal consumers, each reached by a path of its own; everything else goes
to the real application. The changes are the same REST writes as for the real
path, so the floors run on the same server, channel layer and load, and the
ratio real/floor is what the realtime consumer costs. Never deploy this module.

- **naive floor**, ``/ws/floor/?topic=<topic>``: a consumer built the usual
  Channels way, joining the topic's group once *per socket* and forwarding
  every event that arrives as JSON. It compares the project with a different
  design (one layer membership per socket, each event decoded and dispatched
  once per subscriber).
- **limit floor**, ``/ws/limit/``: the project's own per-process fan-out
  (:mod:`realtime.hub`) with a trivial consumer: accept and say ``welcome``,
  read one ``subscribe``, follow its topics in the hub, forward each event encoded once
  per process. No auth, no policy, no seqs, no presence, no user group: the
  least the design allows, so real/limit is what the project's own code costs.
"""

import asyncio
import json
from collections import deque
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer

from config.asgi import application as site_application
from realtime.hub.hub import hub_for
from realtime.protocol.layer import EVENT as EVENT_MESSAGE_TYPE
from realtime.protocol.topics import group_name
from realtime.transports.hub_fed import HubFed

FLOOR_WS_PATH = "/ws/floor/"
LIMIT_WS_PATH = "/ws/limit/"
SUBSCRIBED = '{"type":"subscribed"}'
WELCOME = '{"type":"welcome"}'


def _event_text(message: dict[str, Any]) -> str:
    """The event of a layer message (its first view, as logged) as JSON."""
    event = next(iter(message["views"].values()))
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


class FloorConsumer(AsyncWebsocketConsumer):
    """Join the topic's group on connect; forward each event as it comes."""

    async def connect(self) -> None:
        query = dict(
            part.split("=", 1)
            for part in self.scope["query_string"].decode().split("&")
            if "=" in part
        )
        self.group = group_name(query.get("topic", "floor:0"))
        await self.accept()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send(text_data=SUBSCRIBED)

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Live events skip channels' per-message database cleanup, as the real
        # path's do (the hub hands them to sessions outside channels' dispatch):
        # a floor must not be slower than what it measures.
        if message["type"] == EVENT_MESSAGE_TYPE:
            await self.send(text_data=_event_text(message))
            return
        if message["type"].startswith("realtime."):
            return  # re-authorization and the like: the floor checks nothing
        await super().dispatch(message)


class LimitConsumer(HubFed, AsyncWebsocketConsumer):
    """Follow the subscribed topics through the process's hub; forward each
    event from a writer task of its own, as a session's outbox does. Like the
    real consumer it has no channel of its own, and its frames skip channels'
    per-message database clean-up."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.hub = None
        self.queue: deque[str] = deque()
        self.writer: asyncio.Task | None = None
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.hub is not None:
                self.hub.detach(self)

    async def dispatch(self, message: dict[str, Any]) -> None:
        await getattr(self, get_handler_name(message))(message)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        raise StopConsumer()  # without channels' per-disconnect database clean-up

    async def connect(self) -> None:
        await self.accept()
        await self.send(text_data=WELCOME)

    async def receive(self, text_data: str | None = None, bytes_data: Any = None):
        if self.hub is not None:
            return
        topics = json.loads(text_data or "{}").get("topics") or []
        self.hub = hub_for(self.channel_layer)
        await self.hub.attach(self)
        for topic in topics:
            await self.hub.follow(topic, self)
        await self.send(text_data=SUBSCRIBED)

    # -- what the hub asks of a member ---------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        # Encoded once per process: the hub hands every follower one message.
        text = message.get("floor_text")
        if text is None:
            text = message["floor_text"] = _event_text(message)
        self.queue.append(text)
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self.write())

    async def write(self) -> None:
        try:
            while self.queue:
                await self.send(text_data=self.queue.popleft())
        except OSError:
            self.queue.clear()
        finally:
            self.writer = None

    def push_client_event(self, message: dict[str, Any]) -> None:
        """Client events are not part of the benchmark."""

    def push_presence(self, message: dict[str, Any]) -> None:
        """Presence is not part of the floor."""

    def follows_any(self, resource_types: frozenset[str]) -> bool:
        return False

    def reauthorize_soon(self, message: dict[str, Any]) -> None:
        """The floor checks nothing."""

    def layer_failed(self) -> None:
        """The floor does not resume."""


floor_consumer = FloorConsumer.as_asgi()
limit_consumer = LimitConsumer.as_asgi()


async def application(scope: dict, receive: Any, send: Any) -> None:
    """The floors' sockets; everything else to the real site."""
    if scope["type"] == "websocket" and scope["path"] == FLOOR_WS_PATH:
        return await floor_consumer(scope, receive, send)
    if scope["type"] == "websocket" and scope["path"] == LIMIT_WS_PATH:
        return await limit_consumer(scope, receive, send)
    return await site_application(scope, receive, send)
