"""Subscribes' authorizations answered in batches: one thread hop for a crowd.

Policies may query the database, so every subscribe asks them from a thread.
A thousand sockets subscribing in the same second would be a thousand thread
hops, each with its own future, hand-over and connection check. Asked while
one batch runs, they go together in the next: one hop, then each policy's own
queries, asked together too where the policy can (``views_if_permitted``).
Each answer is still computed after its caller asked.
"""

import itertools
from typing import Any

from channels.db import database_sync_to_async

from realtime.hub.next_read import BatchedReads, per_loop
from realtime.policies.authorize import authorize_pairs

# Subscribes answered by one thread hop at most.
BATCH_SIZE = 200

Ask = tuple[int, Any, tuple[str, ...], bool]  # (number, user, topics, refresh)


def _answer_all(asks: list[Ask]) -> dict[Ask, Any]:
    """For each ask, ``(user as the database has it now, {topic: grant})``:
    a long-lived connection must not be granted anything on a staff flag or
    an account the database no longer holds (None: deleted or deactivated).
    ``refresh=False``: the caller read the user a moment ago (the first
    subscribe), and one more read would tell nothing new. The users to read
    again are read in one query, and each policy answers the whole batch's
    topics at once. A policy that fails fails its own subscribes only (their
    answer is the error)."""
    from django.contrib.auth import get_user_model

    stale = {ask[1].pk for ask in asks if ask[3]}
    fresh = (
        {
            user.pk: user
            for user in get_user_model().objects.filter(pk__in=stale, is_active=True)
        }
        if stale
        else {}
    )
    answers: dict[Ask, Any] = {}
    spans: dict[Ask, tuple[Any, int]] = {}
    pairs: list[tuple[Any, str]] = []
    for ask in asks:
        _, user, topics, refresh = ask
        if refresh:
            user = fresh.get(user.pk)
            if user is None:  # deleted or deactivated
                answers[ask] = (None, dict.fromkeys(topics))
                continue
        spans[ask] = (user, len(pairs))
        pairs += [(user, topic) for topic in topics]
    grants = authorize_pairs(pairs)
    for ask, (user, start) in spans.items():
        topics = ask[2]
        mine = grants[start : start + len(topics)]
        failed = next((g for g in mine if isinstance(g, Exception)), None)
        grants_by_topic = dict(zip(topics, mine, strict=True))
        answers[ask] = failed if failed is not None else (user, grants_by_topic)
    return answers


async def _answer(asks: list[Ask]) -> dict[Ask, Any]:
    return await database_sync_to_async(_answer_all)(asks)


_batches = per_loop(lambda: BatchedReads(_answer, batch_size=BATCH_SIZE))
_numbers = itertools.count()  # tells apart two asks alike


async def authorize_in_batch(
    user: Any, topics: list[str], refresh: bool
) -> tuple[Any | None, dict[str, Any]]:
    """The user as the database has it now (unless ``refresh`` is False) and
    a grant or None per topic, answered in the next batch."""
    answer = await _batches().get((next(_numbers), user, tuple(topics), refresh))
    if isinstance(answer, Exception):
        raise answer
    return answer
