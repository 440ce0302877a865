"""Re-checking a session's access: the user, the session cookie it signed in
with, and the grant of every topic it follows.

A part of :class:`~realtime.session.session.Session`. A request arrives on the
user's group (``reauthorize_users``: a membership changed, a logout, a user
deactivated) or through the hub for every follower of a resource type
(``reauthorize_topics``); either way the same re-check runs, in turn with the
session's subscribes, so a subscribe in progress cannot slip past it.
"""

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from realtime.auth import credentials
from realtime.policies.authorize import authorize_many
from realtime.protocol import codes, messages

logger = logging.getLogger(__name__)

REVOKED = "access to this topic was revoked"


class Access:
    """Grants that follow changes of who may see what."""

    def follows_any(self, resource_types: frozenset[str]) -> bool:
        """Whether the session follows a topic of one of these resource types."""
        return any(
            topic.partition(":")[0] in resource_types for topic in self.subscriptions
        )

    def reauthorize_soon(self, message: dict[str, Any]) -> None:
        """Re-check in a task of its own (the hub must not wait)."""
        task = asyncio.get_running_loop().create_task(self.reauthorize(message))
        task.add_done_callback(self._report)

    def _report(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "Re-checking a connection's access failed",
                exc_info=task.exception(),
                extra=self.log_extra(),
            )
            self.close(codes.SERVER_ERROR)

    async def reauthorize(self, message: dict[str, Any]) -> None:
        """Drop every followed topic the user may no longer see (``forbidden``),
        take the new view of the others, and close a connection whose user or
        session has ended (``unauthenticated``, 4401)."""
        async with self.commands:
            if self.user is None or not self.writable:
                return
            if not await self.signed_in_still(message):
                logger.info(
                    "What a connection was signed in with ended",
                    extra=self.log_extra(),
                )
                self.close(
                    codes.SESSION_ENDED,
                    messages.error(
                        codes.UNAUTHENTICATED, "the session or token has ended"
                    ),
                )
                return
            user = await credentials.refreshed_user(self.user)
            if user is None:
                self.close(
                    codes.UNAUTHENTICATED_CLOSE,
                    messages.error(
                        codes.UNAUTHENTICATED, "the account is no longer active"
                    ),
                )
                return
            self.user = user
            types = message.get("resource_types")
            topics = [
                topic
                for topic in self.subscriptions
                if not types or topic.partition(":")[0] in types
            ]
            grants = await database_sync_to_async(authorize_many)(user, topics)
            viewed_anew, revoked = {}, []
            for topic, grant in grants.items():
                subscription = self.subscriptions.get(topic)
                if subscription is None:
                    continue
                if grant is None:
                    await self.leave(topic)
                    revoked.append(
                        messages.error(
                            codes.FORBIDDEN,
                            "access to this topic was revoked",
                            None,
                            topic,
                        )
                    )
                elif grant.view_key != subscription.grant.view_key:
                    viewed_anew[topic] = grant
                else:
                    subscription.grant = grant
            if not self.subscriptions and self.transport.ends_when_empty:
                self.close(codes.NOTHING_TO_FOLLOW, *revoked)
                return
            for error in revoked:
                self.send(error)
            if viewed_anew:
                await self.view_anew(viewed_anew)

    async def view_anew(self, grants: dict[str, Any]) -> None:
        """Topics whose view changed (the user became a list's owner, say): the
        new view numbers its events apart, so the client hears an unasked
        ``subscribed`` with the new seqs and ``recovered: false``, refetches
        those topics over REST, and goes on from there."""
        try:
            await self.follow(grants, {}, refetch=True)
        except Exception:
            self.close(codes.LAYER_FAILED)

    async def signed_in_still(self, message: dict[str, Any]) -> bool:
        """Whether the session or token this connection was signed in with
        (directly or through its ticket) still signs its user in."""
        if self.binding.fingerprints() & set(message.get("ended", ())):
            return False  # logging out deletes the session just after the signal
        return await credentials.binding_holds(self.user, self.binding)
