"""The event: its names, the one builder of its envelope, and its schema check."""

import json
import re
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

ADDED = "ADDED"
UPDATED = "UPDATED"
DELETED = "DELETED"
STATUS_CHANGED = "STATUS_CHANGED"
STANDARD_EVENTS = (ADDED, UPDATED, DELETED, STATUS_CHANGED)

EVENT_NAME_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,39}\Z")
ENTITY_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,39}\Z")


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``: 2026-11-27T23:59:01.123456Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _optional_id(value: object) -> str | None:
    return None if value is None else str(value)


def build_event(
    *,
    topic: str,
    seq: int,
    event: str,
    entity_type: str,
    entity_id: object,
    payload: dict[str, Any],
    user_id: object,
    tenant_id: object,
    timestamp: datetime | str,
    trace_id: str | None,
) -> dict[str, Any]:
    """Build the envelope every transport sends (PROTOCOL.md section 1).

    This is the only place an event object is put together.
    """
    return {
        "type": "event",
        "topic": topic,
        "seq": seq,
        "event": event,
        "data": {
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "payload": payload,
            "user_id": _optional_id(user_id),
            "tenant_id": _optional_id(tenant_id),
            "timestamp": timestamp
            if isinstance(timestamp, str)
            else format_timestamp(timestamp),
        },
        "trace_id": trace_id,
    }


@cache
def event_schema() -> dict[str, Any]:
    """The JSON Schema of an event, as shipped in ``realtime/protocol/``."""
    text = (
        resources.files("realtime.protocol").joinpath("event.schema.json").read_text()
    )
    return json.loads(text)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(event_schema())


def validation_errors(event: object) -> list[str]:
    """Every way the object breaks the event schema, as readable lines."""
    errors = []
    for error in sorted(_validator().iter_errors(event), key=lambda e: list(e.path)):
        where = "/".join(str(part) for part in error.path) or "(the event)"
        errors.append(f"{where}: {error.message}")
    return errors
