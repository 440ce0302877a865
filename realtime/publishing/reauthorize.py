"""Asking open connections to re-check their grants, after commit.

Policies that name their dependencies get this for free
(``realtime/policies/dependencies.py``); call these directly for access that
changes in ways a policy cannot declare.
"""

import logging
from collections.abc import Iterable

from django.db import transaction

from realtime.protocol.layer import CONTROL_GROUP, reauthorize_message
from realtime.protocol.topics import user_group_name
from realtime.publishing.sending import run_after_commit

logger = logging.getLogger(__name__)


def reauthorize_users(
    user_ids: Iterable[object],
    using: str = "default",
    ended: Iterable[str] = (),
) -> None:
    """After commit, make the users' open connections re-check every topic.

    Their connections drop, within moments, what they may no longer see, and
    take a changed view for the rest; a deactivated or deleted user's
    connections close, and so does a connection whose session or token no
    longer signs the user in; ``ended`` names credentials (by fingerprint,
    never the secret) that end even if they are not deleted yet.
    """
    ids = sorted({str(user_id) for user_id in user_ids})
    ended = sorted(set(ended))
    if not ids:
        return

    async def send(layer: object) -> None:
        for user_id in ids:
            message = reauthorize_message(ended=ended, user_id=user_id)
            await layer.group_send(user_group_name(user_id), message)

    def failed() -> None:
        logger.exception("Could not ask %d user(s) to re-authorize", len(ids))

    transaction.on_commit(lambda: run_after_commit(send, failed), using=using)


def reauthorize_topics(resource_types: Iterable[str], using: str = "default") -> None:
    """After commit, make every connection that follows a topic of these
    resource types re-check those topics, in every process."""
    types = sorted(set(resource_types))
    if not types:
        return
    message = reauthorize_message(resource_types=types)

    async def send(layer: object) -> None:
        await layer.group_send(CONTROL_GROUP, message)

    def failed() -> None:
        logger.exception("Could not ask followers of %s to re-authorize", types)

    transaction.on_commit(lambda: run_after_commit(send, failed), using=using)
