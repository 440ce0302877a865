"""Pruning the log: events older than the retention go, a bounded batch at a time.

One ``DELETE`` of a day's expired events would be one long transaction: on
SQLite it holds the database's write lock throughout, so every writer waits for
it; on PostgreSQL it holds back vacuum and floods the disk in one go. Batches of
``PRUNE_BATCH_SIZE`` rows, each its own short transaction, let writers and
replays in between.
"""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from realtime.conf import realtime_settings
from realtime.models import Event

logger = logging.getLogger(__name__)

_prune_lock = threading.Lock()
_last_prune = 0.0


def prune_expired(now: Any = None, batch_size: int | None = None) -> int:
    """Delete events older than the retention, ``batch_size`` (default
    ``PRUNE_BATCH_SIZE``) at a time; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=realtime_settings.EVENT_RETENTION
    )
    size = batch_size or realtime_settings.PRUNE_BATCH_SIZE
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"PRUNE_BATCH_SIZE must be a positive integer, not {size!r}")
    total = 0
    while True:
        deleted = delete_batch(cutoff, size)
        total += deleted
        if deleted < size:
            return total


def delete_batch(cutoff: Any, size: int) -> int:
    """Delete at most ``size`` of the oldest events logged before ``cutoff``,
    in a transaction of their own; returns how many went."""
    oldest = (
        Event.objects.filter(created_at__lt=cutoff)
        .order_by("created_at")
        .values("id")[:size]
    )
    with transaction.atomic():
        if not connection.features.allow_sliced_subqueries_with_in:
            oldest = list(oldest.values_list("id", flat=True))  # MySQL
        deleted, _ = Event.objects.filter(id__in=oldest).delete()
    return deleted


def maybe_prune() -> None:
    """Prune at most once per ``PRUNE_INTERVAL`` in this process; never raises."""
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
