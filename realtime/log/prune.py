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

from django.db import transaction
from django.utils import timezone

from realtime.conf import realtime_settings
from realtime.models import Event

logger = logging.getLogger(__name__)

_prune_lock = threading.Lock()
_last_prune = 0.0


def prune_expired(now: Any = None, batch_size: int | None = None) -> int:
    """Delete events older than the retention, oldest first, about
    ``batch_size`` (default ``PRUNE_BATCH_SIZE``) at a time; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=realtime_settings.EVENT_RETENTION
    )
    size = batch_size or realtime_settings.PRUNE_BATCH_SIZE
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"PRUNE_BATCH_SIZE must be a positive integer, not {size!r}")
    total, after = 0, None
    while True:
        deleted, after = delete_batch(cutoff, size, after)
        total += deleted
        if after is None:
            return total


def delete_batch(cutoff: Any, size: int, after: Any = None) -> tuple[int, Any]:
    """Delete the oldest ``size`` events logged before ``cutoff`` (and after
    ``after``, where the previous batch ended), in one statement of its own.

    Returns how many went and where this batch ended, None when it was the
    last. A batch is a range of ``created_at``: its events logged at the same
    instant as its last one go with it, so it may hold a few more than
    ``size``. Each batch starts where the last one ended rather than at the
    oldest event: the index entries of the rows just deleted stay until vacuum,
    and scanning past them again made every batch slower than the one before.
    """
    expired = Event.objects.filter(created_at__lt=cutoff)
    if after is not None:
        expired = expired.filter(created_at__gt=after)
    ordered = expired.order_by("created_at").values_list("created_at", flat=True)
    last = next(iter(ordered[size - 1 : size]), None)
    batch = expired if last is None else expired.filter(created_at__lte=last)
    with transaction.atomic():
        deleted, _ = batch.delete()
    return deleted, last


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
