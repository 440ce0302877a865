"""The topics one session follows, and how far it has seen each.

A :class:`Subscription` is created *pending* before its group is joined: live
events that arrive while the topic's position is read from the log wait in it,
and are passed on after the replay, so nothing committed in between is lost or
sent out of order. A subscribe with ``since`` for a followed topic makes it
pending again for the same reason.
"""

from dataclasses import dataclass, field
from typing import Any

from realtime.conf import realtime_settings
from realtime.log.store import Position
from realtime.ops import metrics
from realtime.policies.base import Grant
from realtime.protocol.topics import format_cursor
from realtime.session.gap_reads import gap_reads
from realtime.session.seq_reads import seq_reads


class GapNotRepairable(Exception):
    """Events before a live one are missing from the log (pruned, or lost)."""


@dataclass(slots=True)
class Subscription:
    """One followed topic: what the subscriber may see, and how far it has seen.

    ``last_seq`` is the last event taken for sending (duplicates and gaps are
    judged against it); ``sent_seq`` the last one written to the client, which
    is where it would resume from. ``held`` is a list while the topic's
    position is being read, None once it is known.
    """

    grant: Grant
    last_seq: int = 0
    sent_seq: int = 0
    held: list[dict[str, Any]] | None = field(default_factory=list)
    # Presence: whether this connection counts as present in the topic, and
    # the changes that wait while its state is being read (None: not waiting).
    present: bool = False
    presence_held: list[dict[str, Any]] | None = None

    def hold(self) -> None:
        """Keep live events back until :meth:`settle` (a position read begins)."""
        if self.held is None:
            self.held = []

    def settle_back(self) -> list[dict[str, Any]]:
        """The read failed: go on from where it was; returns the held events."""
        held, self.held = self.held or [], None
        return held

    def settle(self, current: int, resume_from: int) -> list[dict[str, Any]]:
        """The position is known: returns the live events held meanwhile."""
        held, self.held = self.held or [], None
        self.last_seq = current
        self.sent_seq = resume_from
        return held


async def read_positions(
    views: dict[str, str], since: dict[str, int]
) -> dict[str, Position]:
    """Each topic's current seq in its view (``{topic: view}``) and what to
    replay after ``since`` (as :func:`realtime.log.store.resume_position`
    says). The seqs are read in batches with other subscribes', the replays
    shared with other sessions missing the same events."""
    current = await seq_reads().current(views)
    positions = {}
    for topic, view in views.items():
        now, after = current[topic], since.get(topic)
        if after is None or after == now:
            positions[topic] = Position(now)
        elif after > now or now - after > realtime_settings.REPLAY_LIMIT:
            positions[topic] = Position(now, recovered=False)
        else:
            replay = await gap_reads().events_between(topic, view, after, now)
            if len(replay) == now - after:
                positions[topic] = Position(now, list(replay))
            else:
                positions[topic] = Position(now, recovered=False)
    return positions


def cursor_of(subscriptions: dict[str, Subscription]) -> str:
    """The resume cursor of a session: ``topic@seq,...`` of what it was sent."""
    return format_cursor({t: s.sent_seq for t, s in subscriptions.items()})


async def in_order(
    subscriptions: dict[str, Subscription],
    message: dict[str, Any],
    connection_id: str | None = None,
) -> tuple[dict[str, Any], ...]:
    """The events a live change brings, in order, gaps filled from the log first.

    ``message`` holds the change's envelope per view; the subscription's view
    at this moment decides which one is its; the connection that made the
    change (``connection_id``) gets it marked ``"echo": true``. Empty for a
    topic not followed,
    a change its view does not show, and an event already taken; held back
    when the topic's position is being read again. Raises
    :class:`GapNotRepairable` when the log no longer holds what is missing.
    """
    topic = message["topic"]
    while True:
        subscription = subscriptions.get(topic)
        if subscription is None:
            return ()
        if subscription.held is not None:  # a re-subscribe began meanwhile
            subscription.held.append(message)
            return ()
        view = subscription.grant.view_key
        event = message["views"].get(view)
        if event is None:
            return ()  # hidden from this view: it took no seq here
        seq, after = event["seq"], subscription.last_seq
        if seq <= after:
            metrics.labelled(metrics.DROPPED, "duplicate").inc()
            return ()
        if connection_id is not None and message.get("echo_to") == connection_id:
            event = {**event, "echo": True}  # this connection's own change
        if seq == after + 1:
            subscription.last_seq = seq
            return (event,)
        missed = await gap_reads().events_between(topic, view, after, seq - 1)
        if subscriptions.get(topic) is not subscription or (
            subscription.held is not None
            or subscription.last_seq != after
            or subscription.grant.view_key != view
        ):
            continue  # it changed while the log was read: judge again
        if len(missed) != seq - 1 - after:
            metrics.DROPPED.labels("unrepairable_gap").inc()
            raise GapNotRepairable(f"{topic} before seq {seq}")
        metrics.GAPS_REPAIRED.inc()
        subscription.last_seq = seq
        return (*missed, event)
