"""Reading a WebSocket client's frames: size, JSON, and the fields of each
message type (PROTOCOL.md section 2). Anything wrong is a :class:`ClientError`
with the protocol's error code, never an exception that escapes."""

import json
import re
from dataclasses import dataclass
from typing import Any

from realtime.conf import realtime_settings
from realtime.protocol import codes, json_input
from realtime.protocol.codes import ClientError
from realtime.protocol.topics import is_valid_topic

# The client messages, and those answered before authentication.
AUTH, SUBSCRIBE, UNSUBSCRIBE, PING = "auth", "subscribe", "unsubscribe", "ping"
PUBLISH = "publish"
CLIENT_TYPES = frozenset({AUTH, SUBSCRIBE, UNSUBSCRIBE, PING, PUBLISH})
PRE_AUTH_TYPES = frozenset({AUTH, PING})
# Client event names: the custom-event grammar in lower case (section 7).
CLIENT_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,39}\Z")


def parse_frame(text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
    """The JSON object of a frame, within the size and depth limits, holding
    only text that can be written back (no lone surrogates)."""
    limit = realtime_settings.MAX_MESSAGE_BYTES
    if text_data is None:
        if bytes_data is not None and len(bytes_data) > limit:
            raise ClientError(
                codes.MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes"
            )
        raise ClientError(
            codes.INVALID_JSON, "binary frames are not accepted; send JSON text"
        )
    # A character is at most 4 bytes: skip encoding when it cannot be too large.
    if len(text_data) * 4 > limit and len(text_data.encode()) > limit:
        raise ClientError(
            codes.MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes"
        )
    try:
        message = json_input.loads(text_data, realtime_settings.MAX_JSON_DEPTH)
    except json_input.JsonRefused as refused:
        raise ClientError(codes.INVALID_JSON, str(refused)) from None
    except ValueError:
        raise ClientError(codes.INVALID_JSON, "the frame is not valid JSON") from None
    if not isinstance(message, dict):
        raise ClientError(codes.INVALID_JSON, "a message must be a JSON object")
    return message


def message_type(message: dict[str, Any], signed_in: bool) -> str:
    """The message's type, if the connection may send it now."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise ClientError(codes.INVALID_MESSAGE, "type is missing or not a string")
    if kind not in CLIENT_TYPES:
        raise ClientError(codes.UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
    if not signed_in and kind not in PRE_AUTH_TYPES:
        raise ClientError(
            codes.INVALID_MESSAGE, "authenticate first with an auth message"
        )
    return kind


def message_id(message: dict[str, Any]) -> str | int | None:
    """The ``id`` a reply echoes: a string or an integer, if any, no longer
    than ``MAX_MESSAGE_ID_CHARS``. A longer one is refused without an echo:
    every reply to the message (one error per refused topic) would repeat it."""
    value = message.get("id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ClientError(codes.INVALID_MESSAGE, "id must be a string or an integer")
    limit = realtime_settings.MAX_MESSAGE_ID_CHARS
    if len(value if isinstance(value, str) else str(value)) > limit:
        raise ClientError(
            codes.INVALID_MESSAGE, f"id must be at most {limit} characters long"
        )
    return value


def topics_per_message() -> int:
    """The most topics one message may name (``MAX_TOPICS_PER_MESSAGE``, by
    default twice ``MAX_TOPICS_PER_CONNECTION``)."""
    limit = realtime_settings.MAX_TOPICS_PER_MESSAGE
    if limit is None:
        limit = 2 * realtime_settings.MAX_TOPICS_PER_CONNECTION
    return limit


def topic_list(message: dict[str, Any]) -> list[str]:
    """``topics``: a list of strings, repeats dropped, order kept, no longer
    than :func:`topics_per_message`. A longer list is refused with one error
    rather than answered with one per topic."""
    topics = message.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ClientError(codes.INVALID_MESSAGE, "topics must be a list of strings")
    limit = topics_per_message()
    if len(topics) > limit:
        raise ClientError(
            codes.TOO_MANY_TOPICS, f"a message may name at most {limit} topics"
        )
    return list(dict.fromkeys(topics))


def since_positions(message: dict[str, Any]) -> dict[str, int] | None:
    """``since``: topics to non-negative integer seqs, if given."""
    since = message.get("since")
    if since is None:
        return None
    if not isinstance(since, dict) or not all(
        isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
        for seq in since.values()
    ):
        raise ClientError(
            codes.INVALID_MESSAGE, "since must map topics to non-negative integer seqs"
        )
    return since


def presence_wanted(message: dict[str, Any]) -> bool:
    """A subscribe's ``presence``: whether to be shown present (default yes)."""
    wanted = message.get("presence", True)
    if not isinstance(wanted, bool):
        raise ClientError(codes.INVALID_MESSAGE, "presence must be true or false")
    return wanted


def token_of(message: dict[str, Any]) -> str:
    """An ``auth`` message's token."""
    token = message.get("token")
    if not isinstance(token, str):
        raise ClientError(codes.INVALID_MESSAGE, "auth needs a token string")
    return token


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """A ``publish`` message: a short-lived event for a topic's other followers."""

    topic: str
    event: str
    data: dict[str, Any]


def client_event(message: dict[str, Any]) -> ClientEvent:
    """A ``publish`` message's fields, checked (PROTOCOL.md section 7)."""
    topic, event, data = message.get("topic"), message.get("event"), message.get("data")
    if not isinstance(topic, str):
        raise ClientError(codes.INVALID_MESSAGE, "topic must be a string")
    if not is_valid_topic(topic):
        raise ClientError(codes.INVALID_TOPIC, "not a valid topic", topic[:200])
    if not isinstance(event, str) or not CLIENT_EVENT_NAME.match(event):
        raise ClientError(
            codes.INVALID_MESSAGE,
            f"event must be a name matching {CLIENT_EVENT_NAME.pattern}",
            topic,
        )
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ClientError(codes.INVALID_MESSAGE, "data must be a JSON object", topic)
    limit = realtime_settings.MAX_CLIENT_EVENT_BYTES
    if (
        len(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode())
        > limit
    ):
        raise ClientError(
            codes.MESSAGE_TOO_LARGE,
            f"a client event's data is limited to {limit} bytes",
            topic,
        )
    return ClientEvent(topic, event, data)
