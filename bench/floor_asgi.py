"""The benchmark's floor: the real site plus the least a live update can cost.

``/ws/floor/?topic=<topic>`` joins one group and forwards whatever arrives
(no auth, no log, no seq check, no filtering); ``POST /bench/floor/publish/``
with ``{"topic": ..., "text": ...}`` stamps the time into ``text`` and sends it
to that group. Everything
else goes to the real application, so both run in the same processes, on the
same server and channel layer, under the same load. Never deploy this module.
"""

import json
from datetime import UTC, datetime
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from config.asgi import application as site_application
from realtime.topics import group_name

FLOOR_WS_PATH = "/ws/floor/"
FLOOR_PUBLISH_PATH = "/bench/floor/publish/"
FLOOR_MESSAGE_TYPE = "floor.event"
# The load generator's placeholder; replaced by the time of publishing, as the
# real publish() stamps its events.
FLOOR_TIMESTAMP = "2000-01-01T00:00:00.000000Z"


class FloorConsumer(AsyncWebsocketConsumer):
    """Join the topic's group on connect; forward each message's text."""

    async def connect(self) -> None:
        query = dict(
            part.split("=", 1)
            for part in self.scope["query_string"].decode().split("&")
            if "=" in part
        )
        self.group = "floor." + group_name(query.get("topic", "floor:0"))
        await self.accept()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send(text_data='{"type":"subscribed"}')

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # The real consumer skips channels' per-message database cleanup for
        # live events too; a floor must not be slower than what it measures.
        if message["type"] == FLOOR_MESSAGE_TYPE:
            await self.send(text_data=message["text"])
            return
        await super().dispatch(message)


floor_consumer = FloorConsumer.as_asgi()


async def publish(scope: dict, receive: Any, send: Any) -> None:
    """Send the posted text to the topic's floor group; answer 204."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    request = json.loads(body)
    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    await get_channel_layer().group_send(
        "floor." + group_name(request["topic"]),
        {
            "type": FLOOR_MESSAGE_TYPE,
            "text": request["text"].replace(FLOOR_TIMESTAMP, now, 1),
        },
    )
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def application(scope: dict, receive: Any, send: Any) -> None:
    """Route the floor's two paths; everything else to the real site."""
    if scope["type"] == "websocket" and scope["path"] == FLOOR_WS_PATH:
        return await floor_consumer(scope, receive, send)
    if scope["type"] == "http" and scope["path"] == FLOOR_PUBLISH_PATH:
        return await publish(scope, receive, send)
    return await site_application(scope, receive, send)
