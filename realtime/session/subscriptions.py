"""What every transport shares: the topics one client follows, how far it has
seen each, and the path of a live event to its bytes.

A :class:`TopicStream` joins topics in the one safe order (join the group,
then read positions and replay from the log), passes live events through the
seq check (drop what was seen, fill gaps from the log first), and encodes each
event once per view. The WebSocket consumer and the SSE stream both use it, so
they deliver the same events in the same order with the same redaction.
"""

from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from realtime.hub.hub import Fanout, Follower, fanout_for
from realtime.log import store as log
from realtime.log.store import Position
from realtime.ops import metrics
from realtime.policies.base import Grant
from realtime.protocol.topics import format_cursor, group_name
from realtime.session.encoding import encoding_cache


class GapNotRepairable(Exception):
    """Events before a live one are missing from the log (pruned, or lost)."""


@dataclass(slots=True)
class Subscription:
    """One followed topic: what the subscriber may see, and how far it has seen."""

    grant: Grant
    last_seq: int


def read_positions(topics: list[str], since: dict[str, int]) -> dict[str, Position]:
    """Each topic's current seq and what to replay after ``since`` (sync, queries)."""
    current = log.current_seqs(topics)
    return {
        topic: log.resume_position(topic, current[topic], since.get(topic))
        for topic in topics
    }


class TopicStream:
    """The topics of one client connection and its position in each."""

    def __init__(
        self, layer: Any, channel_name: str, follower: Follower | None = None
    ) -> None:
        """Events arrive on ``channel_name``'s own group memberships, or, with a
        ``follower``, through the process's shared fan-out (its ``push``)."""
        self.layer = layer
        self.channel_name = channel_name
        self.follower = follower
        self.fanout: Fanout | None = None
        self.subscriptions: dict[str, Subscription] = {}

    def __contains__(self, topic: str) -> bool:
        return topic in self.subscriptions

    def __len__(self) -> int:
        return len(self.subscriptions)

    def topics(self) -> list[str]:
        return list(self.subscriptions)

    def cursor(self) -> str:
        """The resume cursor of the whole stream: ``topic@seq,...``."""
        return format_cursor({t: s.last_seq for t, s in self.subscriptions.items()})

    async def join(
        self, grants: dict[str, Grant], since: dict[str, int]
    ) -> dict[str, Position]:
        """Follow the granted topics; returns each one's position and replay.

        The group is joined before positions are read: whatever commits after
        the read arrives live, and whatever came before is in the log.
        """
        followed = []
        try:
            for topic in grants:
                await self._follow(topic)
                followed.append(topic)
            positions = await database_sync_to_async(read_positions)(
                list(grants), since
            )
        except BaseException:
            for topic in followed:  # none of them is followed after all
                self._abandon(topic)
            raise
        for topic, grant in grants.items():
            self.subscriptions[topic] = Subscription(grant, positions[topic].current)
            metrics.REPLAYED.inc(len(positions[topic].replay))
        metrics.SUBSCRIPTIONS.inc(len(grants))
        return positions

    async def leave(self, topics: list[str]) -> None:
        """Stop following topics (those not followed are ignored)."""
        for topic in topics:
            if self.subscriptions.pop(topic, None) is not None:
                metrics.SUBSCRIPTIONS.dec()
                await self._unfollow(topic)

    async def _follow(self, topic: str) -> None:
        if self.follower is None:
            await self.layer.group_add(group_name(topic), self.channel_name)
            return
        if self.fanout is None or self.fanout.closed:
            self.fanout = fanout_for(self.layer)
        await self.fanout.follow(topic, self.follower)

    def _abandon(self, topic: str) -> None:
        # A connection's own memberships expire with the channel layer.
        if self.fanout is not None and self.follower is not None:
            self.fanout.abandon(topic, self.follower)

    async def _unfollow(self, topic: str) -> None:
        if self.follower is None:
            await self.layer.group_discard(group_name(topic), self.channel_name)
        elif self.fanout is not None:
            await self.fanout.unfollow(topic, self.follower)

    def abandon_all(self) -> None:
        """Forget every topic at once, for a connection that is gone: no event
        reaches it any more; the shared groups are left in the background,
        and a connection's own groups expire with the channel layer."""
        for topic in self.subscriptions:
            self._abandon(topic)
        metrics.SUBSCRIPTIONS.dec(len(self.subscriptions))
        self.subscriptions.clear()

    async def leave_all(self) -> None:
        await self.leave(self.topics())

    def regrant(self, topic: str, grant: Grant) -> None:
        """Replace a followed topic's grant (its view may have changed)."""
        if topic in self.subscriptions:
            self.subscriptions[topic].grant = grant

    def shown(self, event: dict[str, Any]) -> str | None:
        """Advance past a replayed or live event; its text if this client sees it."""
        subscription = self.subscriptions[event["topic"]]
        subscription.last_seq = event["seq"]
        return encoding_cache.text_for(event, subscription.grant)

    async def in_order(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """The events a live one brings, in order, gaps filled from the log first.

        Empty for a topic not followed and for an event already seen. Pass each
        to :meth:`shown`. Raises :class:`GapNotRepairable` when the log no longer
        holds the missing events.
        """
        subscription = self.subscriptions.get(event["topic"])
        if subscription is None:
            return []
        if event["seq"] <= subscription.last_seq:
            metrics.DROPPED.labels("duplicate").inc()
            return []
        if event["seq"] == subscription.last_seq + 1:
            return [event]
        missed = await database_sync_to_async(log.events_between)(
            event["topic"], subscription.last_seq, event["seq"] - 1
        )
        if len(missed) != event["seq"] - 1 - subscription.last_seq:
            metrics.DROPPED.labels("unrepairable_gap").inc()
            raise GapNotRepairable(f"{event['topic']} before seq {event['seq']}")
        metrics.GAPS_REPAIRED.inc()
        return [*missed, event]

    async def accept(self, event: dict[str, Any]) -> list[str]:
        """The texts to send for a live event, in order, gaps filled from the log.

        Empty for a topic not followed, for an event already seen, and for one
        this client may not see. Raises :class:`GapNotRepairable` when the log
        no longer holds the missing events.
        """
        texts = [self.shown(item) for item in await self.in_order(event)]
        return [text for text in texts if text is not None]
