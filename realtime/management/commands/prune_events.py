"""``manage.py prune_events``: delete events older than the retention."""

from typing import Any

from django.core.management.base import BaseCommand

from realtime.log.prune import prune_expired


class Command(BaseCommand):
    help = "Delete logged events older than REALTIME['EVENT_RETENTION']."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = prune_expired()
        self.stdout.write(f"Pruned {deleted} event(s).")
