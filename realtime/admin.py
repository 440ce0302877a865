"""The event log in the admin: visible, searchable, read-only."""

from typing import Any

from django.contrib import admin

from .models import Event, Sequence


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is written only by ``publish()``; the admin may look, not touch."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = (
        "topic",
        "view",
        "seq",
        "event",
        "entity_type",
        "entity_id",
        "user_id",
        "created_at",
    )
    list_filter = ("event", "entity_type", "view")
    search_fields = ("topic", "entity_id", "trace_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")


@admin.register(Sequence)
class SequenceAdmin(ReadOnlyAdmin):
    list_display = ("topic", "view", "last_seq")
    search_fields = ("topic",)
