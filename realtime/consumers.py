"""The WebSocket consumer at ``/ws/``: one per connection.

It parses and validates each client message and dispatches it to a small
handler named after its type; handlers refuse bad input by raising
:class:`ClientError`, which becomes an ``error`` message. Live events from the
channel layer pass a seq check (drop duplicates, fill gaps from the log), the
subscriber's view, and go out. No traceback ever reaches a client.
"""

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import InstanceSessionWrapper
from django.utils import timezone

from . import auth
from .broadcast import EVENT_MESSAGE_TYPE
from .conf import realtime_settings
from .delivery import encode
from .events import format_timestamp
from .permissions import authorize_many
from .stream import GapNotRepairable, TopicStream
from .topics import is_valid_topic, user_group_name

logger = logging.getLogger(__name__)

# Close codes (PROTOCOL.md section 2). 4xxx mirror the HTTP status they mean.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_RATE_LIMITED = 4429
CLOSE_INTERNAL_ERROR = 1011

# Error codes (PROTOCOL.md section 2).
INVALID_JSON = "invalid_json"
INVALID_MESSAGE = "invalid_message"
UNKNOWN_TYPE = "unknown_type"
INVALID_TOPIC = "invalid_topic"
FORBIDDEN = "forbidden"
TOO_MANY_TOPICS = "too_many_topics"
MESSAGE_TOO_LARGE = "message_too_large"
RATE_LIMITED = "rate_limited"
UNAUTHENTICATED = "unauthenticated"
INTERNAL_ERROR = "internal_error"

# Before authentication only these may be sent; anything else is answered with
# an error and waits for an "auth".
PRE_AUTH_TYPES = frozenset({"auth", "ping"})


