"""Presence (PROTOCOL.md section 7): who else follows a topic right now.

A part of :class:`~realtime.session.session.Session`. After a topic whose
policy enables presence is followed, the connection is counted present
(unless its subscribe said ``"presence": false``) and gets the topic's
``presence_state``; afterwards each user's first arrival and last departure
anywhere reach it as ``presence_diff``. Changes that arrive while the state is
being read wait for it, so the state never overwrites a later change. A policy
may hide entries, or fields of them, from a view.
"""

import asyncio
import logging
from typing import Any

from realtime.hub.presence import presence_store
from realtime.protocol import layer, messages
from realtime.protocol.topics import group_name

logger = logging.getLogger(__name__)


class Presence:
    """Being present in topics, and hearing who else is."""

    async def show_presence(self, topics: list[str], present: bool = True) -> None:
        """Count this connection present in the topics that have presence (if
        ``present``), and send each one's state."""
        for topic in topics:
            subscription = self.subscriptions.get(topic)
            if subscription is None or not subscription.grant.policy.presence:
                continue
            subscription.presence_held = []
            if present and not subscription.present:
                subscription.present = True
                meta = subscription.grant.policy.presence_meta(self.user)
                entry = await presence_store().join(
                    topic, str(self.user.pk), meta, self.connection_id
                )
                if entry is not None:
                    await self.announce(topic, joins={entry["user_id"]: entry})
            state = await presence_store().state(topic)
            if self.subscriptions.get(topic) is not subscription or not self.writable:
                continue
            shown = self.as_seen(subscription, state)
            self.send(messages.presence_state(topic, shown))
            held, subscription.presence_held = subscription.presence_held, None
            for message in held:
                # What the state already says is no news (this connection's
                # own arrival, say); what it contradicts came after it.
                self.push_presence(
                    {
                        **message,
                        "joins": {
                            u: e for u, e in message["joins"].items() if u not in state
                        },
                        "leaves": {
                            u: e for u, e in message["leaves"].items() if u in state
                        },
                    }
                )

    async def hide_presence(self, topic: str, subscription: Any) -> None:
        """This connection is no longer present in the topic."""
        if not subscription.present:
            return
        subscription.present = False
        entry = await presence_store().leave(
            topic, str(self.user.pk), self.connection_id
        )
        if entry is not None:
            await self.announce(topic, leaves={entry["user_id"]: entry})

    def hide_presence_soon(self, subscriptions: dict[str, Any]) -> None:
        """For a connection that is gone: leave its topics in the background."""
        present = {t: s for t, s in subscriptions.items() if s.present}
        if present:
            task = asyncio.ensure_future(self._hide_all(present))
            task.add_done_callback(_log_failure)

    async def _hide_all(self, subscriptions: dict[str, Any]) -> None:
        for topic, subscription in subscriptions.items():
            await self.hide_presence(topic, subscription)

    async def announce(
        self, topic: str, joins: dict | None = None, leaves: dict | None = None
    ) -> None:
        """Tell every process's followers of the topic."""
        await self.layer.group_send(
            group_name(topic),
            layer.presence_message(
                topic, joins or {}, leaves or {}, sender=self.connection_id
            ),
        )

    def push_presence(self, message: dict[str, Any]) -> None:
        """Take a presence change from the hub, as this view may see it."""
        subscription = self.subscriptions.get(message["topic"])
        if subscription is None or not self.writable:
            return
        if message.get("sender") == self.connection_id:
            return  # its own arrival: its state says so already
        if subscription.presence_held is not None:  # its state is being read
            subscription.presence_held.append(message)
            return
        joins = self.as_seen(subscription, message["joins"])
        leaves = self.as_seen(subscription, message["leaves"])
        if joins or leaves:
            self.send(messages.presence_diff(message["topic"], joins, leaves))

    @staticmethod
    def as_seen(subscription: Any, entries: dict[str, Any]) -> dict[str, Any]:
        """Entries as the subscription's view shows them (some maybe hidden)."""
        grant = subscription.grant
        shown = {}
        for user_id, entry in entries.items():
            seen = grant.policy.present_presence(entry, grant.view)
            if seen is not None:
                shown[user_id] = seen
        return shown


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("Could not leave presence (%r)", task.exception())
