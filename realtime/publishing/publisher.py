"""``publish()``: log an event now, send it to its topic's group on commit.

The log entry is written in the caller's transaction, so a rolled-back change
leaves neither a log entry nor a message. The channel-layer send runs only after
commit (``sending.py``).
"""

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from realtime.log.store import append
from realtime.models import Event
from realtime.ops.context import current_trace_id, current_user_id
from realtime.protocol.events import ENTITY_TYPE_PATTERN, EVENT_NAME_PATTERN
from realtime.protocol.topics import is_valid_topic
from realtime.publishing.sending import send_events

_UNSET: Any = object()


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