class ClientError(Exception):
    """A client message was refused; becomes an ``error`` message to the client."""

    def __init__(self, code: str, message: str, topic: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.topic = topic


class TokenBucket:
    """A token bucket: ``rate`` tokens a second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> bool:
        """Spend one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def _message_id(message: dict[str, Any]) -> str | int | None:
    message_id = message.get("id")
    if message_id is None:
        return None
    if isinstance(message_id, bool) or not isinstance(message_id, str | int):
        raise ClientError(INVALID_MESSAGE, "id must be a string or an integer")
    return message_id


def _topic_list(message: dict[str, Any]) -> list[str]:
    topics = message.get("topics")
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ClientError(INVALID_MESSAGE, "topics must be a list of strings")
    return list(dict.fromkeys(topics))  # drop repeats, keep order


def _since(message: dict[str, Any]) -> dict[str, int] | None:
    since = message.get("since")
    if since is None:
        return None
    if not isinstance(since, dict) or not all(
        isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0
        for seq in since.values()
    ):
        raise ClientError(
            INVALID_MESSAGE, "since must map topics to non-negative integer seqs"
        )
    return since


def frame_send(send: Any) -> Any:
    """The ASGI ``send`` beneath channels' session wrapper, for WebSocket frames.

    The wrapper acts only on ``http.response.start`` (session save and cookie);
    on every other message it just reads the lazy session, which was about a
    sixth of the CPU of a live delivery in a fan-out profile.
    """
    wrapper = getattr(send, "__self__", None)
    if isinstance(wrapper, InstanceSessionWrapper):
        return wrapper.real_send
    return send


class RealtimeConsumer(AsyncWebsocketConsumer):
    """Authenticates a connection and streams the events of its topics."""

    async def connect(self) -> None:
        self.send_frame = frame_send(self.base_send)
        self.connection_id = uuid.uuid4().hex
        self.user: Any = None
        self.stream = TopicStream(self.channel_layer, self.channel_name)
        self.closing = False
        self.rate_limiter = TokenBucket(
            realtime_settings.RATE_LIMIT_PER_SECOND, realtime_settings.RATE_LIMIT_BURST
        )
        self.refused_in_a_row = 0
        self.auth_timer: asyncio.Task | None = None
        await self.accept()
        token = auth.token_from_query(self.scope)
        if token is not None:
            user = await auth.user_for_token(token)
            if user is None:
                await self.refuse_credentials(None)
            else:
                await self.start_session(user, None)
        elif (user := auth.session_user(self.scope)) is not None:
            await self.start_session(user, None)
        else:
            self.auth_timer = asyncio.create_task(self.expire_unauthenticated())

    async def disconnect(self, code: int) -> None:
        self.closing = True
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        await self.stream.leave_all()
        if self.user is not None:
            await self.channel_layer.group_discard(
                user_group_name(self.user.pk), self.channel_name
            )

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Live events never touch the database on their common path, so they skip
        # the per-message old-connection cleanup that channels does (a quarter of
        # the CPU of a fan-out); a gap fill goes through database_sync_to_async,
        # which does its own.
        if message["type"] == EVENT_MESSAGE_TYPE:
            try:
                await self.realtime_event(message)
            except Exception:
                logger.exception("Delivering an event failed (%s)", self.connection_id)
                await self.close_with(CLOSE_INTERNAL_ERROR, "internal error")
            return
        await super().dispatch(message)

    # -- sending -------------------------------------------------------------

    async def send_json(self, message: dict[str, Any]) -> None:
        if not self.closing:
            await self.send(text_data=encode(message))

    async def send_error(
        self,
        code: str,
        message: str,
        message_id: object = None,
        topic: str | None = None,
    ) -> None:
        error: dict[str, Any] = {"type": "error", "code": code, "message": message}
        if message_id is not None:
            error["id"] = message_id
        if topic is not None:
            error["topic"] = topic
        await self.send_json(error)

    async def close_with(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code, reason=reason)

    # -- authentication ------------------------------------------------------

    async def start_session(self, user: Any, message_id: object) -> None:
        self.user = user
        if self.auth_timer is not None:
            self.auth_timer.cancel()
            self.auth_timer = None
        await self.channel_layer.group_add(user_group_name(user.pk), self.channel_name)
        welcome: dict[str, Any] = {
            "type": "welcome",
            "connection_id": self.connection_id,
            "user_id": str(user.pk),
            "heartbeat_interval": realtime_settings.HEARTBEAT_INTERVAL,
        }
        if message_id is not None:
            welcome["id"] = message_id
        await self.send_json(welcome)

    async def refuse_credentials(self, message_id: object) -> None:
        await self.send_error(
            UNAUTHENTICATED, "the credentials are not valid", message_id=message_id
        )
        await self.close_with(CLOSE_UNAUTHENTICATED, "unauthenticated")

    async def expire_unauthenticated(self) -> None:
        await asyncio.sleep(realtime_settings.AUTH_TIMEOUT)
        if self.user is None:
            await self.close_with(CLOSE_AUTH_TIMEOUT, "no authentication in time")

    # -- client messages -----------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if self.closing:
            return
        if not self.within_rate():
            if self.refused_in_a_row >= realtime_settings.RATE_LIMIT_CLOSE_AFTER:
                await self.close_with(CLOSE_RATE_LIMITED, "rate limit exceeded")
            else:
                await self.send_error(RATE_LIMITED, "too many messages; slow down")
            return
        message_id = None
        try:
            message = self.parse(text_data, bytes_data)
            message_id = _message_id(message)
            handler = self.handler_for(message)
            await handler(message, message_id)
        except ClientError as error:
            await self.send_error(error.code, error.message, message_id, error.topic)
        except Exception:
            logger.exception(
                "Handling a client message failed (%s)", self.connection_id
            )
            await self.send_error(
                INTERNAL_ERROR, "the server could not handle this message", message_id
            )

    def within_rate(self) -> bool:
        if self.rate_limiter.take():
            self.refused_in_a_row = 0
            return True
        self.refused_in_a_row += 1
        return False

    def parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        limit = realtime_settings.MAX_MESSAGE_BYTES
        if text_data is None:
            if bytes_data is not None and len(bytes_data) > limit:
                raise ClientError(
                    MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes"
                )
            raise ClientError(
                INVALID_JSON, "binary frames are not accepted; send JSON text"
            )
        # A character is at most 4 bytes: skip encoding when it cannot be too large.
        if len(text_data) * 4 > limit and len(text_data.encode()) > limit:
            raise ClientError(MESSAGE_TOO_LARGE, f"frames are limited to {limit} bytes")
        try:
            message = json.loads(text_data)
        except (ValueError, RecursionError):
            raise ClientError(INVALID_JSON, "the frame is not valid JSON") from None
        if not isinstance(message, dict):
            raise ClientError(INVALID_JSON, "a message must be a JSON object")
        return message

    def handler_for(self, message: dict[str, Any]) -> Any:
        kind = message.get("type")
        if not isinstance(kind, str):
            raise ClientError(INVALID_MESSAGE, "type is missing or not a string")
        handler = self.HANDLERS.get(kind)
        if handler is None:
            raise ClientError(UNKNOWN_TYPE, f"unknown message type {kind[:40]!r}")
        if self.user is None and kind not in PRE_AUTH_TYPES:
            raise ClientError(
                INVALID_MESSAGE, "authenticate first with an auth message"
            )
        return getattr(self, handler)

    HANDLERS = {
        "auth": "handle_auth",
        "subscribe": "handle_subscribe",
        "unsubscribe": "handle_unsubscribe",
        "ping": "handle_ping",
    }

    async def handle_ping(self, message: dict[str, Any], message_id: object) -> None:
        pong: dict[str, Any] = {
            "type": "pong",
            "server_time": format_timestamp(timezone.now()),
        }
        if message_id is not None:
            pong["id"] = message_id
        await self.send_json(pong)

    async def handle_auth(self, message: dict[str, Any], message_id: object) -> None:
        token = message.get("token")
        if not isinstance(token, str):
            raise ClientError(INVALID_MESSAGE, "auth needs a token string")
        user = await auth.user_for_token(token)
        if user is None:
            await self.refuse_credentials(message_id)
        elif self.user is None:
            await self.start_session(user, message_id)
        elif user.pk == self.user.pk:
            await self.start_session(user, message_id)
        else:
            raise ClientError(
                INVALID_MESSAGE, "this connection is already signed in as another user"
            )

    async def handle_subscribe(
        self, message: dict[str, Any], message_id: object
    ) -> None:
        topics = _topic_list(message)
        since = _since(message)
        errors: list[tuple[str, str, str]] = []
        valid = []
        for topic in topics:
            if is_valid_topic(topic):
                valid.append(topic)
            else:
                errors.append((INVALID_TOPIC, "not a valid topic", str(topic)[:200]))
        new = [topic for topic in valid if topic not in self.stream]
        limit = realtime_settings.MAX_TOPICS_PER_CONNECTION
        room = max(limit - len(self.stream), 0)
        for topic in new[room:]:
            errors.append(
                (TOO_MANY_TOPICS, f"at most {limit} topics per connection", topic)
            )
        new = new[:room]
        grants = await database_sync_to_async(authorize_many)(self.user, new)
        for topic in new:
            if grants[topic] is None:
                errors.append((FORBIDDEN, "you may not subscribe to this topic", topic))
        allowed = {topic: grant for topic, grant in grants.items() if grant is not None}
        positions = await self.stream.join(allowed, since or {})
        for code, text, topic in errors:
            await self.send_error(code, text, message_id, topic)
        accepted = [topic for topic in valid if topic in self.stream]
        reply: dict[str, Any] = {
            "type": "subscribed",
            "topics": accepted,
            "seqs": {t: self.stream.subscriptions[t].last_seq for t in accepted},
        }
        if since is not None:
            lost = [topic for topic in allowed if not positions[topic].recovered]
            reply["recovered"] = not lost
            if lost:
                reply["unrecovered"] = lost
        if message_id is not None:
            reply["id"] = message_id
        await self.send_json(reply)
        for topic in allowed:
            for event in positions[topic].replay:
                await self.send_text(self.stream.shown(event))

    async def handle_unsubscribe(
        self, message: dict[str, Any], message_id: object
    ) -> None:
        topics = _topic_list(message)
        done = []
        for topic in topics:
            if not is_valid_topic(topic):
                await self.send_error(
                    INVALID_TOPIC, "not a valid topic", message_id, topic[:200]
                )
                continue
            await self.stream.leave([topic])
            done.append(topic)
        reply: dict[str, Any] = {"type": "unsubscribed", "topics": done}
        if message_id is not None:
            reply["id"] = message_id
        await self.send_json(reply)

    # -- channel-layer messages ----------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        """A live event: deliver it in seq order, repairing gaps from the log."""
        if self.closing:
            return
        try:
            texts = await self.stream.accept(message["event"])
        except GapNotRepairable as gap:
            logger.error("Unrepairable gap in %s (%s)", gap, self.connection_id)
            # The client reconnects and resumes with since; the server then says
            # recovered: false for that topic and the client refetches it.
            await self.close_with(CLOSE_INTERNAL_ERROR, "event gap; resume")
            return
        for text in texts:
            await self.send_text(text)

    async def send_text(self, text: str | None) -> None:
        if text is not None and not self.closing:
            await self.send_frame({"type": "websocket.send", "text": text})

    async def realtime_reauthorize(self, message: dict[str, Any]) -> None:
        """Access may have been lost: drop every topic the user may no longer see."""
        if self.user is None or self.closing:
            return
        user = await auth.refreshed_user(self.user)
        if user is None:
            await self.refuse_credentials(None)
            return
        self.user = user
        topics = self.stream.topics()
        grants = await database_sync_to_async(authorize_many)(self.user, topics)
        for topic, grant in grants.items():
            if grant is None:
                await self.stream.leave([topic])
                await self.send_error(
                    FORBIDDEN, "access to this topic was revoked", None, topic
                )
            else:
                self.stream.regrant(topic, grant)
