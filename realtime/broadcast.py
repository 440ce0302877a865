"""``publish()``: log an event now, send it to its topic's group on commit.

The log entry is written in the caller's transaction, so a rolled-back change
leaves neither a log entry nor a message. The channel-layer send runs only after
commit; if it fails (Redis down) the change still stands, the failure is logged
once, and the event stays in the log for resume and gap repair.
"""

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from . import metrics
from .conf import realtime_settings
from .context import current_trace_id, current_user_id
from .events import ENTITY_TYPE_PATTERN, EVENT_NAME_PATTERN, build_event
from .log import next_seq, prune_expired
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
    envelopes = []
    with transaction.atomic(using=using, savepoint=False):
        for topic in topics:
            envelopes.append(
                build_event(
                    topic=topic,
                    seq=next_seq(topic, using),
                    event=event,
                    entity_type=entity_type,
                    entity_id=entity_id,
                    payload=payload,
                    user_id=user_id,
                    tenant_id=tenant_id,
                    timestamp=now,
                    trace_id=trace_id,
                )
            )
        Event.objects.using(using).bulk_create(
            [
                Event(
                    topic=envelope["topic"],
                    seq=envelope["seq"],
                    event=event,
                    entity_type=entity_type,
                    entity_id=envelope["data"]["entity_id"],
                    payload=payload,
                    user_id=envelope["data"]["user_id"],
                    tenant_id=envelope["data"]["tenant_id"],
                    trace_id=trace_id,
                    created_at=now,
                )
                for envelope in envelopes
            ]
        )
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
        try:
            async_to_sync(_group_send_all)(layer, envelopes)
        except Exception:
            metrics.DROPPED.labels("send_failed").inc(len(envelopes))
            logger.exception(
                "Could not send %d event(s) to the channel layer (first: %s#%s); "
                "they stay in the log, and clients recover them on resume or gap.",
                len(envelopes),
                envelopes[0]["topic"],
                envelopes[0]["seq"],
                extra={"trace_id": envelopes[0]["trace_id"] or "-"},
            )
    maybe_prune()


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
