"""Subscribes' authorizations answered in batches: one thread hop for a crowd.

Policies may query the database, so every subscribe asks them from a thread.
A thousand sockets subscribing in the same second would be a thousand thread
hops, each with its own future, hand-over and connection check. Asked while
one batch runs, they go together in the next: one hop, then each policy's own
queries as before. Each answer is still computed after its caller asked.
"""

import itertools
from typing import Any

from channels.db import database_sync_to_async

from realtime.hub.next_read import BatchedReads, per_loop
from realtime.policies.authorize import authorize_as_now

# Subscribes answered by one thread hop at most.
BATCH_SIZE = 200

Ask = tuple[int, Any, tuple[str, ...], bool]  # (number, user, topics, refresh)


def _answer_all(asks: list[Ask]) -> dict[Ask, Any]:
    """``authorize_as_now`` for each ask; a policy that fails fails its own
    subscribe only."""
    answers: dict[Ask, Any] = {}
    for ask in asks:
        _, user, topics, refresh = ask
        try:
            answers[ask] = authorize_as_now(user, list(topics), refresh)
        except Exception as error:
            answers[ask] = error
    return answers


async def _answer(asks: list[Ask]) -> dict[Ask, Any]:
    return await database_sync_to_async(_answer_all)(asks)


_batches = per_loop(lambda: BatchedReads(_answer, batch_size=BATCH_SIZE))
_numbers = itertools.count()  # tells apart two asks alike


async def authorize_in_batch(
    user: Any, topics: list[str], refresh: bool
) -> tuple[Any | None, dict[str, Any]]:
    """``authorize_as_now(user, topics, refresh)``, answered in the next batch."""
    answer = await _batches().get((next(_numbers), user, tuple(topics), refresh))
    if isinstance(answer, Exception):
        raise answer
    return answer
