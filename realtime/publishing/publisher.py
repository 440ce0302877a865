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

from realtime.log.store import append_all
from realtime.models import Event
from realtime.ops.context import (
    current_connection_id,
    current_trace_id,
    current_user_id,
)
from realtime.policies.base import view_key
from realtime.policies.registry import policy_for
from realtime.protocol.events import (
    ENTITY_TYPE_PATTERN,
    EVENT_NAME_PATTERN,
    build_event,
)
from realtime.protocol.topics import is_valid_topic, parse_topic
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

    Each topic's policy shows the change to each of its views (``present``);
    each view that shows it logs it with that view's next seq, as it shows it,
    and a view it is hidden from takes no seq. ``user_id`` and ``trace_id``
    default to the current request's. Returns the envelopes as logged, one per
    topic and view that shows the change.
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
    now = timezone.now()
    change = {
        "event": event,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "payload": json_native(payload),
        "user_id": current_user_id() if user_id is _UNSET else user_id,
        "tenant_id": tenant_id,
        "trace_id": current_trace_id() if trace_id is _UNSET else trace_id,
        "timestamp": now,
    }
    planned = [
        (topic, key, row)
        for topic in topics
        for key, row in rows_for(topic, change, now)
    ]
    # One statement takes every seq and writes every row (on PostgreSQL), so
    # the topics' counters stay locked for the rest of the caller's transaction
    # only, not for one round trip per view as well.
    with transaction.atomic(using=using, savepoint=False):
        append_all([row for _, _, row in planned], using)
    logged: dict[str, dict[str, dict[str, Any]]] = {}
    for topic, key, row in planned:
        logged.setdefault(topic, {})[key] = row.as_envelope()
    echo_to = current_connection_id()
    transaction.on_commit(lambda: send_events(logged, echo_to), using=using)
    return [envelope for views in logged.values() for envelope in views.values()]


def rows_for(topic: str, change: dict[str, Any], now: Any) -> list[tuple[str, Event]]:
    """The log rows of a change on one topic: one per view of the topic's
    policy that shows it, as that view shows it, in the policy's view order."""
    policy = policy_for(parse_topic(topic).resource_type)
    base = build_event(topic=topic, seq=0, **change)
    if policy is None:  # nobody may follow it; logged as its single view
        return [("", row_of(base, "", now))]
    rows = []
    for view in policy.views:
        shown = policy.present(base, view)
        if shown is not None:
            rows.append((view_key(view), row_of(shown, view_key(view), now)))
    return rows


def row_of(shown: dict[str, Any], view: str, now: Any) -> Event:
    """An unsaved log row for an event as one view shows it."""
    data = shown["data"]
    return Event(
        topic=shown["topic"],
        view=view,
        event=shown["event"],
        entity_type=data["entity_type"],
        entity_id=str(data["entity_id"]),
        payload=data["payload"],
        user_id=data["user_id"],
        tenant_id=data["tenant_id"],
        trace_id=shown["trace_id"],
        created_at=now,
    )
