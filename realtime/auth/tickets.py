"""Connection tickets: trade a session or API token for a single-use credential
that lives for seconds, so long-lived tokens stay out of socket URLs and logs."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from realtime.conf import realtime_settings
from realtime.models import ConnectionTicket

# Tickets are told apart from DRF tokens (40 hex digits) by this prefix.
TICKET_PREFIX = "tk_"


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user: Any) -> str:
    """A new ticket for the user, valid for ``TICKET_TTL`` seconds, once."""
    now = timezone.now()
    ConnectionTicket.objects.filter(expires_at__lt=now).delete()
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    ConnectionTicket.objects.create(
        key_hash=_hash(ticket),
        user=user,
        expires_at=now + timedelta(seconds=realtime_settings.TICKET_TTL),
    )
    return ticket


def redeem_ticket(ticket: str) -> Any | None:
    """The active user of an unexpired ticket, which is used up; else None."""
    if not ticket.startswith(TICKET_PREFIX) or len(ticket) > 128:
        return None
    with transaction.atomic():
        found = (
            ConnectionTicket.objects.select_related("user")
            .filter(key_hash=_hash(ticket), expires_at__gte=timezone.now())
            .first()
        )
        # Deleting by primary key and counting makes two redemptions race safely:
        # only one of them deletes the row.
        if (
            found is None
            or ConnectionTicket.objects.filter(pk=found.pk).delete()[0] != 1
        ):
            return None
    return found.user if found.user.is_active else None
