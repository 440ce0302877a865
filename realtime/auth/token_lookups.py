"""API tokens looked up in batches: one query for a crowd of connections.

After a deploy or a network blip every client signs in at once, each with its
token; one query per connection is a thread hop and a round trip each.
:func:`token_lookups` runs one lookup at a time per process and event loop;
the tokens asked for meanwhile are looked up together by the next one (which
starts after they were asked for, so a token deleted before a connection
asked is never found for it).
"""

from typing import Any

from channels.db import database_sync_to_async

from realtime.hub.next_read import BatchedReads, per_loop

# Tokens looked up by one query at most.
BATCH_SIZE = 500


def drf_token_users(keys: list[str]) -> dict[str, Any]:
    """The active users owning these DRF tokens, by token (sync, one query)."""
    from rest_framework.authtoken.models import Token

    found = Token.objects.select_related("user").filter(key__in=keys)
    return {token.key: token.user for token in found if token.user.is_active}


async def _read(keys: list[str]) -> dict[str, Any]:
    return await database_sync_to_async(drf_token_users)(keys)


#: The running loop's lookups: ``await token_lookups().get(key)`` is the
#: active user owning the token, or None.
token_lookups = per_loop(lambda: BatchedReads(_read, batch_size=BATCH_SIZE))
