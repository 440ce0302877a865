"""The benchmark's floor: the real site plus the least a live update can cost.

``/ws/floor/?topic=<topic>`` joins that topic's group and forwards every event
that arrives as JSON: no auth, no subscribe, no seq check, no filtering, one
encoding per subscriber. The changes are the same REST writes as for the real
path, so the floor runs on the same server, channel layer and load, and the
ratio real/floor is what the realtime consumer costs. Everything else goes to
the real application. Never deploy this module.
"""

import json
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer

from config.asgi import application as site_application
from realtime.protocol.layer import EVENT as EVENT_MESSAGE_TYPE
from realtime.protocol.topics import group_name

FLOOR_WS_PATH = "/ws/floor/"


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
        await self.send(text_data='{"type":"subscribed"}')

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Live events skip channels' per-message database cleanup, as the real
        # path's do (the hub hands them to sessions outside channels' dispatch):
        # a floor must not be slower than what it measures.
        if message["type"] == EVENT_MESSAGE_TYPE:
            event = next(iter(message["views"].values()))  # one view, as logged
            text = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
            await self.send(text_data=text)
            return
        if message["type"].startswith("realtime."):
            return  # re-authorization and the like: the floor checks nothing
        await super().dispatch(message)


floor_consumer = FloorConsumer.as_asgi()


async def application(scope: dict, receive: Any, send: Any) -> None:
    """The floor's socket; everything else to the real site."""
    if scope["type"] == "websocket" and scope["path"] == FLOOR_WS_PATH:
        return await floor_consumer(scope, receive, send)
    return await site_application(scope, receive, send)
