"""Following topics: subscribe and unsubscribe, live events in order.

A part of :class:`~realtime.session.session.Session` (kept apart to stay
readable): the rules every transport shares for joining a topic (join the
group, then read the position, then replay, then the live events held
meanwhile), and for passing on a live event (drop what was seen, fill a gap
from the log first).
"""

import logging
from typing import Any

from realtime.conf import realtime_settings
from realtime.ops import metrics
from realtime.policies.base import Grant
from realtime.protocol import codes, messages
from realtime.protocol.topics import is_valid_topic
from realtime.session.authorizations import authorize_in_batch
from realtime.session.outbox import EVENT, LIVE
from realtime.session.subscriptions import (
    Subscription,
    cursor_of,
    in_order,
    read_positions,
)

logger = logging.getLogger(__name__)


class LayerUnavailable(Exception):
    """The channel layer (or the log) could not take a new subscription."""


class Following:
    """Subscriptions of a session, and the path of a live event through it."""

    subscriptions: dict[str, Subscription]

    def cursor(self) -> str:
        """Where the client would resume from: ``topic@seq,...``."""
        return cursor_of(self.subscriptions)

    async def subscribe(
        self,
        topics: list[str],
        since: dict[str, int] | None,
        message_id: object = None,
        present: bool = True,
    ) -> None:
        """A WebSocket ``subscribe``: an error per refused topic, then one
        ``subscribed`` reply, then each topic's replay (PROTOCOL.md section 2)."""
        async with self.commands:
            if not self.writable:
                return
            errors: list[dict[str, Any]] = []
            valid = []
            for topic in topics:
                if is_valid_topic(topic):
                    valid.append(topic)
                else:
                    errors.append(
                        messages.error(
                            codes.INVALID_TOPIC,
                            "not a valid topic",
                            message_id,
                            str(topic)[:200],
                        )
                    )
            new = [topic for topic in valid if topic not in self.subscriptions]
            again = [t for t in valid if t in self.subscriptions and t in (since or {})]
            limit = realtime_settings.MAX_TOPICS_PER_CONNECTION
            room = max(limit - len(self.subscriptions), 0)
            for topic in new[room:]:
                errors.append(
                    messages.error(
                        codes.TOO_MANY_TOPICS,
                        f"at most {limit} topics per connection",
                        message_id,
                        topic,
                    )
                )
            asked = new[:room] + again
            refresh = not self.user_is_fresh()
            user, grants = await authorize_in_batch(self.user, asked, refresh)
            if user is None:
                self.close(
                    codes.UNAUTHENTICATED_CLOSE,
                    messages.error(
                        codes.UNAUTHENTICATED, "the account is no longer active"
                    ),
                )
                return
            self.user = user
            if refresh:
                self.user_read()
            for topic in asked:
                if grants[topic] is None:
                    errors.append(
                        messages.error(
                            codes.FORBIDDEN,
                            "you may not subscribe to this topic",
                            message_id,
                            topic,
                        )
                    )
                    await self.leave(topic)
            allowed = {t: grant for t, grant in grants.items() if grant is not None}
            try:
                await self.follow(allowed, since or {}, message_id, errors, valid)
                await self.show_presence(list(allowed), present)
            except LayerUnavailable:
                self.close(
                    codes.LAYER_FAILED,
                    messages.error(
                        codes.UNAVAILABLE,
                        "the server cannot subscribe now; retry",
                        message_id,
                    ),
                )

    async def follow(
        self,
        grants: dict[str, Grant],
        since: dict[str, int],
        message_id: object = None,
        errors: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
        asked: list[str] | None = None,
        resuming: bool | None = None,
        refetch: bool = False,
    ) -> None:
        """Follow the granted topics: join each one's group, read positions,
        then queue ``errors``, the ``subscribed`` reply (for the ``asked``
        topics now followed) and each topic's replay after ``since``.

        The group is joined before the position is read: whatever commits
        after the read arrives live (held until the replay is queued), and
        whatever came before is in the log. With ``refetch`` the reply says
        ``recovered: false`` for every topic (their numbering changed). Raises
        :class:`LayerUnavailable` when the layer or the log cannot take them;
        nothing new is followed then.
        """
        added = []
        try:
            for topic, grant in grants.items():
                subscription = self.subscriptions.get(topic)
                if subscription is None:
                    subscription = self.subscriptions[topic] = Subscription(grant)
                    if grant.policy.presence:
                        # Presence changes wait for the topic's state, which
                        # comes after subscribed.
                        subscription.presence_held = []
                    added.append(topic)
                    metrics.SUBSCRIPTIONS.inc()
                    await self.hub.follow(topic, self)
                    if self.released:  # closed meanwhile
                        self.let_go(added)
                        return
                else:  # a re-subscribe with since: replay again
                    subscription.grant = grant
                    subscription.hold()
            positions = await read_positions(
                {topic: grant.view_key for topic, grant in grants.items()}, since
            )
        except Exception as error:
            logger.exception(
                "Following topics failed (%s)",
                type(error).__name__,
                extra=self.log_extra(),
            )
            self.let_go(added)
            for topic in grants:
                if topic in self.subscriptions:  # re-subscribed: carry on as before
                    self.queue_live(self.subscriptions[topic].settle_back())
            raise LayerUnavailable() from error
        if self.released:  # closed meanwhile
            self.let_go(added)
            return
        for error in errors:
            self.send(error)
        asked = list(grants) if asked is None else asked
        accepted = [topic for topic in asked if topic in self.subscriptions]
        if resuming is None:
            resuming = bool(since) or refetch
        lost = [t for t in grants if refetch or not positions[t].recovered]
        self.send(
            messages.subscribed(
                accepted,
                {t: self.subscribed_seq(t, positions) for t in accepted},
                message_id,
                lost if resuming else None,
            )
        )
        for topic in grants:
            position = positions[topic]
            metrics.REPLAYED.inc(len(position.replay))
            resume_from = since[topic] if position.replay else position.current
            held = self.subscriptions[topic].settle(position.current, resume_from)
            for event in position.replay:
                self.outbox.put(EVENT, event)
            self.queue_live(held)

    def let_go(self, topics: list[str]) -> None:
        """Stop following topics whose subscribe did not complete."""
        for topic in topics:
            if self.subscriptions.pop(topic, None) is not None:
                metrics.SUBSCRIPTIONS.dec()
            if self.hub is not None:
                self.hub.abandon(topic, self)

    def subscribed_seq(self, topic: str, positions: dict[str, Any]) -> int:
        if topic in positions:
            return positions[topic].current
        return self.subscriptions[topic].last_seq

    async def unsubscribe(self, topics: list[str], message_id: object = None) -> None:
        """A WebSocket ``unsubscribe``: stop following; reply ``unsubscribed``."""
        async with self.commands:
            done = []
            for topic in topics:
                if not is_valid_topic(topic):
                    self.send_error(
                        codes.INVALID_TOPIC,
                        "not a valid topic",
                        message_id,
                        str(topic)[:200],
                    )
                    continue
                await self.leave(topic)
                done.append(topic)
            self.send(messages.unsubscribed(done, message_id))

    async def leave(self, topic: str) -> None:
        """Stop following a topic (one not followed is ignored)."""
        subscription = self.subscriptions.pop(topic, None)
        if subscription is not None:
            metrics.SUBSCRIPTIONS.dec()
            if self.hub is not None:
                await self.hub.unfollow(topic, self)
            await self.hide_presence(topic, subscription)

    def queue_live(self, changes: list[dict[str, Any]]) -> None:
        for message in changes:
            self.outbox.put(LIVE, message)

    # -- live events ----------------------------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        """Take a live change from the hub (its envelope per view); it is
        written in its turn, as the subscription's view then shows it."""
        subscription = self.subscriptions.get(message["topic"])
        if subscription is None or not self.writable:
            return
        if subscription.held is not None:  # its position is being read
            subscription.held.append(message)
        else:
            self.outbox.put_live(message)

    async def in_order(self, message: dict[str, Any]) -> tuple[dict[str, Any], ...]:
        """The events a live change brings, in order (see :func:`in_order`)."""
        return await in_order(self.subscriptions, message, self.connection_id)
