"""One poll: the events after a cursor that a client may see, a page at a time.

The same resume rules as a WebSocket ``subscribe`` with ``since``: a topic
whose missed events are no longer all in the log (pruned, more than
``REPLAY_LIMIT``, or a cursor ahead of the server) is not recovered, and its
position jumps to the present so the client refetches it over REST. Three
queries, whatever the number of topics and events.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from realtime.conf import realtime_settings
from realtime.log import store as log
from realtime.models import Event
from realtime.policies.base import Grant
from realtime.protocol.topics import format_cursor


@dataclass
class Page:
    """What one poll returns: the shown events and where the client now stands."""

    events: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    unrecovered: list[str] = field(default_factory=list)
    more: bool = False

    def cursor(self) -> str:
        """The cursor to poll with next: ``topic@seq,...``."""
        return format_cursor(self.positions)


def _ranges(
    views: dict[str, str], behind: dict[str, int], current: dict[str, int]
) -> Q:
    query = Q()
    for topic, since in behind.items():
        query |= Q(
            topic=topic, view=views[topic], seq__gt=since, seq__lte=current[topic]
        )
    return query


def read_page(grants: dict[str, Grant], since: dict[str, int], limit: int) -> Page:
    """The next page after ``since`` for the granted topics (sync, three queries).

    Each topic is read in the grant's view: its seqs count only what that view
    shows, and its rows are the events as the view shows them. Topics absent
    from ``since`` start at their current seq with no events. ``limit`` bounds
    the log rows read. ``more`` says rows are left: poll again at once.
    """
    views = {topic: grant.view_key for topic, grant in grants.items()}
    current = log.current_seqs(views)
    page = Page(positions=dict(current))
    behind: dict[str, int] = {}
    for topic in grants:
        seq = since.get(topic)
        if seq is None or seq == current[topic]:
            continue
        missing = current[topic] - seq
        if missing < 0 or missing > realtime_settings.REPLAY_LIMIT:
            page.unrecovered.append(topic)
        else:
            behind[topic] = seq
    if behind:
        counts = dict(
            Event.objects.filter(_ranges(views, behind, current))
            .order_by()
            .values("topic")
            .annotate(n=Count("id"))
            .values_list("topic", "n")
        )
        for topic, seq in list(behind.items()):
            if counts.get(topic, 0) != current[topic] - seq:
                page.unrecovered.append(topic)
                del behind[topic]
    if not behind:
        return page
    page.positions.update(behind)
    # Within a view of a topic, ids follow seqs: both are taken under its row lock.
    rows = Event.objects.filter(_ranges(views, behind, current)).order_by("id")
    rows = list(rows[: limit + 1])
    page.more = len(rows) > limit
    stalled: set[str] = set()
    for row in rows[:limit]:
        envelope = row.as_envelope()
        topic = envelope["topic"]
        # Never skip a seq: a row out of line (pruned meanwhile) waits for the
        # next poll, which then says whether the topic is still recoverable.
        if topic in stalled or envelope["seq"] != page.positions[topic] + 1:
            stalled.add(topic)
            page.more = True
            continue
        page.positions[topic] = envelope["seq"]
        page.events.append(envelope)
    return page
