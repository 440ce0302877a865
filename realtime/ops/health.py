"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work)."""

import asyncio
import itertools
import logging

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import HttpRequest, JsonResponse

from realtime.hub.shards import shard_of
from realtime.hub.watch import deaf
from realtime.protocol.layer import CONTROL_GROUP

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


def probe_group(layer: object) -> str:
    """A group on the shard of the control group, the one shard every
    connection needs: another shard that is down takes only its own topics
    away, and must not take every process out of the load balancer."""
    shard = shard_of(layer, CONTROL_GROUP)
    for number in itertools.count():
        if shard_of(layer, name := f"rt-readyz.{number}") == shard:
            return name
    raise AssertionError("unreachable")


async def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the channel layer answer, else 503 saying which."""
    layer = get_channel_layer()
    failures = {
        "database": await _check("database", sync_to_async(_database_answers)()),
        "channel_layer": await _check(
            "channel_layer",
            layer.group_send(probe_group(layer), {"type": "realtime.noop"}),
        )
        # A send can reach one shard while this process hears from none.
        or ("every shard failed its last check" if deaf(layer) else None),
    }
    status = 200 if not any(failures.values()) else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "unavailable",
            "checks": {name: error or "ok" for name, error in failures.items()},
        },
        status=status,
    )
