"""Consumers whose channel-layer messages all reach them through the hub.

Channels gives every consumer a channel of its own and a task that waits on
it beside the client's messages. A session needs neither: its topics' events,
its user's re-authorization requests and the layer watch all come through the
process's hub (``realtime/hub``). Without them a connection opens with no
layer round trip of its own and holds less (a receive queue, a task and a
channel-layer subscription fewer per connection).
"""

from typing import Any

from channels.exceptions import StopConsumer
from channels.layers import get_channel_layer


class HubFed:
    """Mixed into a channels consumer: dispatch the client's messages one at a
    time, as channels does, with no channel of the consumer's own."""

    channel_layer_alias: str

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
