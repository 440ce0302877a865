"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

# A dependency that has not answered in this long counts as down: a load
# balancer's probe usually gives up after a few seconds.
CHECK_TIMEOUT = 2.0


async def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process serves requests; checks nothing else."""
    return JsonResponse({"status": "ok"})


def _database_answers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _check(name: str, check: object) -> str | None:
    try:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a
        # cancellation that arrives as the awaited call completes.
        async with asyncio.timeout(CHECK_TIMEOUT):
            await check
    except Exception as error:
        logger.warning("Readiness check %s failed: %r", name, error)
        return f"{type(error).__name__}"
    return None


async def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer, else 503 saying which."""
    layer = get_channel_layer()
    failures = {
        "database": await _check("database", sync_to_async(_database_answers)()),
        "channel_layer": await _check(
            "channel_layer", layer.group_send("rt-readyz", {"type": "realtime.noop"})
        ),
    }
    status = 200 if not any(failures.values()) else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "unavailable",
            "checks": {name: error or "ok" for name, error in failures.items()},
        },
        status=status,
    )
