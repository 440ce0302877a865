"""Builders of the messages the server sends besides events (PROTOCOL.md
section 2), and their one encoding. Events are built in ``events.py``."""

import json
from typing import Any

from django.utils import timezone

from realtime.protocol.events import format_timestamp


def encode(message: dict[str, Any]) -> str:
    """Compact JSON text of a message sent to a client."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def _with_id(message: dict[str, Any], message_id: object) -> dict[str, Any]:
    if message_id is not None:
        message["id"] = message_id
    return message


def error(
    code: str, text: str, message_id: object = None, topic: str | None = None
) -> dict[str, Any]:
    """``{"type": "error", "code", "message", "id"?, "topic"?}``."""
    message: dict[str, Any] = {"type": "error", "code": code, "message": text}
    if topic is not None:
        message["topic"] = topic
    return _with_id(message, message_id)


def welcome(
    connection_id: str, user_id: object, heartbeat: float, message_id: object = None
) -> dict[str, Any]:
    """The reply to a successful authentication."""
    return _with_id(
        {
            "type": "welcome",
            "connection_id": connection_id,
            "user_id": str(user_id),
            "heartbeat_interval": heartbeat,
        },
        message_id,
    )


def pong(message_id: object = None) -> dict[str, Any]:
    """The reply to a ping, with the server's clock."""
    return _with_id(
        {"type": "pong", "server_time": format_timestamp(timezone.now())}, message_id
    )


def subscribed(
    topics: list[str],
    seqs: dict[str, int],
    message_id: object = None,
    unrecovered: list[str] | None = None,
) -> dict[str, Any]:
    """The reply to a subscribe; ``unrecovered`` is given when it had ``since``."""
    message: dict[str, Any] = {"type": "subscribed", "topics": topics, "seqs": seqs}
    if unrecovered is not None:
        message["recovered"] = not unrecovered
        if unrecovered:
            message["unrecovered"] = unrecovered
    return _with_id(message, message_id)


def unsubscribed(topics: list[str], message_id: object = None) -> dict[str, Any]:
    """The reply to an unsubscribe."""
    return _with_id({"type": "unsubscribed", "topics": topics}, message_id)


def published(message_id: object = None) -> dict[str, Any]:
    """The reply to a client event accepted for the topic's other followers."""
    return _with_id({"type": "published"}, message_id)


def client_event(
    topic: str, event: str, data: dict[str, Any], user_id: str
) -> dict[str, Any]:
    """A client event as its recipients get it (PROTOCOL.md section 7)."""
    return {
        "type": "client_event",
        "topic": topic,
        "event": event,
        "data": data,
        "user_id": user_id,
    }


def presence_state(topic: str, present: dict[str, Any]) -> dict[str, Any]:
    """Everyone present in a topic, by user id, as this follower may see them."""
    return {"type": "presence_state", "topic": topic, "present": present}


def presence_diff(
    topic: str, joins: dict[str, Any], leaves: dict[str, Any]
) -> dict[str, Any]:
    """Who arrived and who left, by user id, as this follower may see them."""
    return {"type": "presence_diff", "topic": topic, "joins": joins, "leaves": leaves}
