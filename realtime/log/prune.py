"""Pruning the log: events older than the retention go."""

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from django.utils import timezone

from realtime.conf import realtime_settings
from realtime.models import Event

logger = logging.getLogger(__name__)

_prune_lock = threading.Lock()
_last_prune = 0.0


def prune_expired(now: Any = None) -> int:
    """Delete events older than the retention; returns how many went."""
    cutoff = (now or timezone.now()) - timedelta(
        seconds=realtime_settings.EVENT_RETENTION
    )
    deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
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
