"""The event log and the sequences that number it, one per view of a topic."""

from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from realtime.protocol.events import build_event

# Longest topic the grammar allows: 40 + ":" + 64.
TOPIC_MAX_LENGTH = 105


# Longest view name a policy may declare; "" is the view of single-view topics.
VIEW_MAX_LENGTH = 40


class Sequence(models.Model):
    """The last ``seq`` given out in one view of one topic.

    Each view of a topic (what one kind of recipient is shown of it) counts only
    the events it shows, so a recipient sees no gap where an event was hidden
    from it. The row is locked from the moment a transaction takes a number
    until that transaction ends, so a view's seqs are gapless and follow commit
    order across every server process. Rows are never pruned: seqs never restart.
    """

    topic = models.CharField(max_length=TOPIC_MAX_LENGTH)
    view = models.CharField(max_length=VIEW_MAX_LENGTH, blank=True, default="")
    last_seq = models.BigIntegerField(default=0)

    class Meta:
        db_table = "realtime_sequence"
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "view"], name="realtime_sequence_topic_view"
            )
        ]

    def __str__(self) -> str:
        view = f" ({self.view})" if self.view else ""
        return f"{self.topic}{view} @ {self.last_seq}"


class Event(models.Model):
    """One published event as one view of its topic shows it, kept for resume,
    gap repair and polling. A change seen by two views is two rows, each with
    that view's seq and presentation; a view it is hidden from has none."""

    topic = models.CharField(max_length=TOPIC_MAX_LENGTH)
    view = models.CharField(max_length=VIEW_MAX_LENGTH, blank=True, default="")
    seq = models.BigIntegerField()
    event = models.CharField(max_length=40)
    entity_type = models.CharField(max_length=40)
    entity_id = models.CharField(max_length=64)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    # Null, not "", is the wire format's "no user / no tenant / no trace".
    user_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    tenant_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    trace_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "realtime_event"
        ordering = ["topic", "view", "seq"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "view", "seq"], name="realtime_event_topic_view_seq"
            )
        ]

    def __str__(self) -> str:
        view = f"[{self.view}]" if self.view else ""
        return (
            f"{self.topic}{view}#{self.seq} {self.event} "
            f"{self.entity_type}:{self.entity_id}"
        )

    def as_envelope(self) -> dict[str, Any]:
        """The event as clients receive it (before per-recipient filtering)."""
        return build_event(
            topic=self.topic,
            seq=self.seq,
            event=self.event,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            payload=self.payload,
            user_id=self.user_id,
            tenant_id=self.tenant_id,
            timestamp=self.created_at,
            trace_id=self.trace_id,
        )


class ConnectionTicket(models.Model):
    """A short-lived, single-use credential for opening one connection.

    For clients that cannot send cookies: they trade their session or API token
    for a ticket and put the ticket, not the long-lived token, in the socket URL,
    where proxies and access logs may see it. Only a hash of the ticket is stored.
    It remembers what it was issued on (the session, or the token's
    fingerprint): a logout or a deleted token voids it, and ends the connection
    it opened.
    """

    key_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.DateTimeField(db_index=True)
    session_key = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    token = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    class Meta:
        db_table = "realtime_connection_ticket"

    def __str__(self) -> str:
        return f"ticket for user {self.user_id} until {self.expires_at:%H:%M:%S}"
