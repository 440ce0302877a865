"""``publish()``: log an event now, send it to its topic's group on commit.

The log entry is written in the caller's transaction, so a rolled-back change
leaves neither a log entry nor a message. The channel-layer send runs only after
commit; if it fails (Redis down) the change still stands, the failure is logged
once, and the event stays in the log for resume and gap repair.
"""

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import metrics
from .conf import realtime_settings
from .context import current_trace_id, current_user_id
from .events import ENTITY_TYPE_PATTERN, EVENT_NAME_PATTERN
from .log import append, prune_expired
from .models import Event
from .topics import group_name, is_valid_topic, user_group_name

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "realtime.event"
REAUTHORIZE_MESSAGE_TYPE = "realtime.reauthorize"

_UNSET: Any = object()
_prune_lock = threading.Lock()
_last_prune = 0.0


def json_native(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as plain JSON types (decimals, dates and UUIDs become text)."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def publish(
    topics: Iterable[str],
    event: str,
    *,
    entity_type: str,
    entity_id: object,
    payload: dict[str, Any],
    tenant_id: object = None,
    user_id: object = _UNSET,
    trace_id: str | None = _UNSET,
    using: str = "default",
) -> list[dict[str, Any]]:
    """Log one change on each of its topics and send it there after commit.

    ``user_id`` and ``trace_id`` default to the current request's. Returns the
    envelopes as logged (unfiltered).
    """
    topics = sorted(set(topics))  # one lock order for every writer: fewer deadlocks
    for topic in topics:
        if not is_valid_topic(topic):
            raise ValueError(f"invalid topic {topic!r}")
    if not EVENT_NAME_PATTERN.match(event):
        raise ValueError(f"invalid event name {event!r}")
    if not ENTITY_TYPE_PATTERN.match(entity_type):
        raise ValueError(f"invalid entity type {entity_type!r}")
    if "id" not in payload:
        raise ValueError("an event payload must contain the entity's id")
    if not topics:
        return []
    payload = json_native(payload)
    user_id = current_user_id() if user_id is _UNSET else user_id
    trace_id = current_trace_id() if trace_id is _UNSET else trace_id
    now = timezone.now()
    entity_id = str(entity_id)
    user_id = None if user_id is None else str(user_id)
    tenant_id = None if tenant_id is None else str(tenant_id)
    with transaction.atomic(using=using, savepoint=False):
        envelopes = [
            append(
                Event(
                    topic=topic,
                    event=event,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    payload=payload,
                    user_id=user_id,
                    tenant_id=tenant_id,
                    trace_id=trace_id,
                    created_at=now,
                ),
                using,
            ).as_envelope()
            for topic in topics
        ]
    transaction.on_commit(lambda: send_events(envelopes), using=using)
    return envelopes


def send_events(envelopes: list[dict[str, Any]]) -> None:
    """Send committed events to their groups; never raises.

    Only for events already in the log: ``publish()`` calls it on commit. Calling
    it for an event that is not logged would break resume and gap repair.
    """
    layer = get_channel_layer()
    metrics.PUBLISHED.inc(len(envelopes))
    if layer is not None and envelopes:
        loop = _server_loop()
        if loop is not None:
            # In a request under an ASGI server: hand the send to the server's
            # loop and return. Waiting for it kept the request's thread (the
            # one thread that runs this process's views) idle until the loop,
            # busy delivering earlier events, got round to it.
            loop.call_soon_threadsafe(_queue_send, loop, layer, envelopes)
        else:
            try:
                async_to_sync(_group_send_all)(layer, envelopes)
            except Exception:
                _send_failed(envelopes)
    maybe_prune()


def _send_failed(envelopes: list[dict[str, Any]]) -> None:
    metrics.DROPPED.labels("send_failed").inc(len(envelopes))
    logger.exception(
        "Could not send %d event(s) to the channel layer (first: %s#%s); "
        "they stay in the log, and clients recover them on resume or gap.",
        len(envelopes),
        envelopes[0]["topic"],
        envelopes[0]["seq"],
        extra={"trace_id": envelopes[0]["trace_id"] or "-"},
    )


def _server_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop of the ASGI server whose thread calls this, if any."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    if loop is None or pid != os.getpid() or not loop.is_running():
        return None
    return loop


# The last queued send per loop: each send waits for the one before it, so one
# process's events leave in the order their transactions committed.
_send_tails: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def _queue_send(
    loop: asyncio.AbstractEventLoop, layer: Any, envelopes: list[dict[str, Any]]
) -> None:
    task = loop.create_task(_send_after(_send_tails.get(loop), layer, envelopes))
    _send_tails[loop] = task

    def forget(done: asyncio.Task) -> None:
        if _send_tails.get(loop) is done:
            del _send_tails[loop]

    task.add_done_callback(forget)


async def _send_after(
    previous: asyncio.Task | None, layer: Any, envelopes: list[dict[str, Any]]
) -> None:
    if previous is not None:
        await asyncio.wait([previous])
    try:
        await _group_send_all(layer, envelopes)
    except Exception:
        _send_failed(envelopes)


async def _group_send_all(layer: Any, envelopes: list[dict[str, Any]]) -> None:
    for envelope in envelopes:
        await layer.group_send(
            group_name(envelope["topic"]),
            {"type": EVENT_MESSAGE_TYPE, "event": envelope},
        )


def reauthorize_users(
    user_ids: Iterable[object],
    using: str = "default",
    ended_sessions: Iterable[str] = (),
) -> None:
    """After commit, make the users' open connections re-check every topic.

    Call it when someone loses access (left a family, was deactivated, logged
    out): their connections drop what they may no longer see within moments.
    Connections signed in by a session also check that it still exists;
    ``ended_sessions`` names sessions (by fingerprint, never the key) that end
    even if they are not deleted yet.
    """
    ids = sorted({str(user_id) for user_id in user_ids})
    ended = sorted(set(ended_sessions))
    if ids:
        transaction.on_commit(lambda: _send_reauthorize(ids, ended), using=using)


def _send_reauthorize(user_ids: list[str], ended_sessions: list[str]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message: dict[str, Any] = {"type": REAUTHORIZE_MESSAGE_TYPE}
    if ended_sessions:
        message["ended_sessions"] = ended_sessions

    async def send_all() -> None:
        for user_id in user_ids:
            await layer.group_send(user_group_name(user_id), message)

    try:
        async_to_sync(send_all)()
    except Exception:
        logger.exception("Could not ask %d user(s) to re-authorize", len(user_ids))


def maybe_prune() -> None:
    """Prune the log at most once per ``PRUNE_INTERVAL`` in this process."""
    global _last_prune
    now = time.monotonic()
    if now - _last_prune < realtime_settings.PRUNE_INTERVAL:
        return
    if not _prune_lock.acquire(blocking=False):
        return
    try:
        _last_prune = now
        deleted = prune_expired()
        if deleted:
            logger.info("Pruned %d expired event(s) from the log", deleted)
    except Exception:
        logger.exception("Pruning the event log failed")
    finally:
        _prune_lock.release()
