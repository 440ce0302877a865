"""Reading and writing the event log: seq allocation per view, append, replay.

A stream of the log is one view of one topic: ``(topic, view)``, where the
view is the name a topic's policy gives to one kind of recipient ("" for the
only view of a single-view topic). Each stream counts its own seqs.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import Q

from realtime.conf import realtime_settings
from realtime.models import Event, Sequence

# One statement both creates a stream's counter and takes the next number; the
# row lock it takes is held until commit, which is what orders seqs by commit.
_NEXT_SEQ_SQL = (
    "INSERT INTO realtime_sequence (topic, view, last_seq) VALUES (%s, %s, 1) "
    "ON CONFLICT (topic, view) "
    "DO UPDATE SET last_seq = realtime_sequence.last_seq + 1 "
    "RETURNING last_seq"
)


def next_seq(topic: str, view: str = "", using: str = "default") -> int:
    """Take the next seq of one view of a topic; call inside the transaction
    that logs it."""
    connection = connections[using]
    if connection.vendor in {"postgresql", "sqlite"}:
        with connection.cursor() as cursor:
            cursor.execute(_NEXT_SEQ_SQL, [topic, view])
            return int(cursor.fetchone()[0])
    row, _ = (
        Sequence.objects.using(using)
        .select_for_update()
        .get_or_create(topic=topic, view=view)
    )
    row.last_seq += 1
    row.save(update_fields=["last_seq"])
    return row.last_seq


# On PostgreSQL every seq of a change and every log row of it go in one
# statement: its streams' counters are upserted in the order given (one lock
# order for every writer), and each row is inserted with its stream's number,
# under the same row locks, which stay held until the caller's commit.
_APPEND_ROW = (
    "(%s::int, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, "
    "%s::jsonb, %s::varchar, %s::varchar, %s::varchar, %s::timestamptz)"
)
_APPEND_ALL_SQL = (
    "WITH input (n, topic, view, event, entity_type, entity_id, payload, user_id, "
    "tenant_id, trace_id, created_at) AS (VALUES {rows}), "
    "next AS ("
    "INSERT INTO realtime_sequence (topic, view, last_seq) "
    "SELECT topic, view, 1 FROM input ORDER BY n "
    "ON CONFLICT (topic, view) "
    "DO UPDATE SET last_seq = realtime_sequence.last_seq + 1 "
    "RETURNING topic, view, last_seq) "
    "INSERT INTO realtime_event (topic, view, seq, event, entity_type, entity_id, "
    "payload, user_id, tenant_id, trace_id, created_at) "
    "SELECT input.topic, input.view, next.last_seq, input.event, input.entity_type, "
    "input.entity_id, input.payload, input.user_id, input.tenant_id, input.trace_id, "
    "input.created_at FROM input JOIN next USING (topic, view) ORDER BY input.n "
    "RETURNING topic, view, seq"
)


def append(row: Event, using: str = "default") -> Event:
    """Give an unsaved log row its stream's next seq and write it; returns it.

    Call inside the transaction that makes the change: the stream's counter
    stays locked until commit.
    """
    return append_all([row], using)[0]


def append_all(rows: list[Event], using: str = "default") -> list[Event]:
    """Give unsaved log rows, each of a different stream, their streams' next
    seqs and write them; returns them.

    Call inside the transaction that makes the change, as late in it as you
    can: the streams' counters stay locked from here until commit, and every
    other writer of those streams waits for them.
    """
    if len({(row.topic, row.view) for row in rows}) != len(rows):
        raise ValueError("one change logs at most one row per stream")
    if not rows:
        return rows
    if connections[using].vendor != "postgresql":
        for row in rows:
            row.seq = next_seq(row.topic, row.view, using)
            row.save(using=using, force_insert=True)
        return rows
    params: list[Any] = []
    for n, row in enumerate(rows):
        params += [
            n,
            row.topic,
            row.view,
            row.event,
            row.entity_type,
            row.entity_id,
            json.dumps(row.payload, cls=DjangoJSONEncoder),
            row.user_id,
            row.tenant_id,
            row.trace_id,
            row.created_at,
        ]
    sql = _APPEND_ALL_SQL.format(rows=", ".join([_APPEND_ROW] * len(rows)))
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        seqs = {(topic, view): seq for topic, view, seq in cursor.fetchall()}
    for row in rows:
        row.seq = int(seqs[(row.topic, row.view)])
    return rows


def streams_filter(views: dict[str, str]) -> Q:
    """Rows of the given streams: ``{topic: view}``."""
    query = Q()
    for topic, view in views.items():
        query |= Q(topic=topic, view=view)
    return query


def current_seqs(views: dict[str, str]) -> dict[str, int]:
    """Each topic's last seq in the given view (0 where nothing was shown yet)."""
    found = {
        (topic, view): seq
        for topic, view, seq in Sequence.objects.filter(
            topic__in=list(views), view__in=set(views.values())
        ).values_list("topic", "view", "last_seq")
    }
    return {topic: found.get((topic, view), 0) for topic, view in views.items()}


def events_between(
    topic: str, view: str, after: int, upto: int
) -> list[dict[str, Any]]:
    """The events one view of a topic shows with ``after < seq <= upto``, in order."""
    rows = Event.objects.filter(
        topic=topic, view=view, seq__gt=after, seq__lte=upto
    ).order_by("seq")
    return [row.as_envelope() for row in rows]


@dataclass
class Position:
    """Where a topic stands for a subscriber: its last seq and what to replay."""

    current: int
    replay: list[dict[str, Any]] = field(default_factory=list)
    recovered: bool = True


def resume_position(topic: str, view: str, current: int, since: int | None) -> Position:
    """What a subscriber that last saw ``since`` needs to catch up to ``current``.

    ``recovered`` is false when the log no longer holds every event after
    ``since`` (pruned, or more than ``REPLAY_LIMIT``), or ``since`` is ahead of
    the view (the server's data was reset): the client must refetch over REST.
    """
    if since is None or since == current:
        return Position(current)
    missing = current - since
    if since > current or missing > realtime_settings.REPLAY_LIMIT:
        return Position(current, recovered=False)
    replay = events_between(topic, view, since, current)
    if len(replay) != missing:
        return Position(current, recovered=False)
    return Position(current, replay)
