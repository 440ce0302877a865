"""Reading and writing the event log: seq allocation, append, replay ranges."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections

from realtime.conf import realtime_settings
from realtime.models import Event, TopicSequence

# One statement both creates a topic's counter and takes the next number; the
# row lock it takes is held until commit, which is what orders seqs by commit.
_NEXT_SEQ_SQL = (
    "INSERT INTO realtime_topic_sequence (topic, last_seq) VALUES (%s, 1) "
    "ON CONFLICT (topic) DO UPDATE SET last_seq = realtime_topic_sequence.last_seq + 1 "
    "RETURNING last_seq"
)


def next_seq(topic: str, using: str = "default") -> int:
    """Take the next seq of a topic; call inside the transaction that logs it."""
    connection = connections[using]
    if connection.vendor in {"postgresql", "sqlite"}:
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_SEQ_SQL, [topic])
            return int(cursor.fetchone()[0])
    row, _ = (
        TopicSequence.objects.using(using)
        .select_for_update()
        .get_or_create(topic=topic)
    )
    row.last_seq += 1
    row.save(update_fields=["last_seq"])
    return row.last_seq


# On PostgreSQL the seq and the log row go in one round trip: the counter's
# upsert feeds the event's insert, under the same row lock.
_APPEND_SQL = (
    "WITH next AS ("
    "INSERT INTO realtime_topic_sequence (topic, last_seq) VALUES (%s, 1) "
    "ON CONFLICT (topic) DO UPDATE SET last_seq = realtime_topic_sequence.last_seq + 1 "
    "RETURNING last_seq) "
    "INSERT INTO realtime_event (topic, seq, event, entity_type, entity_id, "
    "payload, user_id, tenant_id, trace_id, created_at) "
    "SELECT %s, next.last_seq, %s, %s, %s, %s::jsonb, %s, %s, %s, %s FROM next "
    "RETURNING seq"
)


def append(row: Event, using: str = "default") -> Event:
    """Give an unsaved log row its topic's next seq and write it; returns it.

    Call inside the transaction that makes the change: the topic's counter
    stays locked until commit.
    """
    if connections[using].vendor != "postgresql":
        row.seq = next_seq(row.topic, using)
        row.save(using=using, force_insert=True)
        return row
    with connections[using].cursor() as cursor:
        cursor.execute(
            _APPEND_SQL,
            [
                row.topic,
                row.topic,
                row.event,
                row.entity_type,
                row.entity_id,
                json.dumps(row.payload, cls=DjangoJSONEncoder),
                row.user_id,
                row.tenant_id,
                row.trace_id,
                row.created_at,
            ],
        )
        row.seq = int(cursor.fetchone()[0])
    return row


def current_seqs(topics: list[str]) -> dict[str, int]:
    """Each topic's last seq (0 for a topic that never had an event)."""
    found = dict(
        TopicSequence.objects.filter(topic__in=topics).values_list("topic", "last_seq")
    )
    return {topic: found.get(topic, 0) for topic in topics}


def events_between(topic: str, after: int, upto: int) -> list[dict[str, Any]]:
    """The logged events of a topic with ``after < seq <= upto``, in order."""
    rows = Event.objects.filter(topic=topic, seq__gt=after, seq__lte=upto).order_by(
        "seq"
    )
    return [row.as_envelope() for row in rows]


@dataclass
class Position:
    """Where a topic stands for a subscriber: its last seq and what to replay."""

    current: int
    replay: list[dict[str, Any]] = field(default_factory=list)
    recovered: bool = True


def resume_position(topic: str, current: int, since: int | None) -> Position:
    """What a subscriber that last saw ``since`` needs to catch up to ``current``.

    ``recovered`` is false when the log no longer holds every event after
    ``since`` (pruned, or more than ``REPLAY_LIMIT``), or ``since`` is ahead of
    the topic (the server's data was reset): the client must refetch over REST.
    """
    if since is None or since == current:
        return Position(current)
    missing = current - since
    if since > current or missing > realtime_settings.REPLAY_LIMIT:
        return Position(current, recovered=False)
    replay = events_between(topic, since, current)
    if len(replay) != missing:
        return Position(current, recovered=False)
    return Position(current, replay)
