"""Client events (PROTOCOL.md section 7): a follower's short-lived message to
the topic's other followers (typing, "is editing"), without a database write.

A part of :class:`~realtime.session.session.Session`. The policy of the topic
says which event names a follower may send and which views receive them; the
event goes to the topic's group, and every process's hub hands it to its
local followers but the sender. Nothing is logged, nothing has a seq,
nothing is replayed.
"""

from typing import Any

from realtime.auth.limits import TokenBucket
from realtime.conf import realtime_settings
from realtime.policies.base import view_key
from realtime.protocol import codes, layer, messages
from realtime.protocol.codes import ClientError
from realtime.protocol.topics import group_name, parse_topic


class ClientEvents:
    """Sending and receiving client events."""

    client_event_bucket: TokenBucket | None = None

    async def send_client_event(self, sent: Any, message_id: object = None) -> None:
        """Pass the event (``topic``, ``event``, ``data``) to the topic's other
        followers, then reply ``published``; a refusal is a
        :class:`ClientError`."""
        subscription = self.subscriptions.get(sent.topic)
        if subscription is None:
            raise ClientError(
                codes.FORBIDDEN, "subscribe to the topic first", sent.topic
            )
        grant = subscription.grant
        identifier = parse_topic(sent.topic).identifier
        if not grant.policy.allows_client_event(
            self.user, identifier, sent.event, grant.view
        ):
            raise ClientError(
                codes.FORBIDDEN, "this client event is not allowed here", sent.topic
            )
        if not self.within_client_event_rate():
            raise ClientError(
                codes.RATE_LIMITED, "too many client events; slow down", sent.topic
            )
        views = [
            view_key(view)
            for view in grant.policy.client_event_views(sent.event, grant.view)
        ]
        if views:
            await self.layer.group_send(
                group_name(sent.topic),
                layer.client_event_message(
                    topic=sent.topic,
                    event=sent.event,
                    data=sent.data,
                    user_id=str(self.user.pk),
                    sender=self.connection_id,
                    views=views,
                ),
            )
        self.send(messages.published(message_id))

    def within_client_event_rate(self) -> bool:
        if self.client_event_bucket is None:
            self.client_event_bucket = TokenBucket(
                realtime_settings.CLIENT_EVENTS_PER_SECOND,
                realtime_settings.CLIENT_EVENTS_BURST,
            )
        return self.client_event_bucket.take()

    def push_client_event(self, message: dict[str, Any]) -> None:
        """Take a client event from the hub: queue it unless this connection
        sent it or its view may not see it."""
        if message["sender"] == self.connection_id:
            return
        subscription = self.subscriptions.get(message["topic"])
        if subscription is None or subscription.grant.view_key not in message["views"]:
            return
        self.send(
            messages.client_event(
                message["topic"], message["event"], message["data"], message["user_id"]
            )
        )
