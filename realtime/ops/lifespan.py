"""The ASGI lifespan: what a server process does as it starts and stops.

At shutdown (after the server closed its connections) the process gives back
at once what it holds for the whole deployment in Redis, its places in the
per-user connection caps and its presence, instead of leaving them to expire
after ``CONNECTION_COUNT_TTL``: after a deploy, users who come straight back
are not refused for connections that no longer exist, and the others see
them leave at once. Servers that send no lifespan events (daphne) fall back
to the expiry.
"""

import asyncio
import logging
from typing import Any

logger = logging.getLogger(__name__)

# Seconds the shutdown may spend giving back what the process held.
LEAVE_TIMEOUT = 5


async def lifespan(receive: Any, send: Any) -> None:
    """Answer the server's lifespan messages until shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await leave_deployment()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def leave_deployment() -> None:
    """Give back this process's places and presence, best effort."""
    from realtime.hub.registry import registry

    try:
        processes = registry()
        if processes is not None:
            async with asyncio.timeout(LEAVE_TIMEOUT):
                await processes.leave()
    except Exception as error:
        logger.warning(
            "Could not give back this process's connection counts and presence "
            "(%r); they expire after CONNECTION_COUNT_TTL",
            error,
        )
