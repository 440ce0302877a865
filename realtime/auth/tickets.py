"""Connection tickets: trade a session or API token for a single-use credential
that lives for seconds, so long-lived tokens stay out of socket URLs and logs."""

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from realtime.auth.credentials import Authenticated, Binding
from realtime.conf import realtime_settings
from realtime.models import ConnectionTicket

# Tickets are told apart from DRF tokens (40 hex digits) by this prefix.
TICKET_PREFIX = "tk_"


def _hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def issue_ticket(user: Any, binding: Binding | None = None) -> str:
    """A new ticket for the user, valid for ``TICKET_TTL`` seconds, once;
    ``binding`` is what it was asked for with (a session, a token)."""
    now = timezone.now()
    ConnectionTicket.objects.filter(expires_at__lt=now).delete()
    ticket = TICKET_PREFIX + secrets.token_urlsafe(32)
    binding = binding or Binding()
    ConnectionTicket.objects.create(
        key_hash=_hash(ticket),
        user=user,
        expires_at=now + timedelta(seconds=realtime_settings.TICKET_TTL),
        session_key=binding.session_key,
        token=binding.token,
    )
    return ticket


def void_tickets(session_key: str | None = None, token: str | None = None) -> int:
    """Delete the unused tickets issued on a session or a token (fingerprint)
    that has ended; returns how many."""
    if session_key is None and token is None:
        return 0
    query = ConnectionTicket.objects.none()
    if session_key is not None:
        query |= ConnectionTicket.objects.filter(session_key=session_key)
    if token is not None:
        query |= ConnectionTicket.objects.filter(token=token)
    return query.delete()[0]


def redeem_ticket(ticket: str) -> Authenticated | None:
    """The active user of an unexpired ticket, which is used up, and what the
    ticket was issued on; else None."""
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
    if not found.user.is_active:
        return None
    return Authenticated(found.user, Binding(found.session_key, found.token))
