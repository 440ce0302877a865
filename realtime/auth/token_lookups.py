"""API tokens looked up in batches: one query for a crowd of connections.

After a deploy or a network blip every client signs in at once, each with its
token; one query per connection is a thread hop and a round trip each.
:class:`TokenLookups` runs one lookup at a time per process and event loop;
the tokens asked for meanwhile are looked up together by the next one (which
starts after they were asked for, so a token deleted before a connection
asked is never found for it).
"""

import asyncio
from typing import Any

from channels.db import database_sync_to_async

# Tokens looked up by one query at most.
BATCH_SIZE = 500


def drf_token_users(keys: list[str]) -> dict[str, Any]:
    """The active users owning these DRF tokens, by token (sync, one query)."""
    from rest_framework.authtoken.models import Token

    found = Token.objects.select_related("user").filter(key__in=keys)
    return {token.key: token.user for token in found if token.user.is_active}


class TokenLookups:
    """Tokens asked for while a lookup runs are looked up together next."""

    def __init__(self) -> None:
        self.queued: dict[str, list[asyncio.Future]] = {}
        self.running = False
        self.task: asyncio.Task | None = None

    async def user_for(self, key: str) -> Any | None:
        """The active user owning the token, or None."""
        future = asyncio.get_running_loop().create_future()
        self.queued.setdefault(key, []).append(future)
        if not self.running:
            self.running = True
            self.task = asyncio.ensure_future(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self.queued:
                keys = list(self.queued)[:BATCH_SIZE]
                batch = {key: self.queued.pop(key) for key in keys}
                try:
                    users = await database_sync_to_async(drf_token_users)(keys)
                except Exception as error:
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(users.get(key))
        finally:
            self.running = False


_lookups: dict[asyncio.AbstractEventLoop, TokenLookups] = {}


def token_lookups() -> TokenLookups:
    """The running loop's lookups."""
    loop = asyncio.get_running_loop()
    lookups = _lookups.get(loop)
    if lookups is None:
        for old in [other for other in _lookups if other.is_closed()]:
            del _lookups[old]  # tests run many loops in one process
        lookups = _lookups[loop] = TokenLookups()
    return lookups
